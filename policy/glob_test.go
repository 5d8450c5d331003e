package policy

import (
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

// refGlob is the reference for pattern.match: the pattern as an anchored
// regular expression ('*' any run, '?' one character). Go's regexp runs in
// linear time, so the reference is safe on the hostile seeds too.
func refGlob(p string) *regexp.Regexp {
	var b strings.Builder
	b.WriteString(`^(?s:`)
	for _, r := range p {
		switch r {
		case '*':
			b.WriteString(`.*`)
		case '?':
			b.WriteString(`.`)
		default:
			b.WriteString(regexp.QuoteMeta(string(r)))
		}
	}
	b.WriteString(`)$`)
	return regexp.MustCompile(b.String())
}

// refSegments is the reference for segmentsMatch: colons separate segments;
// in a segment that ends with '*' every wildcard may cross colons, in any
// other segment none may.
func refSegments(p string) *regexp.Regexp {
	var b strings.Builder
	b.WriteString(`^(?s:`)
	for i, seg := range strings.Split(p, ":") {
		if i > 0 {
			b.WriteString(`:`)
		}
		spans := strings.HasSuffix(seg, "*")
		for _, r := range seg {
			switch {
			case r == '*' && spans:
				b.WriteString(`.*`)
			case r == '?' && spans:
				b.WriteString(`.`)
			case r == '*':
				b.WriteString(`[^:]*`)
			case r == '?':
				b.WriteString(`[^:]`)
			default:
				b.WriteString(regexp.QuoteMeta(string(r)))
			}
		}
	}
	b.WriteString(`)$`)
	return regexp.MustCompile(b.String())
}

func checkGlob(t *testing.T, p, v string) {
	t.Helper()
	if got, want := plain(p).match(v, false), refGlob(p).MatchString(v); got != want {
		t.Fatalf("match(%q, %q) = %v, reference says %v", p, v, got, want)
	}
	if got, want := plain(p).match(v, true), refGlob(asciiLower(p)).MatchString(asciiLower(v)); got != want {
		t.Fatalf("match(%q, %q, fold) = %v, reference says %v", p, v, got, want)
	}
	if got, want := segmentsMatch(plain(p), v), refSegments(p).MatchString(v); got != want {
		t.Fatalf("segmentsMatch(%q, %q) = %v, reference says %v", p, v, got, want)
	}
	set := newLikeSet([]pattern{plain(p), plain("zz" + p), plain(p + "?")})
	if got, want := set.any(v), plain(p).match(v, false) || plain("zz"+p).match(v, false) || plain(p+"?").match(v, false); got != want {
		t.Fatalf("likeSet(%q).any(%q) = %v, pattern by pattern %v", p, v, got, want)
	}
}

// FuzzGlob checks the wildcard matcher, the ARN segment matcher and the
// pattern set against regular-expression references. Seeds include the
// exponential and quadratic shapes (testdata/fuzz/FuzzGlob).
func FuzzGlob(f *testing.F) {
	for _, s := range [][2]string{
		{"arn:aws:lambda:*:111111111111:function:F*", "arn:aws:lambda:us-east-1:111111111111:function:F:live"},
		{"arn:aws:lambda:us-east-1:111111111111:function:F", "arn:aws:lambda:us-east-1:111111111111:function:F:1"},
		{"a?b*c", "aßbxxc"},
		{"*?*", ""},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, p, v string) {
		if !utf8.ValidString(p) || !utf8.ValidString(v) || len(p) > 20000 || len(v) > 1<<20 {
			return
		}
		checkGlob(t, p, v)
	})
}

// TestGlobRandom compares the matchers with the references on random short
// patterns and values over a small alphabet, where the corner cases live.
func TestGlobRandom(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	alpha := []string{"a", "b", ":", "*", "?", "ß"}
	gen := func(n int, wild bool) string {
		var b strings.Builder
		for range rng.Intn(n) {
			c := alpha[rng.Intn(len(alpha))]
			if !wild && (c == "*" || c == "?") {
				c = "a"
			}
			b.WriteString(c)
		}
		return b.String()
	}
	for range 20000 {
		checkGlob(t, gen(8, true), gen(10, false))
	}
}

// TestGlobSeedCorpus keeps testdata/fuzz/FuzzGlob holding the hostile
// shapes: a missing or emptied seed file would let them regress unseen.
func TestGlobSeedCorpus(t *testing.T) {
	files, _ := filepath.Glob("testdata/fuzz/FuzzGlob/*")
	if len(files) < 3 {
		t.Fatalf("want the hostile seeds under testdata/fuzz/FuzzGlob, found %d files", len(files))
	}
}

// writeGlobSeeds writes the hostile seeds; run TestWriteGlobSeeds with
// WRITE_GLOB_SEEDS=1 after changing them.
func writeGlobSeeds() error {
	seeds := map[string][2]string{
		"exponential-segment-stars": {"arn:" + strings.Repeat("*:", 20) + "x", "arn:" + strings.Repeat("a:", 40) + "y"},
		"quadratic-long-literal":    {"*" + strings.Repeat("a", 500) + "b*", strings.Repeat("a", 20000)},
		"quadratic-question-marks":  {"*" + strings.Repeat("a?", 200) + "b*", strings.Repeat("a", 5000)},
		"shift-and-question-marks":  {"*" + strings.Repeat("a?", 100) + "ß?b*", strings.Repeat("a", 3000) + "ßxb" + strings.Repeat("a", 3000)},
		"many-stars-no-match":       {strings.Repeat("a*", 500) + "b", strings.Repeat("a", 5000)},
	}
	for name, s := range seeds {
		body := "go test fuzz v1\nstring(" + strconv.Quote(s[0]) + ")\nstring(" + strconv.Quote(s[1]) + ")\n"
		if err := os.WriteFile(filepath.Join("testdata/fuzz/FuzzGlob", name), []byte(body), 0o644); err != nil {
			return fmt.Errorf("writing seed %s: %w", name, err)
		}
	}
	return nil
}

func TestWriteGlobSeeds(t *testing.T) {
	if os.Getenv("WRITE_GLOB_SEEDS") == "" {
		t.Skip("set WRITE_GLOB_SEEDS=1 to rewrite testdata/fuzz/FuzzGlob")
	}
	if err := os.MkdirAll("testdata/fuzz/FuzzGlob", 0o755); err != nil {
		t.Fatal(err)
	}
	if err := writeGlobSeeds(); err != nil {
		t.Fatal(err)
	}
}

// TestShiftAndAgreesWithNaiveSearch compares the two ways find searches a
// chunk with '?' on random short inputs.
func TestShiftAndAgreesWithNaiveSearch(t *testing.T) {
	rng := rand.New(rand.NewSource(2))
	alpha := []string{"a", "b", "?", "ß", ":"}
	gen := func(n int, wild bool) string {
		var b strings.Builder
		for range 1 + rng.Intn(n) {
			c := alpha[rng.Intn(len(alpha))]
			if !wild && c == "?" {
				c = "b"
			}
			b.WriteString(c)
		}
		return b.String()
	}
	naive := func(p pattern, s string) (int, bool) {
		for i := 0; i <= len(s); {
			if end, ok := p.matchAt(s, i, len(s)); ok {
				return end, true
			}
			if i == len(s) {
				break
			}
			i += runeLen(s, i)
		}
		return 0, false
	}
	for range 20000 {
		p, v := plain(gen(6, true)), gen(12, false)
		e1, ok1 := p.findShiftAnd(v, 0, len(v))
		e2, ok2 := naive(p, v)
		if ok1 != ok2 || (ok1 && e1 != e2) {
			t.Fatalf("find %q in %q: shift-and %d %v, naive %d %v", p.text, v, e1, ok1, e2, ok2)
		}
	}
}
