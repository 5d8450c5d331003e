package main

import (
	"bytes"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
)

func TestVersionFromBuildInfo(t *testing.T) {
	for _, c := range []struct {
		name string
		info *debug.BuildInfo
		want string
	}{
		{"go install @version", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v1.2.3"}},
			"why-denied v1.2.3\n  commit    unknown\n  go        go1.26.8\n  evidence  file version 1\n"},
		{"go build in a checkout", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: "0123456789abcdef0123456789abcdef01234567"}, {Key: "vcs.modified", Value: "true"}}},
			"why-denied dev\n  commit    0123456789abcdef0123456789abcdef01234567 (modified)\n  go        go1.26.8\n  evidence  file version 1\n"},
		{"no build info", nil, "why-denied dev\n  commit    unknown\n  go        unknown\n  evidence  file version 1\n"},
	} {
		var buf bytes.Buffer
		if err := writeVersion(&buf, c.info); err != nil {
			t.Fatal(err)
		}
		if buf.String() != c.want {
			t.Errorf("%s: got\n%s\nwant\n%s", c.name, buf.String(), c.want)
		}
	}
	code, out, _ := execute(t, nil, "version")
	if code != exitAllowed || !strings.HasPrefix(out, "why-denied ") || !strings.Contains(out, "  go        "+runtime.Version()) {
		t.Errorf("why-denied version: exit %d\n%s", code, out)
	}
}
