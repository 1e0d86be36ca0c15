package erp

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode/utf8"

	"refundd/daemon/refund"
)

// csv reads a batch export in CSV: UTF-8 (a byte order mark is dropped), ';'
// between fields, one header row naming the columns in any case and order.
func (s *scanner) csv(r io.Reader) error {
	br := bufio.NewReaderSize(r, 64<<10)
	if !s.skipBOM(br) {
		return nil
	}
	cr := csv.NewReader(br) // uses br as it is: it is buffered enough
	cr.Comma = ';'
	cr.FieldsPerRecord = -1 // counted here, so that every bad line is reported
	cr.ReuseRecord = true

	header, err := cr.Read()
	if err == io.EOF {
		s.add(s.fileAt(0), "", "empty file: no header row and no refunds")
		return nil
	}
	if err != nil {
		if s.syntax(err) {
			return nil // without a header the lines cannot be read
		}
		return err
	}
	header = slices.Clone(header) // ReuseRecord reuses the slice
	line, _ := cr.FieldPos(0)
	cols := s.header(header, line)

	last := cr.InputOffset()
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			if !s.syntax(err) {
				return err
			}
			s.refunds++
			if cr.InputOffset() == last {
				return nil // the reader cannot get past the error
			}
			last = cr.InputOffset()
			continue
		}
		last = cr.InputOffset()
		s.refunds++
		line, _ := cr.FieldPos(0)
		pos := s.at(line)
		if len(rec) != len(cols) {
			s.add(pos, "", "%d fields, but the header has %d columns", len(rec), len(cols))
			continue
		}
		var f refund.Fields
		var extra []Problem
		for i, v := range rec {
			c := cols[i]
			if !utf8.ValidString(v) {
				if c >= 0 {
					extra = append(extra, Problem{Pos: pos, Field: columns[c].name, Msg: "not valid UTF-8"})
				} else {
					extra = append(extra, Problem{Pos: pos, Msg: fmt.Sprintf("column %d (%q): not valid UTF-8", i+1, header[i])})
				}
				v = strings.ToValidUTF8(v, "\uFFFD")
			}
			if c >= 0 {
				*field(&f, c) = v
			}
		}
		if err := s.emit(pos, f, extra, 0); err != nil {
			return err
		}
	}
	s.noRefunds()
	return nil
}

// header reads the header row on line and returns, for every column, the
// index in columns of the field it holds (-1 for a column to ignore).
func (s *scanner) header(h []string, line int) []int {
	pos := s.at(line)
	cols := make([]int, len(h))
	var have fieldSet
	first := make([]int, len(columns)) // column number of each field, from 1
	for i, raw := range h {
		cols[i] = -1
		name := strings.TrimSpace(raw)
		c := -1
		for j := range columns {
			if strings.EqualFold(name, columns[j].name) {
				c = j
				break
			}
		}
		switch {
		case !utf8.ValidString(raw):
			s.add(pos, "", "column %d: the name %q is not valid UTF-8", i+1, raw)
		case name == "":
			s.warn(pos, "", "column %d has no name; ignored", i+1)
		case c < 0:
			s.warn(pos, "", "unknown column %q (column %d) ignored", name, i+1)
		case have.has(c):
			s.add(pos, columns[c].name, "column given twice (columns %d and %d)", first[c], i+1)
		default:
			have.add(c)
			first[c] = i + 1
			cols[i] = c
		}
	}
	for c := range columns {
		if columns[c].required && !have.has(c) {
			s.add(pos, columns[c].name, "required column missing")
		}
	}
	return cols
}

// syntax reports err if it is a CSV syntax error and says whether it was.
func (s *scanner) syntax(err error) bool {
	var pe *csv.ParseError
	if !errors.As(err, &pe) {
		return false
	}
	if pe.Line != pe.StartLine {
		s.add(s.at(pe.StartLine), "", "CSV syntax: %v (on line %d, column %d, in a record that starts on this line)", pe.Err, pe.Line, pe.Column)
	} else {
		s.add(s.at(pe.StartLine), "", "CSV syntax: %v (column %d)", pe.Err, pe.Column)
	}
	return true
}
