package template

import (
	"encoding/json"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// samtranslatorDir is the installed aws-sam-translator package; the tests
// fail without it (python3 -m pip install aws-sam-translator).
func samtranslatorDir(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("python3", "-c", "import samtranslator,os;print(os.path.dirname(samtranslator.__file__))").Output()
	if err != nil {
		t.Fatalf("aws-sam-translator is needed (python3 -m pip install aws-sam-translator): %v", err)
	}
	return strings.TrimSpace(string(out))
}

// TestPolicyTemplatesTable checks the policy template table against the
// installed aws-sam-translator: the same names, and only
// LambdaInvokePolicy granting a lambda: action.
func TestPolicyTemplatesTable(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(samtranslatorDir(t), "policy_templates_data", "policy_templates.json"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Templates map[string]struct {
			Definition struct {
				Statement []struct {
					Action any
				}
			}
		}
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	if got, want := slices.Sorted(maps.Keys(policyTemplates)), slices.Sorted(maps.Keys(doc.Templates)); !slices.Equal(got, want) {
		t.Fatalf("policy templates differ from aws-sam-translator's:\nours %v\ntheirs %v", got, want)
	}
	for name, tpl := range doc.Templates {
		grants := false
		for _, s := range tpl.Definition.Statement {
			for _, a := range strList(s.Action) {
				grants = grants || invokeAction(a) || strings.HasPrefix(strings.ToLower(a), "lambda:")
			}
		}
		if grants != policyTemplates[name] {
			t.Errorf("%s: grants a lambda: action = %v in aws-sam-translator, %v in the table", name, grants, policyTemplates[name])
		}
	}
}

// TestAWSManagedNames checks the managed policy names SAM resolves
// against aws-sam-translator's bundled map.
func TestAWSManagedNames(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(samtranslatorDir(t), "internal", "data", "aws_managed_policies.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]map[string]string
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	if len(m["aws"]) != len(awsManaged) {
		t.Errorf("%d names here, %d in aws-sam-translator", len(awsManaged), len(m["aws"]))
	}
	for name, arn := range m["aws"] {
		if got := awsManagedARN(name); got != arn {
			t.Errorf("%s: %s here, %s in aws-sam-translator", name, got, arn)
		}
	}
}
