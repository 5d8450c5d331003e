package redact

// Policy documents are redacted through a JSON tree of their own rather than
// map[string]any, which would sort their elements on the way out: a shared
// file should read like the original, element by element, with its numbers
// as written.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// node is a JSON value that keeps the order of object members.
type node struct {
	kind  byte // '{' object, '[' array, '"' string, '0' number, 't' true, 'f' false, 'n' null
	keys  []string
	vals  []*node
	items []*node
	str   string
}

func (n *node) eachString(f func(string) string) {
	switch n.kind {
	case '"':
		n.str = f(n.str)
	case '[':
		for _, it := range n.items {
			if it.kind == '"' {
				it.str = f(it.str)
			}
		}
	}
}

func parseNode(raw []byte) (*node, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	n, err := readNode(dec)
	if err != nil {
		return nil, fmt.Errorf("reading policy JSON: %w", err)
	}
	if dec.More() {
		return nil, errors.New("reading policy JSON: unexpected data after the document")
	}
	return n, nil
}

func readNode(dec *json.Decoder) (*node, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		n := &node{kind: byte(t)}
		for dec.More() {
			if t == '{' {
				k, err := dec.Token()
				if err != nil {
					return nil, err
				}
				n.keys = append(n.keys, k.(string))
			}
			v, err := readNode(dec)
			if err != nil {
				return nil, err
			}
			if t == '{' {
				n.vals = append(n.vals, v)
			} else {
				n.items = append(n.items, v)
			}
		}
		if _, err := dec.Token(); err != nil { // closing delimiter
			return nil, err
		}
		return n, nil
	case string:
		return &node{kind: '"', str: t}, nil
	case json.Number:
		return &node{kind: '0', str: t.String()}, nil
	case bool:
		if t {
			return &node{kind: 't'}, nil
		}
		return &node{kind: 'f'}, nil
	}
	return &node{kind: 'n'}, nil
}

func (n *node) encode(b *bytes.Buffer) {
	switch n.kind {
	case '{':
		b.WriteByte('{')
		for i, k := range n.keys {
			if i > 0 {
				b.WriteByte(',')
			}
			writeString(b, k)
			b.WriteByte(':')
			n.vals[i].encode(b)
		}
		b.WriteByte('}')
	case '[':
		b.WriteByte('[')
		for i, it := range n.items {
			if i > 0 {
				b.WriteByte(',')
			}
			it.encode(b)
		}
		b.WriteByte(']')
	case '"':
		writeString(b, n.str)
	case '0':
		b.WriteString(n.str)
	case 't':
		b.WriteString("true")
	case 'f':
		b.WriteString("false")
	default:
		b.WriteString("null")
	}
}

func writeString(b *bytes.Buffer, s string) {
	enc := json.NewEncoder(b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // a string always encodes
	b.Truncate(b.Len() - 1)
}
