package tlsid

import "fmt"

// maxLabelLen keeps file names and keyring account names short.
const maxLabelLen = 128

// validateLabel accepts ASCII letters, digits, '.', '_' and '-', not starting
// with '.'. Labels become file names, so anything that could name another
// directory or a hidden file is refused.
func validateLabel(label string) error {
	if label == "" {
		return fmt.Errorf("%w: label is empty", ErrInvalid)
	}
	if len(label) > maxLabelLen {
		return fmt.Errorf("%w: label %.20q... is longer than %d characters", ErrInvalid, label, maxLabelLen)
	}
	if label[0] == '.' {
		return fmt.Errorf("%w: label %q must not start with '.'", ErrInvalid, label)
	}
	for i := 0; i < len(label); i++ {
		c := label[i]
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-'
		if !ok {
			return fmt.Errorf("%w: label %q: character %q not allowed (use letters, digits, '.', '_' or '-')", ErrInvalid, label, c)
		}
	}
	return nil
}
