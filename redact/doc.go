// Package redact makes evidence shareable: it replaces account IDs and the
// names of roles, users, functions, policies and other resources,
// consistently, and refuses a copy that would diagnose differently or that
// spells an original name. Names are blurred, not encrypted.
package redact
