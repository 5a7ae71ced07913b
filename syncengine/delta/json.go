package delta

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// Create returns the JSON delta that turns old into new (both JSON texts).
// The output is deterministic; equal documents give {}.
func Create(old, new []byte) ([]byte, error) {
	oldValue, err := decode(old)
	if err != nil {
		return nil, fmt.Errorf("delta: old value: %w", err)
	}
	newValue, err := decode(new)
	if err != nil {
		return nil, fmt.Errorf("delta: new value: %w", err)
	}
	d, _ := CreateValue(oldValue, newValue)
	return encode(d)
}

// Apply applies a JSON delta to old (a JSON text) and returns the new JSON
// text, with object keys sorted. A delta that is not JSON, does not fit the
// format or does not fit old is an *Error wrapping ErrMalformed.
func Apply(old, delta []byte) ([]byte, error) {
	oldValue, err := decode(old)
	if err != nil {
		return nil, fmt.Errorf("delta: old value: %w", err)
	}
	d, err := decode(delta)
	if err != nil {
		return nil, &Error{Reason: "not a JSON value", Err: err}
	}
	result, err := ApplyValue(oldValue, d)
	if err != nil {
		return nil, err
	}
	return encode(result)
}

// decode parses exactly one JSON value, keeping numbers as json.Number.
func decode(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("data after the JSON value")
	}
	return v, nil
}

// encode writes v as compact JSON without HTML escaping (which would only
// make bodies and deltas larger).
func encode(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("delta: encode: %w", err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}
