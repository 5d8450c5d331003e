package policy

import (
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/why-denied/why-denied/arn"
)

// ConditionTrace records how one condition key was evaluated.
type ConditionTrace struct {
	Operator string `json:"operator"`
	Key      string `json:"key"`
	// Values are the policy's values, after policy variables were
	// substituted (an unresolved variable leaves the value as written).
	Values []string `json:"values"`
	// RequestValues are the request's values of Key; KeyPresent says whether
	// the key exists in the request at all.
	RequestValues []string `json:"requestValues,omitempty"`
	KeyPresent    bool     `json:"keyPresent"`
	Matched       bool     `json:"matched"`
	// UnknownOperator is set when the engine does not know Operator; the
	// condition is then undecidable and the result lists it as a problem.
	UnknownOperator bool `json:"unknownOperator,omitempty"`
	// Undecidable says why the engine cannot tell whether the condition
	// holds: an unknown operator, or a policy or request value it cannot
	// read for the operator (a CIDR /33, a date 2020-13-45, a number 0x10).
	// Matched is then false; see Input.AssumeUndecidableMatch.
	Undecidable string `json:"undecidable,omitempty"`
	// Unresolved names policy variables that had no value in the request.
	Unresolved []string `json:"unresolved,omitempty"`
}

// operator is a parsed condition operator name.
type operator struct {
	base     string // e.g. "StringEquals"
	ifExists bool
	set      string // "", "ForAnyValue" or "ForAllValues"
	negated  bool
	kind     opKind
	cmp      cmp
}

type opKind int

const (
	opUnknown opKind = iota
	opString
	opStringIgnoreCase
	opStringLike
	opNumeric
	opDate
	opBool
	opBinary
	opIP
	opARN
	opNull
)

// comparison for Numeric and Date operators.
type cmp int

const (
	cmpEq cmp = iota
	cmpLt
	cmpLe
	cmpGt
	cmpGe
)

type baseOp struct {
	kind    opKind
	negated bool
	cmp     cmp
}

// baseOps lists every condition operator of the IAM User Guide ("IAM JSON
// policy elements: Condition operators"), keyed by lower-case name.
var baseOps = map[string]baseOp{
	"stringequals":              {opString, false, cmpEq},
	"stringnotequals":           {opString, true, cmpEq},
	"stringequalsignorecase":    {opStringIgnoreCase, false, cmpEq},
	"stringnotequalsignorecase": {opStringIgnoreCase, true, cmpEq},
	"stringlike":                {opStringLike, false, cmpEq},
	"stringnotlike":             {opStringLike, true, cmpEq},
	"numericequals":             {opNumeric, false, cmpEq},
	"numericnotequals":          {opNumeric, true, cmpEq},
	"numericlessthan":           {opNumeric, false, cmpLt},
	"numericlessthanequals":     {opNumeric, false, cmpLe},
	"numericgreaterthan":        {opNumeric, false, cmpGt},
	"numericgreaterthanequals":  {opNumeric, false, cmpGe},
	"dateequals":                {opDate, false, cmpEq},
	"datenotequals":             {opDate, true, cmpEq},
	"datelessthan":              {opDate, false, cmpLt},
	"datelessthanequals":        {opDate, false, cmpLe},
	"dategreaterthan":           {opDate, false, cmpGt},
	"dategreaterthanequals":     {opDate, false, cmpGe},
	"bool":                      {opBool, false, cmpEq},
	"binaryequals":              {opBinary, false, cmpEq},
	"ipaddress":                 {opIP, false, cmpEq},
	"notipaddress":              {opIP, true, cmpEq},
	"arnequals":                 {opARN, false, cmpEq},
	"arnlike":                   {opARN, false, cmpEq},
	"arnnotequals":              {opARN, true, cmpEq},
	"arnnotlike":                {opARN, true, cmpEq},
	"null":                      {opNull, false, cmpEq},
}

func parseOperator(name string) operator {
	op := operator{}
	rest := name
	if i := strings.IndexByte(rest, ':'); i >= 0 {
		switch strings.ToLower(rest[:i]) {
		case "foranyvalue":
			op.set = "ForAnyValue"
		case "forallvalues":
			op.set = "ForAllValues"
		default:
			return operator{kind: opUnknown}
		}
		rest = rest[i+1:]
	}
	lower := strings.ToLower(rest)
	if strings.HasSuffix(lower, "ifexists") && lower != "ifexists" {
		op.ifExists = true
		lower = strings.TrimSuffix(lower, "ifexists")
		rest = rest[:len(lower)]
	}
	b, ok := baseOps[lower]
	if !ok || (b.kind == opNull && (op.ifExists || op.set != "")) {
		return operator{kind: opUnknown}
	}
	op.base, op.kind, op.negated, op.cmp = rest, b.kind, b.negated, b.cmp
	return op
}

// evalCondition evaluates one condition key against the request context,
// following "IAM JSON policy elements: Condition operators" and "Condition
// with multiple context keys or values":
//
//   - a key absent from the request makes the condition false, except for
//     ...IfExists (true), negated operators such as StringNotEquals (true),
//     Null, and ForAllValues (true: no value fails);
//   - several policy values are ORed; a negated operator is true only when
//     the request value matches none of them;
//   - ForAnyValue: at least one request value satisfies the operator;
//     ForAllValues: every request value does (true for an empty set).
func evalCondition(c Condition, ctx keyIndex, variables bool) ConditionTrace {
	tr := ConditionTrace{Operator: c.Operator, Key: c.Key, Values: c.Values}
	var op operator
	if c.op != nil {
		op = *c.op
	} else {
		op = parseOperator(c.Operator)
	}
	folded := c.key
	if folded == "" {
		folded = foldKey(c.Key)
	}
	reqVals, present := ctx[folded]
	tr.RequestValues, tr.KeyPresent = reqVals, present
	if op.kind == opUnknown {
		// IAM refuses to store a policy with an operator it does not know
		// (IAM User Guide, "IAM policy validation check reference": "Error
		// - Invalid condition operator"), so a stored policy that has one
		// uses an operator newer than this engine: what it decides is
		// unknown, not false.
		tr.UnknownOperator = true
		tr.Undecidable = "unknown condition operator " + strconvQuote(c.Operator)
		return tr
	}
	// "If the key values in the request resolve to an empty data set (for
	// example, an empty string)": set operators and Null treat it as no
	// value at all.
	empty := !present || emptyDataset(reqVals)
	if op.kind == opNull {
		tr.Matched = evalNull(c.Values, !empty)
		return tr
	}

	// Resolve policy variables: only String and ARN operators take them.
	var buf [4]pattern
	pats := buf[:0]
	takesVars := variables && (op.kind == opString || op.kind == opStringIgnoreCase || op.kind == opStringLike || op.kind == opARN)
	for i, v := range c.Values {
		if !takesVars || !strings.Contains(v, "${") {
			pats = append(pats, plain(v))
			continue
		}
		if tr.Values == nil || &tr.Values[0] == &c.Values[0] {
			tr.Values = append([]string(nil), c.Values...)
		}
		p, ok, miss := substitute(v, ctx)
		if !ok {
			// "Policy variables with no value": the value matches nothing, so
			// StringEquals and StringLike do not match it and inverted
			// operators such as StringNotEquals do.
			tr.Unresolved = append(tr.Unresolved, miss)
			continue
		}
		pats = append(pats, p)
		tr.Values[i] = p.text
	}

	// Many values against many patterns: one pass per value over all
	// patterns at once instead of every pair.
	var set *likeSet
	if (op.kind == opStringLike || op.kind == opString) && len(reqVals)*len(pats) >= likeSetMin {
		sp := pats
		if op.kind == opString {
			sp = make([]pattern, len(pats))
			for i, p := range pats {
				sp[i] = exact(p)
			}
		}
		set = newLikeSet(sp)
	}
	// Three-valued from here on: a value the engine cannot read for the
	// operator neither matches nor fails to match. A negated operator
	// (NotIpAddress, NumericNotEquals ...) must not turn such a value into
	// a match.
	switch op.set {
	case "ForAllValues":
		if empty {
			tr.Matched = true
			return tr
		}
		why := ""
		for _, v := range reqVals {
			switch r, reason := satisfies(op, pats, set, v); r {
			case no:
				return tr
			case unreadable:
				if why == "" {
					why = reason
				}
			}
		}
		tr.Matched, tr.Undecidable = why == "", why
	case "ForAnyValue":
		if empty {
			tr.Matched = op.ifExists
			return tr
		}
		why := ""
		for _, v := range reqVals {
			switch r, reason := satisfies(op, pats, set, v); r {
			case yes:
				tr.Matched = true
				return tr
			case unreadable:
				if why == "" {
					why = reason
				}
			}
		}
		tr.Undecidable = why
	default:
		if !present || len(reqVals) == 0 {
			tr.Matched = op.ifExists || op.negated
			return tr
		}
		result, why := no, ""
		for _, v := range reqVals {
			r, reason := matchSet(op, pats, set, v)
			if r == yes {
				result = yes
				break
			}
			if r == unreadable && result == no {
				result, why = unreadable, reason
			}
		}
		switch result {
		case yes:
			tr.Matched = !op.negated
		case no:
			tr.Matched = op.negated
		default:
			tr.Undecidable = why
		}
	}
	return tr
}

// emptyDataset reports whether request values are an empty data set: no
// value, or only empty strings.
func emptyDataset(vals []string) bool {
	for _, v := range vals {
		if v != "" {
			return false
		}
	}
	return true
}

// truth is a three-valued answer: a value the engine cannot read is
// neither a match nor a miss.
type truth int

const (
	no truth = iota
	yes
	unreadable
)

// matchSet is matchesAny, through set when there is one.
func matchSet(op operator, pats []pattern, set *likeSet, v string) (truth, string) {
	if set != nil {
		return is(set.any(v))
	}
	return matchesAny(op, pats, v)
}

// satisfies says whether one request value satisfies the operator, with
// negation applied per value.
func satisfies(op operator, pats []pattern, set *likeSet, v string) (truth, string) {
	r, why := matchSet(op, pats, set, v)
	if r == unreadable || !op.negated {
		return r, why
	}
	if r == yes {
		return no, ""
	}
	return yes, ""
}

// matchesAny says whether request value v matches at least one policy value
// under the positive form of the operator. A readable match wins over an
// unreadable value; otherwise an unreadable value makes the answer
// unreadable, with the reason.
func matchesAny(op operator, pats []pattern, v string) (truth, string) {
	result, why := no, ""
	for _, p := range pats {
		switch r, reason := matchValue(op, p, v); r {
		case yes:
			return yes, ""
		case unreadable:
			if result == no {
				result, why = unreadable, reason
			}
		}
	}
	return result, why
}

func evalNull(values []string, present bool) bool {
	for _, v := range values {
		switch strings.ToLower(v) {
		case "true":
			if !present {
				return true
			}
		case "false":
			if present {
				return true
			}
		}
	}
	return false
}

// matchValue applies the positive form of op to one policy value and one
// request value.
func matchValue(op operator, p pattern, v string) (truth, string) {
	switch op.kind {
	case opString:
		return is(exact(p).match(v, false))
	case opStringIgnoreCase:
		return is(strings.EqualFold(p.text, v))
	case opStringLike:
		return is(p.match(v, false))
	case opARN:
		return is(arnLike(p, v))
	case opBool:
		// "Boolean conditions let you construct Condition elements that
		// restrict access based on comparing a key to true or false".
		if !strings.EqualFold(p.text, "true") && !strings.EqualFold(p.text, "false") {
			return unreadable, op.base + " value " + strconvQuote(p.text) + " is neither true nor false"
		}
		return is(strings.EqualFold(p.text, v))
	case opBinary:
		return is(p.text == v)
	case opNumeric:
		return compareNumbers(op.base, p.text, v, op.cmp)
	case opDate:
		return compareDates(op.base, p.text, v, op.cmp)
	case opIP:
		return ipInRange(op.base, p.text, v)
	}
	return no, ""
}

func is(b bool) (truth, string) {
	if b {
		return yes, ""
	}
	return no, ""
}

// cannotRead is the reason for a value the operator cannot read.
func cannotRead(op, side, v, what string) (truth, string) {
	if len(v) > 64 {
		v = v[:64] + "..."
	}
	return unreadable, op + " cannot read the " + side + " value " + strconvQuote(v) + " as " + what
}

func strconvQuote(s string) string { return strconv.Quote(s) }

// exact makes every character of p literal.
func exact(p pattern) pattern {
	if !containsWildcard(p.text) {
		return pattern{text: p.text}
	}
	lit := make([]bool, len(p.text))
	for i := range lit {
		lit[i] = true
	}
	return pattern{text: p.text, literal: lit}
}

// compareNumbers compares request value v against policy value p: the
// condition reads "v <op> p". "Numeric condition operators let you construct
// Condition elements that restrict access based on comparing a key to an
// integer or decimal value" (IAM User Guide, "Condition operators"): only
// decimal notation is read, and compared exactly without big-number
// arithmetic, so 1e999999 costs no more than 1. Hexadecimal, fractions and
// digit separators (0x10, 1/2, 1_000) are not numbers to IAM: unreadable.
func compareNumbers(op, p, v string, c cmp) (truth, string) {
	pn, ok := parseDecimal(p)
	if !ok {
		return cannotRead(op, "policy", p, "an integer or decimal number")
	}
	vn, ok := parseDecimal(v)
	if !ok {
		return cannotRead(op, "request", v, "an integer or decimal number")
	}
	return is(holds(vn.cmp(pn), c))
}

func compareDates(op, p, v string, c cmp) (truth, string) {
	pt, ok := parseDate(p)
	if !ok {
		return cannotRead(op, "policy", p, "a date (ISO 8601 or epoch seconds)")
	}
	vt, ok := parseDate(v)
	if !ok {
		return cannotRead(op, "request", v, "a date (ISO 8601 or epoch seconds)")
	}
	return is(holds(vt.Compare(pt), c))
}

func holds(order int, c cmp) bool {
	switch c {
	case cmpEq:
		return order == 0
	case cmpLt:
		return order < 0
	case cmpLe:
		return order <= 0
	case cmpGt:
		return order > 0
	case cmpGe:
		return order >= 0
	}
	return false
}

// parseDate accepts the W3C profile of ISO 8601 that IAM uses and epoch
// seconds (aws:EpochTime, also valid as a policy value).
func parseDate(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, false
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return time.Unix(n, 0).UTC(), true
	}
	for _, layout := range []string{
		time.RFC3339Nano,
		"2006-01-02T15:04:05Z0700",
		"2006-01-02T15:04Z07:00",
		"2006-01-02T15:04:05",
		"2006-01-02T15:04",
		"2006-01-02",
		"2006-01",
		"2006",
	} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// ipInRange reports whether address v lies in p, a CIDR block or a single
// address ("The IP address must be in standard CIDR format", IAM User
// Guide, "Condition operators"). A prefix longer than the address (/33), a
// leading zero (010.0.0.1) or any other text netip does not accept is
// unreadable.
func ipInRange(op, p, v string) (truth, string) {
	p = strings.TrimSpace(p)
	var prefix netip.Prefix
	if strings.Contains(p, "/") {
		pr, err := netip.ParsePrefix(p)
		if err != nil {
			return cannotRead(op, "policy", p, "a CIDR block")
		}
		prefix = pr.Masked()
	} else {
		pa, err := netip.ParseAddr(p)
		if err != nil {
			return cannotRead(op, "policy", p, "an IP address or CIDR block")
		}
		pa = pa.Unmap()
		prefix = netip.PrefixFrom(pa, pa.BitLen())
	}
	addr, err := netip.ParseAddr(strings.TrimSpace(v))
	if err != nil {
		return cannotRead(op, "request", v, "an IP address")
	}
	return is(prefix.Contains(addr.Unmap()))
}

// arnLike compares an ARN against a pattern field by field: "Each of the six
// colon-delimited components of the ARN is checked separately and each can
// include multi-character match wildcards (*) or single-character match
// wildcards (?)". ArnEquals and ArnLike behave the same.
func arnLike(p pattern, v string) bool {
	if p.text == "*" && p.wild(0) {
		return true
	}
	vf, ok := arn.Split(v)
	return ok && arnFieldsLike(p, &vf)
}

// arnFieldsLike is arnLike on an ARN already split into its fields.
func arnFieldsLike(p pattern, vf *[6]string) bool {
	pf, ok := splitFields(p)
	if !ok {
		return false
	}
	// The resource field decides most comparisons: check it first.
	if !pf[5].match(vf[5], false) {
		return false
	}
	for i := range 5 {
		if !pf[i].match(vf[i], false) {
			return false
		}
	}
	return true
}

// splitFields splits a pattern into the six ARN fields, keeping the literal
// mask aligned.
func splitFields(p pattern) ([6]pattern, bool) {
	var out [6]pattern
	start, n := 0, 0
	for i := 0; i < len(p.text) && n < 5; i++ {
		if p.text[i] == ':' {
			out[n] = p.slice(start, i)
			n++
			start = i + 1
		}
	}
	if n < 5 {
		return out, false
	}
	out[5] = p.slice(start, len(p.text))
	return out, true
}

func (p pattern) slice(i, j int) pattern {
	if p.literal == nil {
		return pattern{text: p.text[i:j]}
	}
	return pattern{text: p.text[i:j], literal: p.literal[i:j]}
}

// IsDate reports whether the engine reads s as a date: the W3C profile of
// ISO 8601 IAM uses, or epoch seconds.
func IsDate(s string) bool { _, ok := parseDate(s); return ok }

// IsNumber reports whether the engine reads s as a number (decimal
// notation, as the Numeric operators compare).
func IsNumber(s string) bool { _, ok := parseDecimal(s); return ok }
