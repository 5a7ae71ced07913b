package tlsid

import (
	"fmt"
	"path/filepath"
	"testing"
)

func BenchmarkCreateSelfSignedMemory(b *testing.B) {
	s := NewStore(b.TempDir(), NewMemoryKeyStore())
	i := 0
	for b.Loop() {
		mustCreate(b, s, fmt.Sprintf("id-%d", i), UsageServer)
		i++
	}
}

func BenchmarkGetFileStore(b *testing.B) {
	dir := b.TempDir()
	s := NewStore(dir, NewFileKeyStore(filepath.Join(dir, "keys")))
	mustCreate(b, s, "bench", UsageServer)
	for b.Loop() {
		if _, err := s.Get("bench"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkFingerprint(b *testing.B) {
	id := mustCreate(b, NewStore(b.TempDir(), NewMemoryKeyStore()), "fp", UsageServer)
	cert := id.Certificate()
	for b.Loop() {
		_ = Fingerprint(cert)
	}
}
