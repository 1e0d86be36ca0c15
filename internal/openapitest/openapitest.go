// Package openapitest checks JSON documents against a fragment of an
// OpenAPI description kept beside the tests: the property names, the
// types, enums and patterns of the schemas a document must follow. It is
// not a JSON Schema validator: it knows the few keywords such fragments
// use ($ref to a schema of the fragment, type, format date-time, pattern,
// enum, properties, items), and it refuses a property the schema does not
// name.
package openapitest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"slices"
	"time"
)

// Fragment is a fragment of an OpenAPI description, as kept in a test's
// testdata: where it comes from, the schema a document must follow, and
// the schemas, with $ref naming another schema of the fragment.
type Fragment struct {
	Source  string             `json:"source"`
	Root    string             `json:"root"`
	Schemas map[string]*schema `json:"schemas"`
}

type schema struct {
	Ref        string             `json:"$ref"`
	Type       string             `json:"type"`
	Format     string             `json:"format"`
	Pattern    string             `json:"pattern"`
	Enum       []string           `json:"enum"`
	Properties map[string]*schema `json:"properties"`
	Items      *schema            `json:"items"`
}

// Load reads a fragment from the file path.
func Load(path string) (*Fragment, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var f Fragment
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if f.Schemas[f.Root] == nil {
		return nil, fmt.Errorf("%s: no schema %q (root)", path, f.Root)
	}
	return &f, nil
}

// Check returns what in the JSON document doc does not follow the root
// schema, each with its JSON path ("$.journalTransactionLines[0].…").
func (f *Fragment) Check(doc []byte) []string {
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return []string{"$: " + err.Error()}
	}
	return f.check(f.Root, v, "$")
}

// check returns what in v, at path, does not follow the schema name.
func (f *Fragment) check(name string, v any, path string) []string {
	s := f.Schemas[name]
	if s == nil {
		return []string{fmt.Sprintf("%s: no schema %s", path, name)}
	}
	return f.checkSchema(s, v, path)
}

func (f *Fragment) checkSchema(s *schema, v any, path string) []string {
	if s.Ref != "" {
		return f.check(s.Ref, v, path)
	}
	bad := func(format string, args ...any) []string {
		return []string{path + ": " + fmt.Sprintf(format, args...)}
	}
	switch s.Type {
	case "object":
		m, ok := v.(map[string]any)
		if !ok {
			return bad("%v is not an object", v)
		}
		var ps []string
		for k, x := range m {
			p := s.Properties[k]
			if p == nil {
				ps = append(ps, path+": unknown property "+k)
				continue
			}
			ps = append(ps, f.checkSchema(p, x, path+"."+k)...)
		}
		slices.Sort(ps)
		return ps
	case "array":
		l, ok := v.([]any)
		if !ok {
			return bad("%v is not an array", v)
		}
		var ps []string
		for i, x := range l {
			ps = append(ps, f.checkSchema(s.Items, x, fmt.Sprintf("%s[%d]", path, i))...)
		}
		return ps
	case "string":
		str, ok := v.(string)
		if !ok {
			return bad("%v is not a string", v)
		}
		if len(s.Enum) > 0 && !slices.Contains(s.Enum, str) {
			return bad("%q is not one of %v", str, s.Enum)
		}
		if s.Pattern != "" && !regexp.MustCompile(s.Pattern).MatchString(str) {
			return bad("%q does not match %s", str, s.Pattern)
		}
		if s.Format == "date-time" {
			if _, err := time.Parse("2006-01-02T15:04:05", str); err != nil {
				if _, err := time.Parse(time.RFC3339Nano, str); err != nil {
					return bad("%q is not a date-time", str)
				}
			}
		}
		return nil
	case "number", "integer":
		n, ok := v.(json.Number)
		if !ok {
			return bad("%v is not a number", v)
		}
		if s.Type == "integer" {
			if _, err := n.Int64(); err != nil {
				return bad("%v is not an integer", v)
			}
		}
		return nil
	case "boolean":
		if _, ok := v.(bool); !ok {
			return bad("%v is not a boolean", v)
		}
		return nil
	}
	return bad("schema of unknown type %q", s.Type)
}
