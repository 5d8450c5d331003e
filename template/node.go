package template

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
)

// MaxSize bounds the templates Parse accepts: CloudFormation itself takes
// at most 1 MB from S3 ("CloudFormation quotas": template body size).
const MaxSize = 1 << 20

// maxDepth bounds nesting, so that a hostile template cannot exhaust the
// stack; real templates nest a dozen levels at most.
const maxDepth = 100

// maxNodes bounds the values an alias-expanded template may hold (a
// "billion laughs" template stays small on disk and grows without bound).
const maxNodes = 1 << 20

// ParseError is a template that cannot be read: it names the line and
// column.
type ParseError struct {
	Line, Column int
	Msg          string
}

func (e *ParseError) Error() string {
	if e.Line == 0 {
		return "template: " + e.Msg
	}
	return fmt.Sprintf("template line %d, column %d: %s", e.Line, e.Column, e.Msg)
}

// Pos is where a value starts in the template.
type Pos struct{ Line, Column int }

// Value is a template value as JSON would hold it: map[string]any,
// []any, string, bool, int64, float64 or nil. Short-form intrinsics
// (!Ref X) are turned into their long form ({"Ref": "X"}) as
// CloudFormation does.
type Value = any

// document is a parsed template: its values and where each mapping key
// and value started, by the address of the map it is in.
type document struct {
	root  map[string]any
	pos   map[string]Pos // path ("Resources/Fn/Properties/Policies") -> position
	nodes int
}

// shortTags are CloudFormation's YAML short forms ("Intrinsic function
// reference": each function's YAML short form).
var shortTags = map[string]string{
	"!Ref": "Ref", "!Condition": "Condition",
	"!Base64": "Fn::Base64", "!Cidr": "Fn::Cidr", "!FindInMap": "Fn::FindInMap",
	"!GetAtt": "Fn::GetAtt", "!GetAZs": "Fn::GetAZs", "!ImportValue": "Fn::ImportValue",
	"!Join": "Fn::Join", "!Select": "Fn::Select", "!Split": "Fn::Split", "!Sub": "Fn::Sub",
	"!Transform": "Fn::Transform", "!And": "Fn::And", "!Equals": "Fn::Equals",
	"!If": "Fn::If", "!Not": "Fn::Not", "!Or": "Fn::Or", "!Length": "Fn::Length",
	"!ToJsonString": "Fn::ToJsonString", "!ForEach": "Fn::ForEach",
}

// parse reads a YAML or JSON template.
func parse(src []byte) (*document, error) {
	if len(src) > MaxSize {
		return nil, &ParseError{Msg: fmt.Sprintf("larger than %d KiB, CloudFormation's limit for a template body", MaxSize>>10)}
	}
	if strings.TrimSpace(string(src)) == "" {
		return nil, &ParseError{Msg: "empty file, expected a SAM or CloudFormation template"}
	}
	f, err := parser.ParseBytes(src, 0)
	if err != nil {
		return nil, syntaxError(err)
	}
	if len(f.Docs) != 1 || f.Docs[0].Body == nil {
		return nil, &ParseError{Msg: "expected one YAML or JSON document"}
	}
	d := &document{pos: map[string]Pos{}}
	b := &builder{doc: d, anchors: map[string]ast.Node{}}
	v, err := b.value(f.Docs[0].Body, "", 0)
	if err != nil {
		return nil, err
	}
	root, ok := v.(map[string]any)
	if !ok {
		p := position(f.Docs[0].Body)
		return nil, &ParseError{Line: p.Line, Column: p.Column, Msg: "expected a mapping with Resources at the top of the template"}
	}
	d.root = root
	return d, nil
}

func syntaxError(err error) error {
	var se *yaml.SyntaxError
	if errors.As(err, &se) && se.Token != nil && se.Token.Position != nil {
		return &ParseError{Line: se.Token.Position.Line, Column: se.Token.Position.Column, Msg: oneLine(se.Message)}
	}
	var ye yaml.Error
	if errors.As(err, &ye) && ye.GetToken() != nil && ye.GetToken().Position != nil {
		p := ye.GetToken().Position
		return &ParseError{Line: p.Line, Column: p.Column, Msg: oneLine(ye.GetMessage())}
	}
	return &ParseError{Msg: oneLine(err.Error())}
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

type builder struct {
	doc     *document
	anchors map[string]ast.Node
}

func position(n ast.Node) Pos {
	if t := n.GetToken(); t != nil && t.Position != nil {
		return Pos{t.Position.Line, t.Position.Column}
	}
	return Pos{}
}

func errAt(n ast.Node, format string, args ...any) error {
	p := position(n)
	return &ParseError{Line: p.Line, Column: p.Column, Msg: fmt.Sprintf(format, args...)}
}

func (b *builder) value(n ast.Node, path string, depth int) (Value, error) {
	if depth > maxDepth {
		return nil, errAt(n, "nested more than %d levels deep", maxDepth)
	}
	if b.doc.nodes++; b.doc.nodes > maxNodes {
		return nil, errAt(n, "more than %d values (aliases expanded)", maxNodes)
	}
	switch n := n.(type) {
	case *ast.NullNode:
		return nil, nil
	case *ast.StringNode:
		return n.Value, nil
	case *ast.LiteralNode:
		return n.Value.Value, nil
	case *ast.BoolNode:
		return n.Value, nil
	case *ast.IntegerNode:
		switch v := n.Value.(type) {
		case int64:
			return v, nil
		case uint64:
			return float64(v), nil
		}
		return n.GetToken().Value, nil
	case *ast.FloatNode:
		return n.Value, nil
	case *ast.InfinityNode, *ast.NanNode:
		return n.GetToken().Value, nil
	case *ast.AnchorNode:
		b.anchors[n.Name.GetToken().Value] = n.Value
		return b.value(n.Value, path, depth+1)
	case *ast.AliasNode:
		name := n.Value.GetToken().Value
		target, ok := b.anchors[name]
		if !ok {
			return nil, errAt(n, "alias *%s names no anchor defined before it", name)
		}
		return b.value(target, path, depth+1)
	case *ast.TagNode:
		return b.tagged(n, path, depth)
	case *ast.MappingValueNode:
		return b.mapping([]*ast.MappingValueNode{n}, path, depth)
	case *ast.MappingNode:
		return b.mapping(n.Values, path, depth)
	case *ast.SequenceNode:
		out := make([]any, 0, len(n.Values))
		for i, item := range n.Values {
			v, err := b.value(item, path+"/"+strconv.Itoa(i), depth+1)
			if err != nil {
				return nil, err
			}
			b.doc.pos[path+"/"+strconv.Itoa(i)] = position(item)
			out = append(out, v)
		}
		return out, nil
	}
	return nil, errAt(n, "unsupported YAML %s", n.Type())
}

func (b *builder) mapping(values []*ast.MappingValueNode, path string, depth int) (Value, error) {
	out := make(map[string]any, len(values))
	for _, mv := range values {
		if mv.Key.IsMergeKey() {
			return nil, errAt(mv.Key, "YAML merge keys (<<) are not supported by CloudFormation")
		}
		kv, err := b.value(mv.Key, path, depth+1)
		if err != nil {
			return nil, err
		}
		key := fmt.Sprint(kv)
		if _, dup := out[key]; dup {
			return nil, errAt(mv.Key, "duplicate key %q", key)
		}
		p := path + "/" + key
		b.doc.pos[p] = position(mv.Key)
		v, err := b.value(mv.Value, p, depth+1)
		if err != nil {
			return nil, err
		}
		out[key] = v
	}
	return out, nil
}

func (b *builder) tagged(n *ast.TagNode, path string, depth int) (Value, error) {
	tag := n.Start.Value
	if strings.HasPrefix(tag, "!!") {
		v, err := b.value(n.Value, path, depth+1)
		if err != nil {
			return nil, err
		}
		if tag == "!!str" {
			return fmt.Sprint(v), nil
		}
		return v, nil
	}
	fn, ok := shortTags[tag]
	if !ok {
		return nil, errAt(n, "unknown tag %s (CloudFormation's short forms are !Ref, !GetAtt, !Sub, ...)", tag)
	}
	var v Value
	var err error
	if n.Value == nil {
		v = ""
	} else if v, err = b.value(n.Value, path+"/"+fn, depth+1); err != nil {
		return nil, err
	}
	if fn == "Fn::GetAtt" {
		// !GetAtt Resource.Attribute: the first dot separates them
		// (attributes may contain dots, e.g. Endpoint.Address).
		if s, ok := v.(string); ok {
			res, att, found := strings.Cut(s, ".")
			if !found {
				return nil, errAt(n, "!GetAtt %q is not of the form Resource.Attribute", s)
			}
			v = []any{res, att}
		}
	}
	return map[string]any{fn: v}, nil
}
