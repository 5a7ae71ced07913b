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

.PHONY: run test bench deps-run deps-test build headless vet staticcheck print-version \
	package-linux package-windows smoke-windows deps-windows deps-wine fyne-tool

# VERSION is the app version in FyneApp.toml; every build stamps it into
# app.Version so --version, the About box and the package names agree.
VERSION := $(shell awk -F'"' '/^[[:space:]]*Version[[:space:]]*=/ {print $$2; exit}' FyneApp.toml)
VERSION_LDFLAGS := -X peersync/app.Version=$(VERSION)

run: deps-run
	$(GO) run . $(ARGS)

build: deps-run
	$(GO) build -ldflags "$(VERSION_LDFLAGS)" -o peersync .

headless:
	CGO_ENABLED=0 $(GO) build -tags headless -ldflags "$(VERSION_LDFLAGS)" -o peersync-headless .

print-version:
	@echo $(VERSION)

deps-run:
	$(call install-pkgs,$(RUN_PKGS))

deps-test:
	$(call install-pkgs,$(TEST_PKGS))

vet:
	$(GO) vet ./...

# staticcheck (honnef.co/go/tools) is installed into the gitignored dist/tools,
# not added to go.mod; it checks both builds (with and without the GUI).
STATICCHECK_VERSION := v0.8.2
STATICCHECK         := $(CURDIR)/dist/tools/staticcheck-$(STATICCHECK_VERSION)/staticcheck

$(STATICCHECK):
	GOBIN=$(dir $(STATICCHECK)) $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)

staticcheck: $(STATICCHECK)
	$(STATICCHECK) ./...
	$(STATICCHECK) -tags headless ./...

# The whole suite: vet and staticcheck; the headless binary built, and the
# engine and discovery type-checked with their tests (vet), without cgo;
# then the race-enabled tests inside a D-Bus session with a gnome-keyring
# unlocked with a throwaway password in a throwaway data home (so the
# keyring tests use a real Secret Service and never touch yours), which
# also build and check the release packages (Linux, and Windows under Wine).
test: deps-test vet staticcheck
	CGO_ENABLED=0 $(GO) build -tags headless -o /dev/null .
	CGO_ENABLED=0 $(GO) vet ./syncengine/... ./discovery/...
	cd bootlocale && $(GO) test ./...   # its own module: ./... below skips it
	dbus-run-session -- sh -c 'export XDG_DATA_HOME=$$(mktemp -d); \
	  printf peersync-test | gnome-keyring-daemon --unlock --components=secrets >/dev/null && \
	  PEERSYNC_REQUIRE_KEYRING=1 PEERSYNC_WINE_SMOKE=1 $(GO) test -race -timeout 30m ./...'

# The end-to-end replication benchmarks: two real peersync processes on
# 127.0.0.1 per workload (bench/). BENCH narrows them (a -bench pattern),
# COUNT repeats them for benchstat, SG_BIN adds Sync Gateway's replicator.
BENCH ?= Replication
COUNT ?= 1
bench:
	$(GO) test -run '^$$' -bench '$(BENCH)' -benchtime 1x -count $(COUNT) -timeout 60m ./bench/

# ---- Release packages (everything lands in the gitignored dist/) ----------
#
# The fyne tool writes into the source directory while it packages (it injects
# a metadata file, a Windows resource .syso, bumps Build in FyneApp.toml), so
# each package is built from a copy of the sources in dist/stage/, never in
# the working tree that others may be building at the same time.

FYNE_TOOL_VERSION := v1.7.4
FYNE              := $(CURDIR)/dist/tools/fyne-$(FYNE_TOOL_VERSION)/fyne
GOARCH_HOST       := $(shell $(GO) env GOARCH)
MINGW_CC          := x86_64-w64-mingw32-gcc
WINDOWS_PKGS      := gcc-mingw-w64-x86-64
WINE_PKGS         := $(WINDOWS_PKGS) wine64 xvfb x11-utils imagemagick
# fyne takes extra linker flags from GOFLAGS (it passes its own -ldflags).
FYNE_GOFLAGS      := $(shell $(GO) env GOFLAGS) -ldflags=-X=peersync/app.Version=$(VERSION)

LINUX_PKG       := dist/PeerSync-$(VERSION)-linux-$(GOARCH_HOST).tar.xz
WINDOWS_GUI     := dist/PeerSync-$(VERSION)-windows-amd64.exe
WINDOWS_CLI     := dist/peersync-headless-$(VERSION)-windows-amd64.exe

# stage-source puts the sources of the HEAD commit in $(1): packages come from
# committed code, never from files someone is half-way through editing.
# Outside a git checkout it copies the tree (without dist and binaries).
define stage-source
	rm -rf $(1) && mkdir -p $(1)
	if git rev-parse --verify -q HEAD >/dev/null 2>&1; then \
	  git archive HEAD | tar -xf - -C $(1); \
	else \
	  tar -cf - --anchored --exclude=./.git --exclude=./dist --exclude=./fyne-cross \
	    --exclude=./peersync --exclude=./peersync-headless --no-anchored --exclude='*.test' \
	    --exclude='*.prof' . | tar -xf - -C $(1); \
	fi
endef

fyne-tool: $(FYNE)

$(FYNE):
	GOBIN=$(dir $(FYNE)) $(GO) install fyne.io/tools/cmd/fyne@$(FYNE_TOOL_VERSION)

deps-windows:
	$(call install-pkgs,$(WINDOWS_PKGS))

deps-wine:
	$(call install-pkgs,$(WINE_PKGS))

# The Linux desktop package: binary, .desktop file and icon in a tar.xz.
package-linux: deps-run $(FYNE)
	$(call stage-source,dist/stage/linux)
	cd dist/stage/linux && GOFLAGS="$(FYNE_GOFLAGS)" $(FYNE) package -os linux --release
	mv dist/stage/linux/PeerSync.tar.xz $(LINUX_PKG)
	@echo built $(LINUX_PKG)

# The Windows x86-64 GUI (cgo through MinGW-w64, icon and version resources
# from FyneApp.toml) and the headless CLI (no cgo).
package-windows: deps-windows $(FYNE)
	$(call stage-source,dist/stage/windows)
	cd dist/stage/windows && GOOS=windows GOARCH=amd64 CGO_ENABLED=1 CC=$(MINGW_CC) \
	  GOFLAGS="$(FYNE_GOFLAGS)" $(FYNE) package -os windows --release
	mv dist/stage/windows/PeerSync.exe $(WINDOWS_GUI)
	cd dist/stage/windows && GOOS=windows GOARCH=amd64 CGO_ENABLED=0 $(GO) build -tags headless \
	  -ldflags "$(VERSION_LDFLAGS)" -o $(CURDIR)/$(WINDOWS_CLI) .
	@echo built $(WINDOWS_GUI) $(WINDOWS_CLI)

# Runs both Windows builds under Wine (builds them first when missing or stale).
smoke-windows: deps-wine
	PEERSYNC_WINE_SMOKE=1 $(GO) test -count=1 -v -timeout 30m -run 'TestWindows' ./packaging
