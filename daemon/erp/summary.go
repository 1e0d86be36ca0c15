package erp

import (
	"iter"
	"strconv"
	"strings"
)

// Summary is one line of the report of a batch file's problems for a
// person: one error, one warning, or a group of identical warnings.
type Summary struct {
	// Problem is the problem the line reports; for a group, the first
	// warning of it.
	Problem
	// Count is how many warnings the line stands for: 1 for a single
	// problem, 2 or more for a group.
	Count int
	// Where holds, for a group, the positions of its first warnings, at
	// most maxWhere of them, in file order.
	Where []Pos
}

// maxWhere is the most positions a group's line lists.
const maxWhere = 5

// maxGroups is the most distinct warnings Summarise tracks, which bounds
// its memory whatever the file. A warning whose text is first seen after
// that many others is reported on its own line each time, as if it had no
// duplicates.
const maxGroups = 1000

// String formats s as Problem.String does for a single problem. A group
// is "batch.csv: 3 refunds: PaymentDate: warning: <msg> (lines 2, 3, 4)",
// or in a JSON file "batch.json: 3 refunds: paymentDate: warning: <msg>
// (refunds[0], refunds[1], refunds[2])"; the count has a comma between
// thousands, and the positions beyond the first maxWhere are left out and
// marked with " …".
func (s Summary) String() string {
	if s.Count < 2 {
		return s.Problem.String()
	}
	var b strings.Builder
	b.WriteString(s.Pos.File)
	b.WriteString(": ")
	b.WriteString(thousands(s.Count))
	b.WriteString(" refunds: ")
	if s.Field != "" {
		b.WriteString(s.fieldLabel())
		b.WriteString(": ")
	}
	b.WriteString("warning: ")
	b.WriteString(s.Msg)
	b.WriteString(" (")
	if !s.Pos.JSON {
		b.WriteString("lines ")
	}
	for i, p := range s.Where {
		if i > 0 {
			b.WriteString(", ")
		}
		if p.JSON {
			b.WriteString("refunds[" + strconv.Itoa(p.Index) + "]")
		} else {
			b.WriteString(strconv.Itoa(p.Line))
		}
	}
	if s.Count > len(s.Where) {
		b.WriteString(" …")
	}
	b.WriteString(")")
	return b.String()
}

// Summarise yields the lines that report ps, problems in file order, to a
// person. Errors are reported one by one, as are warnings that occur once.
// Warnings of refunds that are identical (same file, field and message)
// on two or more refunds are reported once, as a group, where the first of
// them is: with their count and their first positions. Warnings of the
// file as a whole are never grouped.
//
// Summarise reads ps twice and keeps only the distinct warnings (at most
// maxGroups) and the first positions of each, however long ps is. Each
// range over the result starts afresh.
func Summarise(ps []Problem) iter.Seq[Summary] {
	return func(yield func(Summary) bool) {
		groups := make(map[groupKey]*group)
		for _, p := range ps {
			k, ok := keyOf(p)
			if !ok {
				continue
			}
			g := groups[k]
			if g == nil {
				if len(groups) >= maxGroups {
					continue
				}
				g = &group{}
				groups[k] = g
			}
			g.count++
			if len(g.where) < maxWhere {
				g.where = append(g.where, p.Pos)
			}
		}
		for _, p := range ps {
			s := Summary{Problem: p, Count: 1}
			if k, ok := keyOf(p); ok {
				if g := groups[k]; g != nil && g.count > 1 {
					if g.done {
						continue
					}
					g.done = true
					s.Count, s.Where = g.count, g.where
				}
			}
			if !yield(s) {
				return
			}
		}
	}
}

// groupKey is what identical warnings share.
type groupKey struct {
	file, field, msg string
	json             bool
}

// group is what Summarise knows of the warnings with one groupKey.
type group struct {
	count int
	where []Pos // the first maxWhere positions
	done  bool  // reported
}

// keyOf returns the key of p's group, and false if p cannot be grouped: an
// error, or a warning of the file as a whole rather than of a refund.
func keyOf(p Problem) (groupKey, bool) {
	if !p.Warning {
		return groupKey{}, false
	}
	if p.Pos.JSON && p.Pos.Index < 0 || !p.Pos.JSON && p.Pos.Line <= 0 {
		return groupKey{}, false
	}
	return groupKey{file: p.Pos.File, field: p.Field, msg: p.Msg, json: p.Pos.JSON}, true
}

// thousands formats n, not negative, with a comma between thousands:
// "100,000".
func thousands(n int) string {
	s := strconv.Itoa(n)
	var b strings.Builder
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// Summariser is Summarise for problems that come one at a time, while a
// batch file is read: it yields the same lines as Summarise of every
// problem it was given, in the same order, but keeps at most limit lines,
// so that its memory does not grow with the file. The problems of the
// lines beyond the limit are counted (Unlisted), not kept; so are the
// later warnings of a group whose first one came after the limit.
type Summariser struct {
	limit    int
	lines    []sumLine
	groups   map[groupKey]*group
	unlisted int
}

// sumLine is one line of a Summariser: a problem, and the group it is the
// first of (nil for a problem reported on its own).
type sumLine struct {
	p Problem
	g *group
}

// NewSummariser returns a Summariser that lists at most limit lines.
func NewSummariser(limit int) *Summariser {
	return &Summariser{limit: limit, groups: make(map[groupKey]*group)}
}

// Add takes the next problem, in file order.
func (s *Summariser) Add(p Problem) {
	k, ok := keyOf(p)
	if ok {
		if g := s.groups[k]; g != nil {
			if g.done { // its first warning came after the limit
				s.unlisted++
				return
			}
			g.count++
			if len(g.where) < maxWhere {
				g.where = append(g.where, p.Pos)
			}
			return
		}
	}
	var g *group
	if ok && len(s.groups) < maxGroups {
		g = &group{count: 1, where: []Pos{p.Pos}}
		s.groups[k] = g
	}
	if len(s.lines) >= s.limit {
		s.unlisted++
		if g != nil {
			g.done = true
		}
		return
	}
	s.lines = append(s.lines, sumLine{p: p, g: g})
}

// Lines yields the lines that report the problems given so far, as
// Summarise would, up to the limit.
func (s *Summariser) Lines() iter.Seq[Summary] {
	return func(yield func(Summary) bool) {
		for _, l := range s.lines {
			sm := Summary{Problem: l.p, Count: 1}
			if l.g != nil && l.g.count > 1 {
				sm.Count, sm.Where = l.g.count, l.g.where
			}
			if !yield(sm) {
				return
			}
		}
	}
}

// Unlisted returns the number of problems that no line reports.
func (s *Summariser) Unlisted() int { return s.unlisted }
