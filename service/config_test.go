package service

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func writeConfig(t *testing.T, text string) string {
	t.Helper()
	return writeFile(t, filepath.Join(t.TempDir(), ConfigFileName), text)
}

func writeFile(t *testing.T, path, text string) string {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestConfigValidation(t *testing.T) {
	cases := []struct {
		name, text, want string
	}{
		{"syntax", "[log]\nformat = \n", ":2: log.format:"},
		{"unknown key", "[log]\nformat = \"text\"\ncolour = true\n", ":3: log.colour: unknown key"},
		{"bad enum", "[log]\nlevel = \"loud\"\n", `:2: log.level: "loud" is not allowed; use one of debug, info, warn, error`},
		{"port", "[[listener]]\nname = \"a\"\ndatabase = \"notes\"\n\n[[listener]]\nname = \"b\"\ndatabase = \"notes\"\nport = 70000\n", ":8: listener[1].port: 70000 is not a port"},
		{"no name", "[[listener]]\ndatabase = \"notes\"\n", ":1: listener[0].name: every listener needs a name"},
		{"bad db", "[[listener]]\nname = \"a\"\ndatabase = \"../x\"\n", ":3: listener[0].database: invalid database name"},
		{"cert without tls", "[[listener]]\nname = \"a\"\ndatabase = \"n\"\ntls = \"off\"\nclient_ca = \"ca.pem\"\n", ":5: listener[0].client_ca: client certificates need TLS"},
		{"plain password", "[[listener]]\nname = \"a\"\ndatabase = \"n\"\n[[listener.users]]\nname = \"u\"\npassword_hash = \"secret\"\n", "listener[0].users[0]: each user needs a name and a bcrypt password_hash"},
		{"target", "[[replication]]\nname = \"r\"\ndatabase = \"n\"\ntarget = \"http://x\"\n", `:4: replication[0].target: "http://x" is not a ws:// or wss:// URL`},
		{"type", "[[replication]]\nname = \"r\"\ndatabase = \"n\"\ntarget = \"ws://x/n\"\ntype = \"sideways\"\n", `:5: replication[0].type: "sideways" is not allowed`},
		{"protocol", "[[replication]]\nname = \"r\"\ndatabase = \"n\"\ntarget = \"ws://x/n\"\nprotocol = \"v5\"\n", `:5: replication[0].protocol: protocol "v5" is not one of auto, v4, v3`},
		{"duration", "[[replication]]\nname = \"r\"\ndatabase = \"n\"\ntarget = \"ws://x/n\"\nheartbeat = \"often\"\n", `heartbeat`},
		{"same peer twice", "[[replication]]\nname = \"r\"\ndatabase = \"n\"\ntarget = \"ws://X:1/n\"\n[[replication]]\nname = \"s\"\ndatabase = \"n\"\ntarget = \"ws://x:1/n/_blipsync\"\n",
			`:8: replication[1].target: replication "r" already replicates "n" with ws://x:1/n`},
		{"credentials in target", "[[replication]]\nname = \"r\"\ndatabase = \"n\"\ntarget = \"ws://u:pw@x/n\"\n", `:4: replication[0].target: "ws://u:xxxxx@x/n" holds credentials`},
		{"duplicate", "[[replication]]\nname = \"r\"\ndatabase = \"n\"\ntarget = \"ws://x/n\"\n[[replication]]\nname = \"r\"\ndatabase = \"n\"\ntarget = \"ws://x/n\"\n", `:6: replication[1].name: "r" is used by another replication`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := writeConfig(t, c.text)
			_, err := LoadConfig(path)
			if err == nil || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), path) {
				t.Errorf("error = %v\nwant it to start with the file and contain %q", err, c.want)
			}
		})
	}
}

func TestConfigRoundTripAndAtomicSave(t *testing.T) {
	path := filepath.Join(t.TempDir(), ConfigFileName)
	cfg := DefaultConfig()
	hash, _ := HashPassword("pw")
	cfg.Listeners = []ListenerConfig{{Name: "lan", Database: "notes", Port: 4984, Announce: true,
		Users: []UserHash{{Name: "alice", PasswordHash: hash}}}}
	cfg.Replications = []ReplicationConfig{{Name: "office", Database: "notes", Target: "wss://h:4984/notes",
		Continuous: true, AutoStart: true, Heartbeat: Duration{30 * time.Second}, NoProgress: Duration{90 * time.Second}}}
	if err := cfg.Save(path); err != nil {
		t.Fatal(err)
	}
	got, err := LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, cfg) {
		t.Errorf("round trip:\n got %+v\nwant %+v", got, cfg)
	}
	data, _ := os.ReadFile(path)
	if strings.Contains(string(data), "pw\"") {
		t.Error("a password was written in clear")
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("temporary files left behind: %v", entries)
	}
}

func TestMissingConfigGivesDefaults(t *testing.T) {
	cfg, err := LoadConfig(filepath.Join(t.TempDir(), "none.toml"))
	if err != nil || !cfg.Discovery.Announce || cfg.Log.Format != "text" {
		t.Errorf("defaults = %+v, %v", cfg, err)
	}
}
