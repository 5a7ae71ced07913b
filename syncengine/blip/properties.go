package blip

import (
	"bytes"
	"encoding/binary"
	"slices"
	"strings"
	"unicode/utf8"
)

// Properties are a message's string key/value pairs. They are encoded with
// "Profile" first and the other keys sorted, so encoding is deterministic.
type Properties map[string]string

const profileKey = "Profile"

// encodedSize is the byte length of the encoded properties, or an error if a
// key or value contains NUL (which would break the encoding).
func (p Properties) encodedSize() (int, error) {
	n := 0
	for k, v := range p {
		if strings.IndexByte(k, 0) >= 0 || strings.IndexByte(v, 0) >= 0 {
			return 0, errPropsHasNUL
		}
		n += len(k) + len(v) + 2
	}
	return n, nil
}

// sortedKeys returns the keys in wire order: Profile first, then sorted.
func (p Properties) sortedKeys() []string {
	keys := make([]string, 0, len(p))
	for k := range p {
		if k != profileKey {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	if _, ok := p[profileKey]; ok {
		keys = slices.Insert(keys, 0, profileKey)
	}
	return keys
}

// appendMessageHead appends varint(len(props)) followed by the properties.
func (p Properties) appendMessageHead(dst []byte) ([]byte, error) {
	size, err := p.encodedSize()
	if err != nil {
		return dst, err
	}
	dst = binary.AppendUvarint(dst, uint64(size))
	for _, k := range p.sortedKeys() {
		dst = append(dst, k...)
		dst = append(dst, 0)
		dst = append(dst, p[k]...)
		dst = append(dst, 0)
	}
	return dst, nil
}

// decodeProperties parses NUL-terminated key/value strings.
func decodeProperties(b []byte) (Properties, error) {
	if len(b) == 0 {
		return Properties{}, nil
	}
	if b[len(b)-1] != 0 {
		return nil, errPropsNoNUL
	}
	if bytes.Count(b, []byte{0})%2 != 0 {
		return nil, errPropsOdd
	}
	if !utf8.Valid(b) {
		return nil, errPropsUTF8
	}
	props := make(Properties, bytes.Count(b, []byte{0})/2)
	for len(b) > 0 {
		i := bytes.IndexByte(b, 0)
		key := string(b[:i])
		b = b[i+1:]
		j := bytes.IndexByte(b, 0)
		props[key] = string(b[:j])
		b = b[j+1:]
	}
	return props, nil
}

// decodeMessage splits a complete message's bytes into properties and body.
func decodeMessage(data []byte, maxProps int) (Properties, []byte, error) {
	size, n := binary.Uvarint(data)
	if n <= 0 {
		return nil, nil, errBadMsgLength
	}
	data = data[n:]
	if size > uint64(len(data)) {
		return nil, nil, errPropsLength
	}
	if size > uint64(maxProps) {
		return nil, nil, errPropsTooBig
	}
	props, err := decodeProperties(data[:size])
	if err != nil {
		return nil, nil, err
	}
	return props, data[size:], nil
}
