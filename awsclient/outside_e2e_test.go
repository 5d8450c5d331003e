package awsclient_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/why-denied/why-denied/awsclient"
	"github.com/why-denied/why-denied/internal/awstest"
)

// ReadManagedPolicy and ReadRole read what a template names by ARN: the
// policy's default version; the role with its inline, attached and
// boundary policies. A role ARN of another account than the credentials'
// is refused, not read by its name in the wrong account.
func TestReadOutside(t *testing.T) {
	awstest.FakeCredentials(t)
	moto := awstest.StartMoto(t)
	b := awstest.NewBuilder(t, moto.URL)
	invoke := awstest.Allow("lambda:InvokeFunction", b.FunctionARN("processor"))
	managed := b.ManagedPolicy("InvokeProcessor", invoke)
	roleARN := b.Role("InvokerRole", "/team/")
	b.RolePolicy("InvokerRole", "Inline", invoke)
	b.AttachRolePolicy("InvokerRole", managed)
	b.RoleBoundary("InvokerRole", managed)
	c := newClient(t, moto.URL, awsclient.Options{}, nil)

	p, err := c.ReadManagedPolicy(context.Background(), managed)
	if err != nil || p.ARN != managed || !strings.Contains(string(p.Document), "lambda:InvokeFunction") {
		t.Errorf("ReadManagedPolicy = %+v, %v; want its document", p, err)
	}
	_, err = c.ReadManagedPolicy(context.Background(), "arn:aws:iam::"+awstest.Account+":policy/Missing")
	if nf, ok := errors.AsType[*awsclient.NotFoundError](err); !ok || !strings.Contains(nf.Error(), "managed policy arn:aws:iam::"+awstest.Account+":policy/Missing not found") {
		t.Errorf("a missing policy: %v, want a NotFoundError naming it", err)
	}

	r, err := c.ReadRole(context.Background(), roleARN)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, np := range r.Policies {
		names = append(names, np.Name)
	}
	if r.ARN != roleARN || strings.Join(names, " ") != "Inline InvokeProcessor" || r.Boundary == nil || r.Boundary.ARN != managed {
		t.Errorf("ReadRole = ARN %s, policies %v, boundary %+v; want %s with Inline, InvokeProcessor and its boundary", r.ARN, names, r.Boundary, roleARN)
	}

	_, err = c.ReadRole(context.Background(), "arn:aws:iam::222222222222:role/team/InvokerRole")
	if ie, ok := errors.AsType[*awsclient.InputError](err); !ok || !strings.Contains(ie.Error(), "is in account 222222222222 but the profile reads account "+awstest.Account) {
		t.Errorf("a role of another account: %v, want it refused", err)
	}
}
