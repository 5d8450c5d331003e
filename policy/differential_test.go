package policy

// TestDifferential compares Evaluate with an independent evaluator, the npm
// package @cloud-copilot/iam-simulate, on a few thousand generated cases
// (gen_test.go). The package is a test tool only (AGPL-3.0): the test
// installs the pinned version with npm into a scratch folder under the user
// cache directory; it is never vendored, copied into the repository or
// shipped. testdata/oracle/driver.mjs is our own driver that feeds it the
// cases.
//
// Every disagreement must be settled by the AWS documentation. Cases where
// the documentation shows the other evaluator is wrong are listed, with the
// passage, in testdata/oracle/known-disagreements.json; any other
// disagreement fails the test.
//
//	go test ./policy -run TestDifferential -v
//	go test ./policy -run TestDifferential -oracle.n 10000 -oracle.seed 7 -oracle.dump /tmp/d.jsonl

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

// oracleVersion is the pinned version of @cloud-copilot/iam-simulate; it must
// match testdata/oracle/package.json.
const oracleVersion = "0.1.173"

// differentialSeed and differentialCases fix the generated batch the
// known-disagreements list was reviewed against.
const (
	differentialSeed  = 20250601
	differentialCases = 5000
)

var (
	oracleSeed = flag.Uint64("oracle.seed", differentialSeed, "TestDifferential: generator seed")
	oracleN    = flag.Int("oracle.n", differentialCases, "TestDifferential: number of generated cases")
	oracleDump = flag.String("oracle.dump", "", "TestDifferential: write every disagreement (known or not) as a JSON line to this file")
	oracleShow = flag.Int("oracle.show", 20, "TestDifferential: disagreements to print in full (case, decisions, trace)")
)

// knownDisagreements is testdata/oracle/known-disagreements.json.
type knownDisagreements struct {
	About string `json:"about"`
	// Classes describe each kind of disagreement once: the AWS documentation
	// passage and why it shows the other evaluator is wrong.
	Classes map[string]disagreementClass `json:"classes"`
	// Cases lists every known disagreement of the generated batch.
	Cases []knownDisagreement `json:"cases"`
}

type disagreementClass struct {
	Summary string `json:"summary"`
	Doc     string `json:"doc"`
}

type knownDisagreement struct {
	// ID is the case's id in the batch of the default seed and size;
	// Fingerprint (caseFingerprint) identifies it by content. Either
	// suffices; Fingerprint wins when both are set.
	ID          string `json:"id,omitempty"`
	Fingerprint string `json:"fingerprint,omitempty"`
	// Ours and Oracle are the two decisions ("error" for an oracle error).
	Ours   Decision `json:"ours"`
	Oracle string   `json:"oracle"`
	// Class names an entry of Classes; Doc, if set, is a passage for this
	// case alone.
	Class string `json:"class,omitempty"`
	Doc   string `json:"doc,omitempty"`
}

type oracleAnswer struct {
	ID                 string   `json:"id"`
	Decision           string   `json:"decision"`
	Error              string   `json:"error"`
	IgnoredContextKeys []string `json:"ignoredContextKeys"`
}

func TestDifferential(t *testing.T) {
	node, npm := findNode(t)
	dir := installOracle(t, npm)
	driver := placeDriver(t, dir)

	known := loadKnownDisagreements(t, "testdata/oracle/known-disagreements.json")

	start := time.Now()
	cases := generateCases(*oracleSeed, *oracleN)
	var in bytes.Buffer
	for _, c := range cases {
		b, err := json.Marshal(c)
		if err != nil {
			t.Fatal(err)
		}
		in.Write(b)
		in.WriteByte('\n')
	}
	genDone := time.Now()

	answers := runOracle(t, node, dir, driver, &in, len(cases))
	oracleDone := time.Now()

	type disagreement struct {
		c           Case
		fingerprint string
		ours        Decision
		oracle      string
		res         *Result
		oracleErr   string
		known       *knownDisagreement
		class       string // the classifier's class, if any
	}
	var (
		all      []disagreement
		agree    int
		matched  = map[*knownDisagreement]bool{}
		pairs    = map[string]int{}
		ignored  = map[string]int{}
		dumpData bytes.Buffer
	)
	for _, c := range cases {
		ans, ok := answers[c.ID]
		if !ok {
			t.Fatalf("the driver gave no answer for case %s", c.ID)
		}
		res, err := c.evaluate()
		if err != nil {
			b, _ := json.MarshalIndent(c, "", "  ")
			t.Fatalf("case %s: our engine rejected a generated case: %v\n%s", c.ID, err, b)
		}
		if len(ans.IgnoredContextKeys) > 0 {
			// The simulator drops context keys it does not know for the
			// action; the generator only writes keys AWS sends with it.
			ignored[strings.Join(ans.IgnoredContextKeys, ", ")]++
		}
		oracle := ans.Decision
		if ans.Error != "" {
			oracle = "error"
		}
		if oracle == string(res.Decision) {
			agree++
			continue
		}
		d := disagreement{c: c, fingerprint: caseFingerprint(c), ours: res.Decision, oracle: oracle, res: res, oracleErr: ans.Error}
		if k := known.lookup(d.fingerprint, c.ID, *oracleSeed == differentialSeed && *oracleN == differentialCases); k != nil && k.Ours == d.ours && k.Oracle == d.oracle {
			d.known = k
			matched[k] = true
		}
		if d.known == nil {
			pairs[fmt.Sprintf("ours %s, oracle %s", d.ours, d.oracle)]++
		}
		all = append(all, d)
	}

	// Disagreements not listed are put in a class by the classifier. Outside
	// the reviewed batch a classified one counts as known; in the reviewed
	// batch every disagreement must be listed, so the class is only a hint.
	reviewed := *oracleSeed == differentialSeed && *oracleN == differentialCases
	var (
		unlisted      []int
		unlistedCases []Case
		unlistedOurs  []Decision
		unlistedOrcl  []string
	)
	for i, d := range all {
		if d.known == nil {
			unlisted = append(unlisted, i)
			unlistedCases = append(unlistedCases, d.c)
			unlistedOurs = append(unlistedOurs, d.ours)
			unlistedOrcl = append(unlistedOrcl, d.oracle)
		}
	}
	classifiedCount := 0
	if len(unlisted) > 0 {
		classes := classify(t, node, dir, driver, unlistedCases, unlistedOurs, unlistedOrcl)
		for k, i := range unlisted {
			if _, ok := known.Classes[classes[k]]; !ok {
				continue
			}
			all[i].class = classes[k]
			if !reviewed {
				classifiedCount++
				pairs[fmt.Sprintf("ours %s, oracle %s", all[i].ours, all[i].oracle)]--
			}
		}
	}
	for _, d := range all {
		if *oracleDump != "" {
			class := d.class
			if d.known != nil {
				class = d.known.Class
			}
			b, _ := json.Marshal(map[string]any{
				"id": d.c.ID, "fingerprint": d.fingerprint, "ours": d.ours, "oracle": d.oracle,
				"known": d.known != nil, "class": class, "blockedBy": d.res.BlockedBy, "oracleError": d.oracleErr, "case": d.c,
			})
			dumpData.Write(b)
			dumpData.WriteByte('\n')
		}
	}
	if *oracleDump != "" {
		if err := os.WriteFile(*oracleDump, dumpData.Bytes(), 0o644); err != nil {
			t.Error(err)
		}
	}

	var unknown []disagreement
	knownCount := 0
	for _, d := range all {
		if d.known != nil || (!reviewed && d.class != "") {
			knownCount++
		} else {
			unknown = append(unknown, d)
		}
	}
	t.Logf("%d cases: %d agree, %d known disagreements (%d listed, %d by class), %d new disagreements (seed %d; generate %v, oracle %v, compare %v)",
		len(cases), agree, knownCount, knownCount-classifiedCount, classifiedCount, len(unknown), *oracleSeed,
		genDone.Sub(start).Round(time.Millisecond), oracleDone.Sub(genDone).Round(time.Millisecond), time.Since(oracleDone).Round(time.Millisecond))
	for keys, n := range ignored {
		t.Errorf("the oracle ignored context keys %s in %d cases (not defined for the action in its data): those comparisons are not meaningful; keep such keys out of the generator", keys, n)
	}

	// A listed case that now agrees means our engine changed to the answer
	// the documentation says is wrong.
	if reviewed {
		byID := map[string]Case{}
		byFP := map[string]Case{}
		for _, c := range cases {
			byID[c.ID] = c
			byFP[caseFingerprint(c)] = c
		}
		for i := range known.Cases {
			k := &known.Cases[i]
			if matched[k] {
				continue
			}
			_, inBatch := byFP[k.Fingerprint]
			if k.Fingerprint == "" {
				_, inBatch = byID[k.ID]
			}
			if inBatch {
				t.Errorf("known disagreement %s %s (ours %s, oracle %s, class %q) no longer occurs: our engine or the oracle changed its answer; check it against the documentation and update known-disagreements.json",
					k.ID, k.Fingerprint, k.Ours, k.Oracle, k.Class)
			} else {
				t.Logf("known disagreement %s %s is not in the generated batch any more (the generator changed): remove it", k.ID, k.Fingerprint)
			}
		}
	}

	if len(unknown) == 0 {
		return
	}
	keys := make([]string, 0, len(pairs))
	for k := range pairs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var sb strings.Builder
	fmt.Fprintf(&sb, "%d disagreements with @cloud-copilot/iam-simulate %s not listed in testdata/oracle/known-disagreements.json.\n", len(unknown), oracleVersion)
	sb.WriteString("Settle each one with the AWS documentation: fix the engine if it is wrong; list the case with the passage if the oracle is.\nBy decisions:\n")
	for _, k := range keys {
		if pairs[k] > 0 {
			fmt.Fprintf(&sb, "  %5d  %s\n", pairs[k], k)
		}
	}
	for i, d := range unknown {
		if i >= *oracleShow {
			fmt.Fprintf(&sb, "\n... and %d more (use -oracle.show N or -oracle.dump FILE):\n", len(unknown)-i)
			for _, d := range unknown[i:] {
				fmt.Fprintf(&sb, "  %s %s ours %s, oracle %s%s: %s\n", d.c.ID, d.fingerprint, d.ours, d.oracle, classHint(d.class), d.c.Description)
			}
			break
		}
		cj, _ := json.MarshalIndent(d.c, "", "  ")
		trace, _ := json.MarshalIndent(d.res, "", "  ")
		fmt.Fprintf(&sb, "\n=== %s (fingerprint %s): ours %s (blockedBy %v), oracle %s%s\n", d.c.ID, d.fingerprint, d.ours, d.res.BlockedBy, d.oracle, classHint(d.class))
		if d.oracleErr != "" {
			fmt.Fprintf(&sb, "oracle error: %s\n", d.oracleErr)
		}
		fmt.Fprintf(&sb, "case:\n%s\nour trace:\n%s\n", cj, trace)
	}
	t.Error(sb.String())
}

// findNode locates node and npm. The test does not skip without them: the
// differential check is part of the suite.
func findNode(t *testing.T) (node, npm string) {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		if alt, altErr := exec.LookPath("nodejs"); altErr == nil { // Debian's older name
			node, err = alt, nil
		}
	}
	if err != nil {
		ci := ""
		if os.Getenv("CI") != "" {
			ci = " (CI is set: the CI image must provide Node.js)"
		}
		t.Fatalf("TestDifferential needs Node.js (18 or later) and npm on PATH to run the oracle @cloud-copilot/iam-simulate@%s; node was not found%s: %v", oracleVersion, ci, err)
	}
	npm, err = exec.LookPath("npm")
	if err != nil {
		t.Fatalf("TestDifferential needs npm on PATH (next to node at %s) to install @cloud-copilot/iam-simulate@%s: %v", node, oracleVersion, err)
	}
	return node, npm
}

// installOracle installs testdata/oracle/package.json (and its lock file)
// into a scratch folder under the user cache directory, once per content of
// those files, and returns that folder.
func installOracle(t *testing.T, npm string) string {
	t.Helper()
	manifest, err := os.ReadFile("testdata/oracle/package.json")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(manifest, []byte(`"@cloud-copilot/iam-simulate": "`+oracleVersion+`"`)) {
		t.Fatalf("testdata/oracle/package.json does not pin @cloud-copilot/iam-simulate %s (oracleVersion)", oracleVersion)
	}
	lock, err := os.ReadFile("testdata/oracle/package-lock.json")
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}
	h := sha256.New()
	h.Write(manifest)
	h.Write(lock)
	key := hex.EncodeToString(h.Sum(nil))[:12]

	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	base := filepath.Join(cache, "why-denied-oracle")
	final := filepath.Join(base, "iam-simulate-"+oracleVersion+"-"+key)
	if installedVersion(final) == oracleVersion {
		return final
	}
	if err := os.MkdirAll(base, 0o755); err != nil {
		t.Fatal(err)
	}
	// Install into a fresh folder and rename it into place, so concurrent
	// runs never see a half-installed tree.
	tmp, err := os.MkdirTemp(base, "install-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(tmp)
	if err := os.WriteFile(filepath.Join(tmp, "package.json"), manifest, 0o644); err != nil {
		t.Fatal(err)
	}
	if lock != nil {
		if err := os.WriteFile(filepath.Join(tmp, "package-lock.json"), lock, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, npm, "install", "--no-audit", "--no-fund", "--no-update-notifier")
	cmd.Dir = tmp
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("npm install of @cloud-copilot/iam-simulate@%s in %s failed: %v\n%s", oracleVersion, tmp, err, out)
	}
	if v := installedVersion(tmp); v != oracleVersion {
		t.Fatalf("npm installed @cloud-copilot/iam-simulate %q, want %s\n%s", v, oracleVersion, out)
	}
	t.Logf("installed @cloud-copilot/iam-simulate@%s into %s", oracleVersion, final)
	if err := os.Rename(tmp, final); err != nil {
		if installedVersion(final) == oracleVersion {
			return final // another run won the race
		}
		t.Fatal(err)
	}
	return final
}

func installedVersion(dir string) string {
	b, err := os.ReadFile(filepath.Join(dir, "node_modules", "@cloud-copilot", "iam-simulate", "package.json"))
	if err != nil {
		return ""
	}
	var p struct {
		Version string `json:"version"`
	}
	if json.Unmarshal(b, &p) != nil {
		return ""
	}
	return p.Version
}

// placeDriver puts a copy of driver.mjs next to the installed node_modules,
// named by its content, and returns its path.
func placeDriver(t *testing.T, dir string) string {
	t.Helper()
	src, err := os.ReadFile("testdata/oracle/driver.mjs")
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(src)
	path := filepath.Join(dir, "driver-"+hex.EncodeToString(sum[:6])+".mjs")
	if b, err := os.ReadFile(path); err == nil && bytes.Equal(b, src) {
		return path
	}
	f, err := os.CreateTemp(dir, "driver-*.tmp")
	if err != nil {
		t.Fatal(err)
	}
	_, werr := f.Write(src)
	cerr := f.Close()
	if werr != nil || cerr != nil {
		os.Remove(f.Name())
		t.Fatal(errors.Join(werr, cerr))
	}
	if err := os.Rename(f.Name(), path); err != nil {
		os.Remove(f.Name())
		t.Fatal(err)
	}
	return path
}

// runOracle runs the driver once on every case and returns its answers by
// case id.
func runOracle(t *testing.T, node, dir, driver string, in *bytes.Buffer, n int) map[string]oracleAnswer {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, driver)
	cmd.Dir = dir
	cmd.Stdin = in
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("oracle driver failed: %v\nstderr:\n%s", err, stderr.String())
	}
	answers := make(map[string]oracleAnswer, n)
	sc := bufio.NewScanner(&stdout)
	sc.Buffer(make([]byte, 0, 1<<16), 1<<24)
	for sc.Scan() {
		var a oracleAnswer
		if err := json.Unmarshal(sc.Bytes(), &a); err != nil {
			t.Fatalf("oracle driver wrote a bad line %q: %v", sc.Text(), err)
		}
		if a.ID == "" {
			t.Fatalf("oracle driver could not read a case: %s", a.Error)
		}
		answers[a.ID] = a
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(answers) != n {
		t.Fatalf("oracle driver answered %d cases, want %d\nstderr:\n%s", len(answers), n, stderr.String())
	}
	return answers
}

func loadKnownDisagreements(t *testing.T, path string) *knownDisagreements {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var k knownDisagreements
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&k); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	for i, c := range k.Cases {
		if c.ID == "" && c.Fingerprint == "" {
			t.Fatalf("%s: entry %d has neither id nor fingerprint", path, i)
		}
		if c.Doc == "" {
			cl, ok := k.Classes[c.Class]
			if !ok || cl.Doc == "" {
				t.Fatalf("%s: entry %d (%s %s) has no documentation passage (no doc, and class %q has none)", path, i, c.ID, c.Fingerprint, c.Class)
			}
		}
	}
	return &k
}

// lookup finds the entry for a case by fingerprint, or by id when ids are
// those of the reviewed batch.
func (k *knownDisagreements) lookup(fingerprint, id string, idsValid bool) *knownDisagreement {
	for i := range k.Cases {
		e := &k.Cases[i]
		if e.Fingerprint != "" {
			if e.Fingerprint == fingerprint {
				return e
			}
			continue
		}
		if idsValid && e.ID == id {
			return e
		}
	}
	return nil
}

// The classifier puts a disagreement outside the reviewed batch (another
// seed or size) into a class of known-disagreements.json the way each class
// was found: the case has the shape the class is about, and one change to
// it, the one the class names, makes both evaluators agree (both are asked
// again on the changed case). Two changes together make a compound class
// ("a + b"), which must be listed in the file too. A disagreement no rule
// explains is new.
type classRule struct {
	name string
	// shape: the case is of the kind the class is about; decisions: the
	// two answers the class documents (checked for a class alone, not as
	// part of a compound, where the other cause changes the answers).
	shape     func(c Case) bool
	decisions func(ours Decision, oracle string) bool
	// change: the single change after which both evaluators must agree.
	change func(c Case) Case
}

var classRules = []classRule{
	{
		name: "scp-service-principal",
		shape: func(c Case) bool {
			return PrincipalKindOf(c.Request.Principal) == KindService && c.Policies.SCPs != nil
		},
		decisions: func(_ Decision, oracle string) bool { return oracle != string(Allowed) },
		change:    func(c Case) Case { c.Policies.SCPs = nil; return c },
	},
	{
		// The session policy does not allow what a resource policy grants
		// the session (or "*") directly: allow everything in it instead.
		name: "session-grant-vs-session-policy",
		shape: func(c Case) bool {
			return len(c.Policies.Session) > 0 && !isNull(c.Policies.Resource)
		},
		decisions: func(ours Decision, oracle string) bool { return ours == Allowed && oracle == string(ImplicitDeny) },
		change: func(c Case) Case {
			c.Policies.Session = []json.RawMessage{json.RawMessage(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`)}
			return c
		},
	},
	{
		// List the caller's whole chain (account, role or user, session)
		// in every NotPrincipal.
		name: "notprincipal-deny-partial",
		shape: func(c Case) bool {
			return isNull(c.Policies.PermissionsBoundary) && bytes.Contains(c.Policies.Resource, []byte(`"NotPrincipal"`))
		},
		decisions: func(ours Decision, _ string) bool { return ours == ExplicitDeny },
		change: func(c Case) Case {
			chain := []string{c.Request.Principal}
			if a := accountOfARN(c.Request.Principal); a != "" {
				chain = append(chain, "arn:aws:iam::"+a+":root")
			}
			if c.Request.PrincipalARN != "" {
				chain = append(chain, c.Request.PrincipalARN)
			} else if in, err := c.Input(); err == nil && in.Request.entityARN() != "" {
				chain = append(chain, in.Request.entityARN())
			}
			c.Policies.Resource = editStatements(c.Policies.Resource, func(s map[string]any) {
				np, ok := s["NotPrincipal"].(map[string]any)
				if !ok {
					return
				}
				var list []any
				switch v := np["AWS"].(type) {
				case string:
					list = []any{v}
				case []any:
					list = v
				}
				for _, id := range chain {
					list = append(list, id)
				}
				np["AWS"] = list
			})
			return c
		},
	},
	{
		// A Version 2008-10-17 document with ${...}: give it Version
		// 2012-10-17, where both substitute.
		name:      "variables-in-2008-policy",
		decisions: func(Decision, string) bool { return true },
		shape: func(c Case) bool {
			found := false
			forEachDoc(&c.Policies, func(d json.RawMessage) json.RawMessage {
				if bytes.Contains(d, []byte(`"2008-10-17"`)) && bytes.Contains(d, []byte("${")) {
					found = true
				}
				return d
			})
			return found
		},
		change: func(c Case) Case {
			c.Policies = clonePolicies(c.Policies)
			forEachDoc(&c.Policies, func(d json.RawMessage) json.RawMessage {
				if bytes.Contains(d, []byte("${")) {
					return bytes.Replace(d, []byte(`"2008-10-17"`), []byte(`"2012-10-17"`), 1)
				}
				return d
			})
			return c
		},
	},
	{
		// A federated user session with no session policy: pass one that
		// allows everything, so the IAM user's policies decide.
		name: "federated-user-without-session-policy",
		shape: func(c Case) bool {
			return PrincipalKindOf(c.Request.Principal) == KindFederatedUser && len(c.Policies.Session) == 0
		},
		decisions: func(ours Decision, oracle string) bool { return ours == ImplicitDeny && oracle == string(Allowed) },
		change: func(c Case) Case {
			c.Policies.Session = []json.RawMessage{json.RawMessage(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`)}
			return c
		},
	},
}

func init() {
	classRules = append(classRules, classRule{
		// A Resource or NotResource entry with a variable that has no value
		// in the request: replace it by a literal that names no resource,
		// which is what the documentation says it is.
		name: "variable-without-value-in-resource",
		shape: func(c Case) bool {
			found := false
			forEachDoc(&c.Policies, func(d json.RawMessage) json.RawMessage {
				editStatements(d, func(s map[string]any) {
					for _, el := range []string{"Resource", "NotResource"} {
						for _, v := range stringsOf(s[el]) {
							if unsetVariable(v, c.Request.Context) {
								found = true
							}
						}
					}
				})
				return d
			})
			return found
		},
		decisions: func(Decision, string) bool { return true },
		change: func(c Case) Case {
			c.Policies = clonePolicies(c.Policies)
			forEachDoc(&c.Policies, func(d json.RawMessage) json.RawMessage {
				if !bytes.Contains(d, []byte("${")) || bytes.Contains(d, []byte(`"2008-10-17"`)) {
					return d
				}
				return editStatements(d, func(s map[string]any) {
					for _, el := range []string{"Resource", "NotResource"} {
						vals := stringsOf(s[el])
						if vals == nil {
							continue
						}
						out := make([]any, len(vals))
						for i, v := range vals {
							out[i] = v
							if unsetVariable(v, c.Request.Context) {
								out[i] = "arn:aws:lambda:us-east-1:000000000000:function:no-such-function"
							}
						}
						s[el] = out
					}
				})
			})
			return c
		},
	})
}

// unsetVariable reports a value with a ${...} variable (no default) whose
// key is not in ctx.
func unsetVariable(v string, ctx CaseContext) bool {
	for {
		i := strings.Index(v, "${")
		if i < 0 {
			return false
		}
		j := strings.Index(v[i:], "}")
		if j < 0 {
			return false
		}
		key := v[i+2 : i+j]
		v = v[i+j+1:]
		if strings.Contains(key, ",") || key == "*" || key == "?" || key == "$" {
			continue
		}
		if _, ok := Context(ctx).Lookup(key); !ok {
			return true
		}
	}
}

func stringsOf(v any) []string {
	switch x := v.(type) {
	case string:
		return []string{x}
	case []any:
		var out []string
		for _, e := range x {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

func accountOfARN(s string) string {
	parts := strings.Split(s, ":")
	if len(parts) >= 6 && parts[0] == "arn" {
		return parts[4]
	}
	return ""
}

// clonePolicies copies the lists so a change does not alter the original.
func clonePolicies(p CasePolicies) CasePolicies {
	q := p
	q.Identity = append([]json.RawMessage(nil), p.Identity...)
	q.Session = append([]json.RawMessage(nil), p.Session...)
	q.SCPs = nil
	for _, l := range p.SCPs {
		q.SCPs = append(q.SCPs, append([]json.RawMessage(nil), l...))
	}
	q.RCPs = nil
	for _, l := range p.RCPs {
		q.RCPs = append(q.RCPs, append([]json.RawMessage(nil), l...))
	}
	return q
}

// forEachDoc replaces every document of p by f's result.
func forEachDoc(p *CasePolicies, f func(json.RawMessage) json.RawMessage) {
	for i := range p.Identity {
		p.Identity[i] = f(p.Identity[i])
	}
	for i := range p.Session {
		p.Session[i] = f(p.Session[i])
	}
	if !isNull(p.Resource) {
		p.Resource = f(p.Resource)
	}
	if !isNull(p.PermissionsBoundary) {
		p.PermissionsBoundary = f(p.PermissionsBoundary)
	}
	for _, l := range p.SCPs {
		for i := range l {
			l[i] = f(l[i])
		}
	}
	for _, l := range p.RCPs {
		for i := range l {
			l[i] = f(l[i])
		}
	}
}

// editStatements applies f to every statement of doc and returns the new
// document.
func editStatements(doc json.RawMessage, f func(map[string]any)) json.RawMessage {
	var d map[string]any
	if json.Unmarshal(doc, &d) != nil {
		return doc
	}
	switch st := d["Statement"].(type) {
	case map[string]any:
		f(st)
	case []any:
		for _, s := range st {
			if m, ok := s.(map[string]any); ok {
				f(m)
			}
		}
	}
	b, err := json.Marshal(d)
	if err != nil {
		return doc
	}
	return b
}

// candidate is one changed case to ask both evaluators about.
type candidate struct {
	of    int // index into the disagreements
	class string
	c     Case
}

// classify returns, for each disagreement, the class whose change makes both
// evaluators agree ("" if none does).
func classify(t *testing.T, node, dir, driver string, cases []Case, ours []Decision, oracle []string) []string {
	t.Helper()
	var cands []candidate
	for i, c := range cases {
		var fit []classRule
		for _, r := range classRules {
			if r.shape(c) {
				fit = append(fit, r)
			}
		}
		for _, r := range fit {
			if r.decisions(ours[i], oracle[i]) {
				cands = append(cands, candidate{i, r.name, r.change(c)})
			}
		}
		for a := 0; a < len(fit); a++ {
			for b := a + 1; b < len(fit); b++ {
				cands = append(cands, candidate{i, fit[a].name + " + " + fit[b].name, fit[b].change(fit[a].change(c))})
			}
		}
	}
	out := make([]string, len(cases))
	if len(cands) == 0 {
		return out
	}
	var in bytes.Buffer
	for k := range cands {
		cands[k].c.ID = fmt.Sprintf("cf-%d", k)
		b, err := json.Marshal(cands[k].c)
		if err != nil {
			t.Fatal(err)
		}
		in.Write(b)
		in.WriteByte('\n')
	}
	answers := runOracle(t, node, dir, driver, &in, len(cands))
	// Each case's single changes come before its pairs: the first change
	// that makes both agree names the class.
	for _, cd := range cands {
		if out[cd.of] != "" {
			continue
		}
		res, err := cd.c.evaluate()
		if err != nil {
			continue
		}
		if ans := answers[cd.c.ID]; ans.Error == "" && ans.Decision == string(res.Decision) {
			out[cd.of] = cd.class
		}
	}
	return out
}

func classHint(class string) string {
	if class == "" {
		return ""
	}
	return " (the classifier says " + class + "; list it)"
}
