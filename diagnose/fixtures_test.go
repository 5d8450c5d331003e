package diagnose

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/why-denied/why-denied/evidence"
	"github.com/why-denied/why-denied/policy"
)

func loadFixture(t *testing.T, name string) *evidence.Evidence {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "fixtures", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ev, err := evidence.Read(f)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return ev
}

// TestFixtures diagnoses every bundled scenario and checks what a user
// would act on: the decision, the blocking layers and the findings.
func TestFixtures(t *testing.T) {
	cases := []struct {
		file      string
		decision  policy.Decision
		blockedBy []policy.Layer
		findings  []string // finding kinds that must be present
		sources   map[policy.Layer]Source
	}{
		{"sam-unqualified-invoke.json", policy.Allowed, nil,
			[]string{"qualifiedCallsDenied", "servicePrincipalGrant", "resourcePolicyNotNeeded"},
			map[policy.Layer]Source{policy.LayerIdentity: SourceSimulator, policy.LayerResource: SourceLocal}},
		{"sam-qualified-invoke.json", policy.ImplicitDeny, []policy.Layer{policy.LayerIdentity},
			[]string{"blocked", "servicePrincipalGrant", "resourcePolicyNotNeeded"}, nil},
		{"s3-service-principal.json", policy.ImplicitDeny, []policy.Layer{policy.LayerResource},
			[]string{"blocked"}, nil},
		{"s3-service-principal-allowed.json", policy.Allowed, nil, nil, nil},
		{"cross-account-one-side.json", policy.ImplicitDeny, []policy.Layer{policy.LayerResource},
			[]string{"crossAccount"}, nil},
		{"explicit-deny.json", policy.ExplicitDeny, []policy.Layer{policy.LayerIdentity},
			[]string{"explicitDeny"}, nil},
		{"boundary-blocks.json", policy.ImplicitDeny, []policy.Layer{policy.LayerPermissionsBoundary},
			[]string{"blocked"}, nil},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			v, err := Diagnose(loadFixture(t, c.file), testOptions)
			if err != nil {
				t.Fatal(err)
			}
			if v.Decision != c.decision {
				t.Errorf("decision %s, want %s (%s)", v.Decision, c.decision, v.Summary)
			}
			want := c.blockedBy
			if want == nil {
				want = []policy.Layer{}
			}
			if !slices.Equal(v.BlockedBy, want) {
				t.Errorf("blockedBy %v, want %v", v.BlockedBy, want)
			}
			for _, kind := range c.findings {
				if !slices.ContainsFunc(v.Findings, func(f Finding) bool { return string(f.Kind) == kind }) {
					t.Errorf("no %s finding in %+v", kind, v.Findings)
				}
			}
			for l, src := range c.sources {
				for _, rep := range v.Layers {
					if rep.Layer == l && rep.Source != src {
						t.Errorf("layer %s answered by %s, want %s", l, rep.Source, src)
					}
				}
			}
			if v.Decision != policy.Allowed && v.Summary == "" {
				t.Error("empty summary")
			}
		})
	}
}

// RCPs apply to a subset of services that does not include Lambda: a
// Deny-all RCP must not decide a Lambda invoke, and the verdict says why.
func TestRCPsDoNotApplyToLambda(t *testing.T) {
	ev := loadFixture(t, "sam-unqualified-invoke.json")
	ev.Organization = &evidence.Organization{RCPs: [][]json.RawMessage{{json.RawMessage(`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"*","Resource":"*"}]}`)}}}
	v, err := Diagnose(ev, testOptions)
	if err != nil {
		t.Fatal(err)
	}
	if v.Decision != policy.Allowed {
		t.Errorf("decision %s blocked by %v", v.Decision, v.BlockedBy)
	}
	if !slices.ContainsFunc(v.Findings, func(f Finding) bool { return f.Kind == "rcpNotApplicable" }) {
		t.Errorf("no rcpNotApplicable finding: %+v", v.Findings)
	}
}

// testOptions diagnose every case at one fixed moment.
var testOptions = Options{Now: time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)}
