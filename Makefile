# PeerSync. `make run` starts the desktop app; `make test` runs every test.
# Both install the system packages they need on Debian/Ubuntu (apt-get) and
# say what to install elsewhere. Go modules come from the module proxy.

GO        ?= go
RUN_PKGS  := gcc pkg-config libgl1-mesa-dev xorg-dev
TEST_PKGS := $(RUN_PKGS) gnome-keyring dbus-x11 iproute2 xvfb x11-utils imagemagick

# install-pkgs installs the Debian packages in $(1) that are missing.
define install-pkgs
	@missing=""; \
	if command -v dpkg >/dev/null 2>&1; then \
	  for p in $(1); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	fi; \
	if [ -n "$$missing" ]; then \
	  if command -v apt-get >/dev/null 2>&1; then \
	    sudo=""; [ "$$(id -u)" = 0 ] || sudo=sudo; \
	    echo "installing system packages:$$missing"; \
	    $$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq $$missing >/dev/null; \
	  else \
	    echo "please install the equivalents of:$$missing"; \
	  fi; \
	elif ! command -v dpkg >/dev/null 2>&1; then \
	  echo "not a Debian system: make sure a C compiler and OpenGL/X11 development files are installed (see README)"; \
	fi
endef

.PHONY: run test deps-run deps-test build headless vet

run: deps-run
	$(GO) run . $(ARGS)

build: deps-run
	$(GO) build -o peersync .

headless:
	CGO_ENABLED=0 $(GO) build -tags headless -o peersync-headless .

deps-run:
	$(call install-pkgs,$(RUN_PKGS))

deps-test:
	$(call install-pkgs,$(TEST_PKGS))

vet:
	$(GO) vet ./...

# The whole suite: vet, the race-enabled tests inside a D-Bus session with a
# gnome-keyring unlocked with a throwaway password in a throwaway data home
# (so the keyring tests use a real Secret Service and never touch yours),
# and the engine and the headless binary built without cgo.
test: deps-test vet
	CGO_ENABLED=0 $(GO) build -tags headless -o /dev/null .
	CGO_ENABLED=0 $(GO) test -run '^$$' ./syncengine/... ./discovery/...
	dbus-run-session -- sh -c 'export XDG_DATA_HOME=$$(mktemp -d); \
	  printf peersync-test | gnome-keyring-daemon --unlock --components=secrets >/dev/null && \
	  PEERSYNC_REQUIRE_KEYRING=1 $(GO) test -race -timeout 20m ./...'
