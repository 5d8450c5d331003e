package awsclient

import (
	"errors"

	"github.com/why-denied/why-denied/evidence"
	"github.com/why-denied/why-denied/policy"
)

// tolerate turns a read that AWS refused (AccessDenied) into unreadable
// evidence: the verdict then marks that layer unknown and names the
// permission the tool needs, instead of failing the whole diagnosis. Any
// other error passes through.
func (f *fetcher) tolerate(err error, layer policy.Layer, what string) error {
	var ce *CallError
	if err == nil || !errors.As(err, &ce) || !ce.AccessDenied() {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.unreadable = append(f.unreadable, evidence.Unreadable{Layer: layer, What: what, Action: ce.Action, Error: apiErrorCode(ce.Err)})
	return nil
}

// unreadableNames keeps only the policies that were read.
func readPolicies(ps []evidence.NamedPolicy) []evidence.NamedPolicy {
	out := ps[:0]
	for _, p := range ps {
		if len(p.Document) > 0 {
			out = append(out, p)
		}
	}
	return out
}
