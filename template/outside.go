package template

import (
	"slices"
	"strings"

	"github.com/why-denied/why-denied/evidence"
)

// Outside is what the account already holds that the template names by
// ARN without defining it: managed policies and execution roles. Read
// from the account (why-denied template --profile), they are evaluated
// instead of being unknown.
type Outside struct {
	// Policies are managed policies by ARN, at their default version.
	Policies map[string]evidence.NamedPolicy
	// Roles are roles by the ARN the template gives.
	Roles map[string]OutsideRole
	// Failed says, by ARN, why a read failed: that policy or role stays
	// unknown, and the verdict quotes this.
	Failed map[string]string
}

// OutsideRole is a role of the account with every policy that applies to
// it, as IAM has it.
type OutsideRole struct {
	ARN        string
	Identity   []evidence.NamedPolicy
	Boundary   *evidence.NamedPolicy
	Unreadable []evidence.Unreadable
}

// OutsideARNs are the managed policies and roles the template names by ARN
// without defining them, and whose documents the tool does not know: what
// --profile reads. A name holding a deploy-time token is never read: no
// such ARN exists before deploy.
func (st *Stack) OutsideARNs() (policies, roles []string) {
	for a := range st.outside {
		if !strings.Contains(a, "<") {
			policies = append(policies, a)
		}
	}
	for _, fn := range sortedFunctions(st) {
		if fn.RoleID == "" && fn.RoleUnresolved == nil && fn.RoleARN != "" &&
			!strings.Contains(fn.RoleARN, "<") && !slices.Contains(roles, fn.RoleARN) {
			roles = append(roles, fn.RoleARN)
		}
	}
	slices.Sort(policies)
	return policies, roles
}
