package bootlocale

import "testing"

func TestApply(t *testing.T) {
	for _, c := range []struct {
		env  map[string]string
		want string // LANGUAGE afterwards
	}{
		{map[string]string{"LANG": "C.UTF-8"}, fallback},
		{map[string]string{"LC_ALL": "C.utf8", "LANG": "de_DE.UTF-8"}, fallback},
		{map[string]string{"LC_MESSAGES": "POSIX"}, fallback},
		{map[string]string{"LANG": "C", "LANGUAGE": "C"}, fallback},
		{map[string]string{"LANG": "C.UTF-8", "LANGUAGE": "fr"}, "fr"},
		{map[string]string{"LANG": "de_DE.UTF-8"}, ""},
		{map[string]string{"LC_ALL": "de_DE.UTF-8", "LANG": "C.UTF-8"}, ""},
		{map[string]string{}, ""},
	} {
		env := map[string]string{}
		for k, v := range c.env {
			env[k] = v
		}
		Apply(func(k string) string { return env[k] }, func(k, v string) error { env[k] = v; return nil })
		if env["LANGUAGE"] != c.want {
			t.Errorf("%v: LANGUAGE = %q, want %q", c.env, env["LANGUAGE"], c.want)
		}
		for _, k := range []string{"LC_ALL", "LC_MESSAGES", "LANG"} {
			if env[k] != c.env[k] {
				t.Errorf("%v: %s changed to %q", c.env, k, env[k])
			}
		}
	}
}
