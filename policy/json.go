package policy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// MaxJSONDepth bounds the nesting of the JSON documents CheckJSON accepts.
// An IAM policy nests at most seven deep (document, Statement list,
// statement, Condition, operator, key, value list); an evidence file wraps
// policies in a few more levels. Thirty-two leaves room for both and keeps
// hostile nesting (a Sid nested 100,000 deep) from costing anything.
const MaxJSONDepth = 32

// CheckJSON reports problems encoding/json would let pass silently: text
// that is not UTF-8, and an object with the same key twice (the decoder
// keeps the last one; a policy whose second "Effect" overrides the first
// must not be read as if it were unambiguous). Nesting deeper than
// MaxJSONDepth is a *LimitError.
//
// Keys that differ only in case ("Action" and "action") are different keys
// here, as they are to IAM: policy element names are case-sensitive (the
// IAM JSON policy grammar spells each element exactly, and IAM policy
// validation reports "Error - Invalid policy element" for one it does not
// know), and Parse rejects unknown elements. Use CheckJSONFold for formats
// read with encoding/json, which folds case when it matches keys.
func CheckJSON(data []byte) error { return checkJSON(data, false) }

// CheckJSONFold is CheckJSON that also rejects keys of one object that
// differ only in letter case ("identityPolicies" and "IdentityPolicies"):
// encoding/json matches struct fields case-insensitively, so both would be
// accepted and the last would silently win.
func CheckJSONFold(data []byte) error { return checkJSON(data, true) }

func checkJSON(data []byte, fold bool) error {
	if !utf8.Valid(data) {
		off := 0
		for off < len(data) {
			r, n := utf8.DecodeRune(data[off:])
			if r == utf8.RuneError && n <= 1 {
				break
			}
			off += n
		}
		return fmt.Errorf("not valid UTF-8 (byte %d)", off)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	w := &jsonWalker{dec: dec, fold: fold}
	if err := w.value(); err != nil && err != io.EOF {
		return err
	}
	return nil
}

// jsonWalker walks one JSON value, rejecting duplicate object keys. The
// path to the current value is kept as a stack and joined only for an
// error, so a walk costs linear time in the depth.
type jsonWalker struct {
	dec  *json.Decoder
	fold bool
	path []string
}

func (w *jsonWalker) where() string {
	if len(w.path) == 0 {
		return "the top level"
	}
	var b strings.Builder
	for i, p := range w.path {
		if i > 0 && !strings.HasPrefix(p, "[") {
			b.WriteByte('.')
		}
		b.WriteString(p)
	}
	return b.String()
}

func (w *jsonWalker) value() error {
	tok, err := w.dec.Token()
	if err != nil {
		return err
	}
	delim, ok := tok.(json.Delim)
	if !ok {
		return nil
	}
	if len(w.path) >= MaxJSONDepth {
		return &LimitError{Limit: "JSON nesting depth", Max: MaxJSONDepth, Got: len(w.path) + 1, Where: w.where()}
	}
	switch delim {
	case '{':
		seen := map[string]string{}
		for w.dec.More() {
			kt, err := w.dec.Token()
			if err != nil {
				return err
			}
			key, _ := kt.(string)
			norm := key
			if w.fold {
				norm = strings.ToLower(key)
			}
			if prev, dup := seen[norm]; dup {
				if prev == key {
					return fmt.Errorf("duplicate key %q in %s", key, w.where())
				}
				return fmt.Errorf("keys %q and %q in %s differ only in letter case", prev, key, w.where())
			}
			seen[norm] = key
			w.path = append(w.path, key)
			err = w.value()
			w.path = w.path[:len(w.path)-1]
			if err != nil {
				return err
			}
		}
	case '[':
		for i := 0; w.dec.More(); i++ {
			w.path = append(w.path, fmt.Sprintf("[%d]", i))
			err := w.value()
			w.path = w.path[:len(w.path)-1]
			if err != nil {
				return err
			}
		}
	}
	_, err = w.dec.Token() // closing delimiter
	return err
}
