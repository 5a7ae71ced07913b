// Package bootlocale gives the GUI toolkit a language it can parse when
// the system locale is the C locale with an encoding (C.UTF-8, Debian's
// default): the toolkit reads LC_ALL, LC_MESSAGES and LANG while its own
// packages initialise, takes "C" from "C.UTF-8" as a language tag and logs
// an error on every start, even for commands that open no window.
//
// Go initialises packages in the order of their import paths (after their
// imports), so this package has its own small module with a path that
// sorts before the toolkit's: that is what makes it run first. It imports
// only the standard library to keep it that way.
package bootlocale

import (
	"os"
	"strings"
)

// fallback is the language used when the locale names none.
const fallback = "en_US"

func init() { Apply(os.Getenv, os.Setenv) }

// Apply sets LANGUAGE to English, for this process and what it starts,
// when the locale in effect is the C or POSIX locale and LANGUAGE names no
// language. Only the language list changes, which the C locale ignores:
// LC_ALL, LC_MESSAGES and LANG stay as they are.
func Apply(getenv func(string) string, setenv func(string, string) error) {
	if !isCLocale(effective(getenv)) {
		return
	}
	if lang := getenv("LANGUAGE"); lang != "" && !isCLocale(lang) {
		return
	}
	setenv("LANGUAGE", fallback)
}

// effective is the locale that decides the language of messages.
func effective(getenv func(string) string) string {
	for _, name := range []string{"LC_ALL", "LC_MESSAGES", "LANG"} {
		if v := getenv(name); v != "" {
			return v
		}
	}
	return ""
}

// isCLocale reports whether loc is the C or POSIX locale, with or without
// an encoding or modifier (C.UTF-8, C.utf8, POSIX@euro).
func isCLocale(loc string) bool {
	name, _, _ := strings.Cut(loc, ".")
	name, _, _ = strings.Cut(name, "@")
	return name == "C" || name == "POSIX"
}
