package awsclient

import (
	"encoding/json"
	"errors"
	"net/url"
	"strings"
)

// decodeDocument turns a policy document as an AWS API returned it into
// JSON. IAM's GetRolePolicy, GetUserPolicy, GetGroupPolicy and
// GetPolicyVersion return documents URL-encoded (RFC 3986), as the IAM API
// reference says; Lambda's GetPolicy and some emulators return plain JSON.
// A document that already is a JSON object is kept byte for byte, since
// unescaping it would corrupt any "%" or "+" inside its strings.
func decodeDocument(raw string) (json.RawMessage, error) {
	s := strings.TrimSpace(raw)
	if strings.HasPrefix(s, "{") {
		if !json.Valid([]byte(s)) {
			return nil, errors.New("policy document is not valid JSON")
		}
		return json.RawMessage(s), nil
	}
	// PathUnescape keeps "+" as is (RFC 3986); QueryUnescape is the
	// fallback for an encoder that wrote spaces as "+".
	for _, unescape := range []func(string) (string, error){url.PathUnescape, url.QueryUnescape} {
		dec, err := unescape(s)
		if err != nil {
			continue
		}
		dec = strings.TrimSpace(dec)
		if strings.HasPrefix(dec, "{") && json.Valid([]byte(dec)) {
			return json.RawMessage(dec), nil
		}
	}
	return nil, errors.New("policy document is neither JSON nor URL-encoded JSON")
}
