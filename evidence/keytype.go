package evidence

import (
	"net/netip"
	"strings"

	"github.com/why-denied/why-denied/policy"
)

// KeyType is the type of a global condition key's value ("AWS global
// condition context keys"): what its values can be, and how the
// simulator's ContextEntries declare it.
type KeyType string

const (
	KeyString  KeyType = "string"
	KeyDate    KeyType = "date"
	KeyNumeric KeyType = "numeric"
	KeyBoolean KeyType = "boolean"
	KeyIP      KeyType = "ip"
)

// keyTypes are the global keys whose type is not string.
var keyTypes = map[string]KeyType{
	"aws:currenttime":                KeyDate,
	"aws:epochtime":                  KeyNumeric,
	"aws:tokenissuetime":             KeyDate,
	"aws:multifactorauthage":         KeyNumeric,
	"aws:multifactorauthpresent":     KeyBoolean,
	"aws:securetransport":            KeyBoolean,
	"aws:viaawsservice":              KeyBoolean,
	"aws:principalisawsservice":      KeyBoolean,
	"lambda:invokedviafunctionurl":   KeyBoolean,
	"aws:sourceip":                   KeyIP,
	"aws:vpcsourceip":                KeyIP,
	"aws:ec2instancesourceprivateip": KeyIP,
}

// TypeOf is the type of condition key key (string for every key not
// listed: tags, ARNs, IDs).
func TypeOf(key string) KeyType {
	if t, ok := keyTypes[strings.ToLower(key)]; ok {
		return t
	}
	return KeyString
}

// ValidValue reports whether v can be a value of a key of type t in a
// request: an address for an IP key, true or false, a number or a date as
// the policy engine reads them.
func (t KeyType) ValidValue(v string) bool {
	switch t {
	case KeyIP:
		_, err := netip.ParseAddr(v)
		return err == nil
	case KeyBoolean:
		return strings.EqualFold(v, "true") || strings.EqualFold(v, "false")
	case KeyNumeric:
		return policy.IsNumber(v)
	case KeyDate:
		return policy.IsDate(v)
	}
	return true
}
