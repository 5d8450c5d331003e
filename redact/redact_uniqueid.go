package redact

import "strings"

// uniqueIDPrefixes are the prefixes IAM gives the unique IDs of its
// entities (IAM User Guide, "Unique identifiers"): AROA a role, AIDA a
// user, AGPA a group, ANPA and ANVA managed policies, AIPA an instance
// profile. A policy shows a principal by its unique ID once the role or
// user it named is deleted, and aws:userid is "ROLEID:SESSION" for a role
// session. The prefix says what the ID is, so it is kept: a redacted copy
// still reads as "names a deleted role". The rest goes through the same
// substitution as every name, so one ID has one replacement throughout.
var uniqueIDPrefixes = []string{"AROA", "AIDA", "AGPA", "ANPA", "ANVA", "AIPA"}

// uniqueID redacts s when it has the shape of an IAM unique ID (a known
// prefix, then upper-case letters and digits, 16 characters at least), or
// of an aws:userid value made of one, "ID:SESSION"; ok is false otherwise.
func (r *redactor) uniqueID(s string) (red string, ok bool) {
	id, session, hasSession := strings.Cut(s, ":")
	if !isUniqueID(id) {
		return "", false
	}
	red = id[:4] + r.text(id[4:])
	if hasSession {
		red += ":" + r.text(session)
	}
	return red, true
}

func isUniqueID(s string) bool {
	if len(s) < 16 || !hasUniqueIDPrefix(s) {
		return false
	}
	for i := 4; i < len(s); i++ {
		if c := s[i]; !('A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			return false
		}
	}
	return true
}

func hasUniqueIDPrefix(s string) bool {
	for _, p := range uniqueIDPrefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}
