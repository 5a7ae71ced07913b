package tlsid

import (
	"bytes"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestFileStorePermissionsAndContents(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "ids")
	keysDir := filepath.Join(dir, "keys")
	s := NewStore(dir, NewFileKeyStore(keysDir))
	id := mustCreate(t, s, "node", UsageServer)

	assertMode(t, dir, 0o700|os.ModeDir)
	assertMode(t, keysDir, 0o700|os.ModeDir)
	keyFile := filepath.Join(keysDir, "node.key")
	chainFile := filepath.Join(dir, "node.pem")
	assertMode(t, keyFile, 0o600)
	assertMode(t, chainFile, 0o644)

	wantKey, err := id.PrivateKeyPEM()
	if err != nil {
		t.Fatal(err)
	}
	gotKey, err := os.ReadFile(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(gotKey, wantKey) {
		t.Errorf("key file holds %q, want the identity's PKCS#8 key", gotKey)
	}

	chainData, err := os.ReadFile(chainFile)
	if err != nil {
		t.Fatal(err)
	}
	rest, blocks := chainData, 0
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		blocks++
		if b.Type != "CERTIFICATE" {
			t.Errorf("chain file holds a %q block", b.Type)
		}
	}
	if blocks != 1 || len(bytes.TrimSpace(rest)) != 0 {
		t.Errorf("chain file: %d blocks and %d stray bytes, want 1 certificate and nothing else", blocks, len(rest))
	}
	if bytes.Contains(chainData, []byte("PRIVATE")) {
		t.Error("chain file mentions a private key")
	}

	// Nothing else is left lying around (no temporary files).
	for d, want := range map[string]int{dir: 2, keysDir: 1} {
		entries, err := os.ReadDir(d)
		if err != nil {
			t.Fatal(err)
		}
		if len(entries) != want {
			t.Errorf("%s holds %d entries, want %d", filepath.Base(d), len(entries), want)
		}
	}

	if err := s.Delete("node"); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{keyFile, chainFile} {
		if _, err := os.Stat(f); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s still there after Delete: %v", filepath.Base(f), err)
		}
	}
}

func TestFileStoreSurvivesReopen(t *testing.T) {
	dir := t.TempDir()
	keys := filepath.Join(dir, "keys")
	id := mustCreate(t, NewStore(dir, NewFileKeyStore(keys)), "persist", UsageClient)
	got, err := NewStore(dir, NewFileKeyStore(keys)).Get("persist")
	if err != nil {
		t.Fatal(err)
	}
	if got.Fingerprint() != id.Fingerprint() {
		t.Error("fingerprint changed after re-opening the file store")
	}
}

func TestGetReportsBrokenIdentities(t *testing.T) {
	dir := t.TempDir()
	keys := NewMemoryKeyStore()
	s := NewStore(dir, keys)
	mustCreate(t, s, "a", UsageServer)
	mustCreate(t, s, "b", UsageServer)

	// Key gone (e.g. keyring wiped): Get says so, wrapping ErrNotFound.
	if err := keys.Delete("a"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get("a"); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing key: %v, want ErrNotFound", err)
	}
	if _, err := s.List(); err == nil {
		t.Error("List hid an identity whose key is missing")
	}

	// Key swapped for another identity's: refused.
	other, _ := mustCreate(t, NewStore(t.TempDir(), NewMemoryKeyStore()), "x", UsageServer).PrivateKeyPEM()
	if err := keys.Set("a", other); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get("a"); !errors.Is(err, ErrInvalid) {
		t.Errorf("mismatched key: %v, want ErrInvalid", err)
	}

	// A chain file with a key in it is refused, not served.
	if err := os.WriteFile(filepath.Join(dir, "b.pem"), other, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get("b"); !errors.Is(err, ErrInvalid) {
		t.Errorf("key in chain file: %v, want ErrInvalid", err)
	}

	// Delete still cleans up a half-present identity.
	if err := keys.Delete("a"); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete("a"); err != nil {
		t.Errorf("Delete of identity without key: %v", err)
	}
}

func TestFileKeyStoreNotFound(t *testing.T) {
	ks := NewFileKeyStore(filepath.Join(t.TempDir(), "never-made"))
	if _, err := ks.Get("x"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get: %v", err)
	}
	if err := ks.Delete("x"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Delete: %v", err)
	}
}

func assertMode(t *testing.T, path string, want os.FileMode) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode() & (os.ModePerm | os.ModeDir); got != want {
		t.Errorf("%s mode = %v, want %v", filepath.Base(path), got, want)
	}
}
