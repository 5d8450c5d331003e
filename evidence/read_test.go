package evidence

import (
	"bytes"
	"encoding/binary"
	"os"
	"strings"
	"testing"
	"unicode/utf16"
)

func readFixture(t *testing.T) []byte {
	t.Helper()
	data, err := os.ReadFile("../fixtures/sam-qualified-invoke.json")
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// utf16Bytes encodes s as UTF-16 with the given byte order, with or
// without a byte-order mark.
func utf16Bytes(s string, order binary.ByteOrder, bom bool) []byte {
	units := utf16.Encode([]rune(s))
	if bom {
		units = append([]uint16{0xfeff}, units...)
	}
	b := make([]byte, 2*len(units))
	for i, u := range units {
		order.PutUint16(b[2*i:], u)
	}
	return b
}

// A file saved in another Unicode encoding gets a line naming the
// encoding and the fix, not "expected a JSON object".
func TestReadNamesTheEncoding(t *testing.T) {
	good := string(readFixture(t))
	utf32 := append([]byte{0xff, 0xfe, 0, 0}, []byte("{\x00\x00\x00")...)
	for name, c := range map[string]struct {
		data []byte
		want string
	}{
		"UTF-16 LE with BOM":    {utf16Bytes(good, binary.LittleEndian, true), "the file is UTF-16 (it starts with a byte-order mark): save it as UTF-8"},
		"UTF-16 BE with BOM":    {utf16Bytes(good, binary.BigEndian, true), "the file is UTF-16 (it starts with a byte-order mark): save it as UTF-8"},
		"UTF-16 LE without BOM": {utf16Bytes(good, binary.LittleEndian, false), "looks UTF-16 or UTF-32"},
		"UTF-32 LE with BOM":    {utf32, "the file is UTF-32"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Read(bytes.NewReader(c.data))
			if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
				t.Errorf("error %v, want one line containing %q", err, c.want)
			}
		})
	}
}

// A UTF-8 byte-order mark is read past (RFC 8259 lets a parser ignore
// it): the file is the same evidence.
func TestReadAcceptsAUTF8ByteOrderMark(t *testing.T) {
	data := readFixture(t)
	ev, err := Read(bytes.NewReader(append([]byte("\xef\xbb\xbf"), data...)))
	if err != nil {
		t.Fatalf("UTF-8 file with a byte-order mark: %v", err)
	}
	if ev.Request.Caller != "arn:aws:sts::111111111111:assumed-role/RequestRole/RequestFunction" {
		t.Errorf("request.caller %q", ev.Request.Caller)
	}
}

// Keys that differ only in letter case are rejected: encoding/json would
// read both into one field and keep the last.
func TestReadRejectsKeysDifferingInCase(t *testing.T) {
	data := string(readFixture(t))
	for name, c := range map[string]struct{ old, new, want string }{
		"top-level fields": {`"caller": {`, `"Caller": {"identityPolicies": [], "permissionsBoundary": null, "sessionPolicies": []}, "caller": {`, `"Caller" and "caller"`},
		"nested fields":    {`"identityPolicies": [`, `"IdentityPolicies": [], "identityPolicies": [`, `"IdentityPolicies" and "identityPolicies"`},
	} {
		t.Run(name, func(t *testing.T) {
			if !strings.Contains(data, c.old) {
				t.Fatalf("fixture has no %q", c.old)
			}
			_, err := Read(strings.NewReader(strings.Replace(data, c.old, c.new, 1)))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v, want one naming %s", err, c.want)
			}
		})
	}
}
