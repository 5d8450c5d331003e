package redact

// Free text (notes, simulatorUnavailable, and what could not be read and
// why) has no structure that says which word is a name. It is redacted
// last, so that a name replaced in a policy or an ARN reads the same in a
// note, and otherwise by the shape of a word (see prose). AWS's wording
// around the names is kept: it is what a reader looks up.

import (
	"regexp"
	"strings"

	"github.com/why-denied/why-denied/arn"
)

// proseKeywords are the words after which messages name an entity ("role
// RequestRole", "inline policy Inline0 of user alice").
var proseKeywords = map[string]bool{
	"role": true, "user": true, "group": true, "policy": true, "function": true, "bucket": true,
	"session": true, "alias": true, "layer": true, "profile": true,
}

var proseStopWords = map[string]bool{
	"of": true, "to": true, "for": true, "on": true, "in": true, "is": true, "the": true, "a": true,
	"an": true, "and": true, "or": true, "with": true, "from": true, "by": true, "attached": true,
	"because": true, "not": true, "was": true, "cannot": true, "could": true, "has": true, "its": true,
	"allows": true, "allow": true, "denies": true, "deny": true, "that": true, "which": true, "as": true,
	"at": true, "be": true, "are": true, "does": true, "no": true, "any": true, "all": true, "none": true,
	"policies": true, "url": true, "urls": true, "name": true, "names": true, "arn": true, "path": true,
	"tags": true, "permissions": true, "boundary": true, "sessions": true, "configuration": true, "code": true,
}

var proseToken = regexp.MustCompile(`[^\s"'()\[\]<>,;]+`)

// prose redacts free text (notes, AWS error messages): ARNs, account IDs,
// names already replaced elsewhere, typed names (role/NAME) and the word
// after an entity keyword. It keeps the rest, which is AWS's wording.
func (r *redactor) prose(s string) string {
	prev := ""
	return proseToken.ReplaceAllStringFunc(s, func(tok string) string {
		core := strings.TrimRight(tok, ".:")
		trail := tok[len(core):]
		after := prev
		prev = strings.ToLower(core)
		switch {
		case core == "":
			return tok
		case strings.HasPrefix(core, "arn:"):
			return r.arn(core) + trail
		case arn.IsAccountID(core):
			return r.text(core) + trail
		}
		if red, ok := r.uniqueID(core); ok {
			return red + trail
		}
		if red, ok := r.words[core]; ok {
			return red + trail
		}
		if i := separatorIndex(core); i > 0 && resourceTypes[core[:i]] {
			return core[:i] + r.text(core[i:]) + trail
		}
		if proseKeywords[after] && !proseStopWords[prev] && !proseKeywords[prev] {
			return r.text(core) + trail
		}
		return tok
	})
}
