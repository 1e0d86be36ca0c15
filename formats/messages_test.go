package formats

import (
	"slices"
	"testing"
)

func TestMessages(t *testing.T) {
	ids := func(ms []Message) []string {
		var s []string
		for _, m := range ms {
			s = append(s, m.String())
		}
		return s
	}
	for _, tc := range []struct {
		types []Type
		want  []string
	}{
		{[]Type{Pain001}, []string{"pain.001.001.03", "pain.001.001.03.ch.02", "pain.001.001.09"}},
		{[]Type{Pain002}, []string{"pain.002.001.03", "pain.002.001.03.ch.02", "pain.002.001.10"}},
		{[]Type{Camt054, Camt053}, []string{"camt.053.001.02", "camt.054.001.02", "camt.054.001.04", "camt.054.001.08"}},
		{nil, nil},
	} {
		got := Messages(tc.types...)
		if !slices.Equal(ids(got), tc.want) {
			t.Errorf("Messages(%v) = %v; want %v", tc.types, ids(got), tc.want)
		}
		for _, m := range got {
			if l, ok := Lookup(m.Namespace); !ok || l != m {
				t.Errorf("Messages(%v) gives %v, which Lookup(%q) does not: %v, %v", tc.types, m, m.Namespace, l, ok)
			}
		}
	}
}
