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

// csv reads a batch export in CSV: in s.enc (of UTF-8 a byte order mark is
// dropped), ';' between fields, one header row naming the columns in any
// case and order.
func (s *scanner) csv(r io.Reader) error {
	br := bufio.NewReaderSize(r, 64<<10)
	if !s.skipBOM(br) {
		return nil
	}
	if s.enc != UTF8 {
		br = bufio.NewReaderSize(&decoder{r: br, enc: s.enc}, 64<<10)
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

	return s.records(cr, header, cols)
}

// csvChunk is the number of records read ahead in one piece.
const csvChunk = 256

// csvItem is a record of a CSV file read and parsed, or a problem of the
// file found between records (when file is true).
type csvItem struct {
	pos   Pos
	r     refund.Refund
	probs []Problem // the record's; for a problem of the file, that one
	file  bool
}

// records reads the records after the header. The reading, the check of
// the values' encoding, refund.Parse and the checks against the earlier
// records run ahead in a goroutine, a few chunks of csvChunk records at
// most; fn runs here, and the problems of the file are kept here, in file
// order, so the problems and the calls are those of reading in one piece.
// The goroutine has ended (and read nothing more) when records returns.
func (s *scanner) records(cr *csv.Reader, header []string, cols []int) error {
	items := make(chan []csvItem, 2)
	free := make(chan []csvItem, 4)
	stop := make(chan struct{})
	var readErr error // the goroutine's; read once items is closed
	go func() {
		defer close(items)
		readErr = s.readRecords(cr, header, cols, items, free, stop)
	}()
	var err error
	for chunk := range items {
		for i := 0; i < len(chunk) && err == nil; i++ {
			it := &chunk[i]
			if it.file {
				s.addProblem(it.probs[0])
				continue
			}
			err = s.fn(Record{Pos: it.pos, Refund: it.r, Problems: it.probs})
		}
		clear(chunk) // no strings of the file kept alive by a spare chunk
		select {
		case free <- chunk[:0]:
		default:
		}
		if err != nil {
			close(stop)
			for range items { // until the goroutine has ended
			}
			return err
		}
	}
	if readErr != nil {
		return readErr
	}
	s.noRefunds()
	return nil
}

// readRecords reads the records of cr and sends them to items in chunks
// (taken from free when it has one) until the end of the file, an error
// the reader cannot get past, or stop; the problems a record has with the
// records before it come just before it. It uses s only for what no
// other code reads or writes meanwhile: the name, the encoding, the count
// of records, the line of the first Windows-1252 hint, the batch and the
// RefNbrs seen.
func (s *scanner) readRecords(cr *csv.Reader, header []string, cols []int, items, free chan []csvItem, stop chan struct{}) error {
	var chunk []csvItem
	send := func() bool {
		if len(chunk) == 0 {
			return true
		}
		select {
		case items <- chunk:
		case <-stop:
			return false
		}
		select {
		case chunk = <-free:
		default:
			chunk = make([]csvItem, 0, csvChunk)
		}
		return true
	}
	chunk = make([]csvItem, 0, csvChunk)
	fileProblem := func(p Problem) {
		chunk = append(chunk, csvItem{pos: p.Pos, probs: []Problem{p}, file: true})
	}
	last := cr.InputOffset()
	for {
		if len(chunk) >= csvChunk && !send() {
			return nil
		}
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			p, ok := s.syntaxProblem(err)
			if !ok {
				send()
				return err
			}
			fileProblem(p)
			s.refunds++
			if cr.InputOffset() == last {
				break // the reader cannot get past the error
			}
			last = cr.InputOffset()
			continue
		}
		last = cr.InputOffset()
		s.refunds++
		line, _ := cr.FieldPos(0)
		pos := s.at(line)
		if len(rec) != len(cols) {
			fileProblem(Problem{Pos: pos, Msg: fmt.Sprintf("%d fields, but the header has %d columns", len(rec), len(cols))})
			continue
		}
		var f refund.Fields
		var extra []Problem
		for i, v := range rec {
			c := cols[i]
			msg := ""
			switch {
			case !utf8.ValidString(v):
				msg = s.invalidUTF8(v, line)
				v = strings.ToValidUTF8(v, "\uFFFD")
			case s.enc != UTF8:
				if msg = s.undefined(v); msg != "" {
					v = strings.Map(replaceC1, v)
				}
			}
			if msg != "" {
				if c >= 0 {
					extra = append(extra, Problem{Pos: pos, Field: columns[c].name, Msg: msg})
				} else {
					extra = append(extra, Problem{Pos: pos, Msg: fmt.Sprintf("column %d (%q): %s", i+1, header[i], msg)})
				}
			}
			if c >= 0 {
				*field(&f, c) = v
			}
		}
		r, probs := parse(pos, f, extra, 0)
		s.against(pos, &r, fileProblem)
		chunk = append(chunk, csvItem{pos: pos, r: r, probs: probs})
	}
	send()
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
		case s.enc != UTF8 && s.undefined(raw) != "":
			s.add(pos, "", "column %d: the name %q: %s", i+1, raw, s.undefined(raw))
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
	p, ok := s.syntaxProblem(err)
	if ok {
		s.addProblem(p)
	}
	return ok
}

// syntaxProblem returns the problem of err if it is a CSV syntax error.
func (s *scanner) syntaxProblem(err error) (Problem, bool) {
	var pe *csv.ParseError
	if !errors.As(err, &pe) {
		return Problem{}, false
	}
	p := Problem{Pos: s.at(pe.StartLine)}
	if pe.Line != pe.StartLine {
		p.Msg = fmt.Sprintf("CSV syntax: %v (on line %d, column %d, in a record that starts on this line)", pe.Err, pe.Line, pe.Column)
	} else {
		p.Msg = fmt.Sprintf("CSV syntax: %v (column %d)", pe.Err, pe.Column)
	}
	return p, true
}

// invalidUTF8 returns the problem of a value v on line that is not valid
// UTF-8. When its bytes could be Windows-1252 (a spreadsheet's usual CSV on
// Windows), the first such problem of the file says how to fix it and the
// later ones refer to it.
func (s *scanner) invalidUTF8(v string, line int) string {
	if !maybeWindows1252(v) {
		return "not valid UTF-8"
	}
	if s.hintLine == 0 {
		s.hintLine = line
		return `not valid UTF-8; the file looks like Windows-1252 (a spreadsheet's "CSV (semicolon)"): ` +
			`save it as "CSV UTF-8", or set batches.encoding: windows-1252`
	}
	return fmt.Sprintf("not valid UTF-8 (Windows-1252? see line %d)", s.hintLine)
}

// maybeWindows1252 reports whether v, which is not valid UTF-8, could be
// Windows-1252 text: none of its bytes is one Windows-1252 leaves undefined.
func maybeWindows1252(v string) bool {
	for i := 0; i < len(v); i++ {
		if _, ok := decodeByte(Windows1252, v[i]); !ok {
			return false
		}
	}
	return true
}

// undefined returns the problem of a value v decoded from s.enc that holds
// a character of the range U+0080 to U+009F, which the decoder gives only
// for the bytes 0x80 to 0x9F that are undefined in Windows-1252 or control
// characters in ISO-8859-1; "" when there is none.
func (s *scanner) undefined(v string) string {
	i := strings.IndexFunc(v, isC1)
	if i < 0 {
		return ""
	}
	r, _ := utf8.DecodeRuneInString(v[i:])
	b := byte(r)
	n := utf8.RuneCountInString(v[:i]) + 1
	if s.enc == ISO88591 {
		if w, ok := decodeByte(Windows1252, b); ok {
			return fmt.Sprintf("byte 0x%02X (character %d) is a control character in ISO-8859-1; "+
				"in Windows-1252 it is %q: if the file is Windows-1252, set batches.encoding: windows-1252", b, n, w)
		}
		return fmt.Sprintf("byte 0x%02X (character %d) is a control character in ISO-8859-1", b, n)
	}
	return fmt.Sprintf("byte 0x%02X (character %d) is not defined in %s", b, n, s.enc)
}

// isC1 reports whether r is in the range U+0080 to U+009F.
func isC1(r rune) bool { return r >= 0x80 && r <= 0x9F }

// replaceC1 replaces a character of the range U+0080 to U+009F by U+FFFD,
// as a byte that is not valid UTF-8 is.
func replaceC1(r rune) rune {
	if isC1(r) {
		return utf8.RuneError
	}
	return r
}

// cp1252 holds the characters of the bytes 0x80 to 0x9F in Windows-1252; 0
// marks the five bytes it leaves undefined. Every other byte is the
// character of the same number, in Windows-1252 as in ISO-8859-1.
var cp1252 = [32]rune{
	0x20AC, 0, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, // € ‚ ƒ „ … † ‡
	0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0, 0x017D, 0, // ˆ ‰ Š ‹ Œ Ž
	0, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014, // ‘ ’ “ ” • – —
	0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0, 0x017E, 0x0178, // ˜ ™ š › œ ž Ÿ
}

// decodeByte returns the character of the byte b in enc, Windows-1252 or
// ISO-8859-1, and false for a byte that Windows-1252 leaves undefined; then
// the character is U+0080 to U+009F, the byte's number, as in ISO-8859-1.
func decodeByte(enc Encoding, b byte) (rune, bool) {
	if enc == Windows1252 && b >= 0x80 && b < 0xA0 {
		if r := cp1252[b-0x80]; r != 0 {
			return r, true
		}
		return rune(b), false
	}
	return rune(b), true
}

// decoder reads r, in the single-byte encoding enc, as UTF-8. The bytes
// below 0x80 are ASCII in either encoding and pass as they are, so line
// ends, separators and quotes stay where they were; every other byte
// becomes the two or three bytes of its character. It holds at most one
// buffer of input and its decoding, whatever the size of the file.
type decoder struct {
	r   io.Reader
	enc Encoding
	in  [4 << 10]byte
	buf []byte // the decoding of in
	out []byte // the part of buf not yet read
	err error  // of r, returned once out is read
}

func (d *decoder) Read(p []byte) (int, error) {
	for len(d.out) == 0 {
		if d.err != nil {
			return 0, d.err
		}
		n, err := d.r.Read(d.in[:])
		d.err = err
		if d.buf == nil {
			d.buf = make([]byte, 0, 3*len(d.in))
		}
		d.buf = d.buf[:0]
		for _, b := range d.in[:n] {
			if b < utf8.RuneSelf {
				d.buf = append(d.buf, b)
				continue
			}
			r, _ := decodeByte(d.enc, b)
			d.buf = utf8.AppendRune(d.buf, r)
		}
		d.out = d.buf
	}
	n := copy(p, d.out)
	d.out = d.out[n:]
	return n, nil
}
