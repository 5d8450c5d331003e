package template

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"testing"
)

// Every corpus template with one value replaced by a value of another
// kind (a string, a list, a map, an intrinsic naming nothing, an Fn::If of
// an unknown condition) goes through the whole pipeline without a panic:
// a template is input, and nothing panics on input.
func TestMutatedTemplatesDoNotPanic(t *testing.T) {
	files, _ := filepath.Glob("testdata/sam/*")
	replacements := []any{"x", []any{}, map[string]any{}, map[string]any{"Ref": "Nope"},
		map[string]any{"Fn::If": []any{"Nope", "a", map[string]any{"Ref": "AWS::NoValue"}}}, int64(3), nil,
		map[string]any{"Fn::GetAtt": "Nope"}, map[string]any{"Fn::Sub": []any{1}}}
	runs := 0
	for _, f := range files {
		src, _ := os.ReadFile(f)
		doc, err := parse(src)
		if err != nil {
			t.Fatal(err)
		}
		for _, path := range valuePaths(doc.root, "", 0) {
			for _, r := range replacements {
				root := mutate(doc.root, path, r)
				b, err := json.Marshal(root)
				if err != nil {
					t.Fatal(err)
				}
				runs++
				func() {
					defer func() {
						if p := recover(); p != nil {
							t.Fatalf("%s with %s replaced by %#v: panic: %v", filepath.Base(f), path, r, p)
						}
					}()
					pipeline(b)
				}()
			}
		}
	}
	t.Logf("%d mutated templates", runs)
}

func pipeline(src []byte) {
	tpl, err := Parse(src)
	if err != nil {
		return
	}
	st, err := tpl.Resolve(Settings{Account: "123456789012", Region: "us-east-1", StackName: "s"})
	if err != nil {
		return
	}
	pairs := st.Pairs()
	for _, fn := range sortedFunctions(st) {
		pairs = append(pairs, Pair{Caller: fn.ID, Target: fn.ID}, Pair{Caller: "s3.amazonaws.com", Target: fn.ID, Qualifier: "live"})
	}
	for _, p := range pairs {
		if ev, err := st.Evidence(p, "lambda:InvokeFunction", nil); err == nil {
			st.Findings(p, ev, true, nil)
		}
	}
}

// valuePaths are the paths of the values under Resources and Globals.
func valuePaths(v any, path string, depth int) []string {
	var out []string
	if depth > 0 {
		out = append(out, path)
	}
	switch v := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			if depth == 0 && k != "Resources" && k != "Globals" && k != "Conditions" {
				continue
			}
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			out = append(out, valuePaths(v[k], path+"/"+k, depth+1)...)
		}
	case []any:
		for i, x := range v {
			out = append(out, valuePaths(x, fmt.Sprintf("%s/%d", path, i), depth+1)...)
		}
	}
	return out
}

// mutate returns a copy of v with the value at path replaced.
func mutate(v any, path string, r any) any {
	if path == "" {
		return r
	}
	var head, rest string
	path = path[1:]
	if i := indexByte(path, '/'); i >= 0 {
		head, rest = path[:i], path[i:]
	} else {
		head = path
	}
	switch v := v.(type) {
	case map[string]any:
		out := cloneMap(v)
		out[head] = mutate(v[head], rest, r)
		return out
	case []any:
		out := append([]any{}, v...)
		var i int
		fmt.Sscan(head, &i)
		out[i] = mutate(v[i], rest, r)
		return out
	}
	return v
}

func indexByte(s string, c byte) int {
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			return i
		}
	}
	return -1
}
