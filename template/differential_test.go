package template

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestDifferentialSAMTranslator compares the permission model of this
// package's SAM expansion with the one derived from aws-sam-translator's
// output, template by template, intrinsics left symbolic: roles (trust,
// inline and managed policies, boundary, path), IAM policies and the
// roles they attach to, functions' roles and names, Lambda permissions,
// aliases, versions and function URLs. Policy documents are compared on
// the statements that can grant or deny a lambda: action (SAM policy
// templates other than LambdaInvokePolicy are modelled by name only).
// aws-sam-translator is required: `python3 -m pip install
// aws-sam-translator` (.ci/run installs it).
func TestDifferentialSAMTranslator(t *testing.T) {
	files, _ := filepath.Glob("testdata/sam/*")
	slices.Sort(files)
	if len(files) < 40 {
		t.Fatalf("corpus has %d templates, want at least 40", len(files))
	}
	out, err := exec.Command("python3", append([]string{"testdata/samtranslate.py"}, files...)...).Output()
	if err != nil {
		msg := err.Error()
		if ee, ok := err.(*exec.ExitError); ok {
			msg = string(ee.Stderr)
		}
		t.Fatalf("aws-sam-translator is needed for this test (python3 -m pip install aws-sam-translator): %s", msg)
	}
	var sam struct {
		Version   string                     `json:"version"`
		Templates map[string]json.RawMessage `json:"templates"`
	}
	if err := json.Unmarshal(out, &sam); err != nil {
		t.Fatal(err)
	}
	t.Logf("aws-sam-translator %s, %d templates", sam.Version, len(files))
	agree := 0
	for _, f := range files {
		name := filepath.Base(f)
		t.Run(name, func(t *testing.T) {
			var want struct {
				Error     string                    `json:"error"`
				Resources map[string]map[string]any `json:"Resources"`
			}
			if err := json.Unmarshal(sam.Templates[name], &want); err != nil {
				t.Fatal(err)
			}
			if want.Error != "" {
				t.Fatalf("samtranslator rejects the template: %s", want.Error)
			}
			src, _ := os.ReadFile(f)
			tpl, err := Parse(src)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]any{}
			for id, r := range tpl.Resources {
				m := map[string]any{"Type": r.Type, "Properties": r.Props}
				if r.Condition != "" {
					m["Condition"] = r.Condition
				}
				got[id] = m
			}
			wantModel := permissionModel(toAny(want.Resources))
			gotModel := permissionModel(toAny(got))
			if !reflect.DeepEqual(gotModel, wantModel) {
				g, _ := json.MarshalIndent(gotModel, "", " ")
				w, _ := json.MarshalIndent(wantModel, "", " ")
				t.Errorf("expansion differs from aws-sam-translator's\n--- ours\n%s\n--- samtranslator\n%s", g, w)
				return
			}
			agree++
		})
	}
	t.Logf("%d of %d templates agree with aws-sam-translator %s", agree, len(files), sam.Version)
}

func toAny(v any) map[string]any {
	b, _ := json.Marshal(v)
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	return m
}

// versionID matches the hash SAM appends to a Version's logical ID.
var versionID = regexp.MustCompile(`Version[0-9a-f]{10}$`)

// permissionModel keeps, of a translated template, what decides Lambda
// permissions.
func permissionModel(resources map[string]any) map[string]any {
	keep := map[string][]string{
		"AWS::IAM::Role":          {"AssumeRolePolicyDocument", "ManagedPolicyArns", "Policies", "PermissionsBoundary", "Path", "RoleName"},
		"AWS::IAM::Policy":        {"PolicyDocument", "Roles", "PolicyName"},
		"AWS::IAM::ManagedPolicy": {"PolicyDocument", "Roles", "ManagedPolicyName"},
		"AWS::Lambda::Function":   {"Role", "FunctionName"},
		"AWS::Lambda::Permission": {"Action", "FunctionName", "Principal", "SourceArn", "SourceAccount", "FunctionUrlAuthType", "InvokedViaFunctionUrl", "PrincipalOrgID"},
		"AWS::Lambda::Alias":      {"Name", "FunctionName", "FunctionVersion"},
		"AWS::Lambda::Version":    {"FunctionName"},
		"AWS::Lambda::Url":        {"TargetFunctionArn", "AuthType", "Qualifier"},
	}
	out := map[string]any{}
	for id, v := range resources {
		r, _ := v.(map[string]any)
		typ, _ := r["Type"].(string)
		props, _ := r["Properties"].(map[string]any)
		fields, ok := keep[typ]
		if !ok {
			continue
		}
		m := map[string]any{"Type": typ}
		if c, ok := r["Condition"]; ok {
			m["Condition"] = c
		}
		for _, f := range fields {
			if v, ok := props[f]; ok {
				switch f {
				case "PolicyDocument":
					v = lambdaStatements(v)
				case "Policies":
					var ps []any
					for _, p := range v.([]any) {
						pm := p.(map[string]any)
						ps = append(ps, map[string]any{"PolicyName": pm["PolicyName"], "PolicyDocument": lambdaStatements(pm["PolicyDocument"])})
					}
					v = ps
				}
				m[f] = normalizeVersions(v)
			}
		}
		out[normalizeVersions(id).(string)] = m
	}
	return out
}

// lambdaStatements are the statements of a document that name a lambda:
// action or every action.
func lambdaStatements(doc any) []any {
	d, _ := doc.(map[string]any)
	var stmts []any
	switch s := d["Statement"].(type) {
	case []any:
		stmts = s
	case map[string]any:
		stmts = []any{s}
	}
	out := []any{}
	for _, s := range stmts {
		sm, _ := s.(map[string]any)
		for _, k := range []string{"Action", "NotAction"} {
			b, _ := json.Marshal(sm[k])
			if strings.Contains(strings.ToLower(string(b)), "lambda:") || strings.Contains(string(b), `"*"`) || k == "NotAction" && sm[k] != nil {
				out = append(out, sm)
				break
			}
		}
	}
	return out
}

func normalizeVersions(v any) any {
	switch v := v.(type) {
	case string:
		if strings.HasSuffix(v, "Version"+versionSuffix) {
			return v
		}
		return versionID.ReplaceAllString(v, "Version"+versionSuffix)
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = normalizeVersions(x)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, x := range v {
			out[k] = normalizeVersions(x)
		}
		return out
	}
	return v
}
