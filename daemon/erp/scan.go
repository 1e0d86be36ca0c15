package erp

import (
	"bufio"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"

	"refundd/daemon/refund"
)

// Record is one refund read from a batch file.
type Record struct {
	Pos    Pos
	Refund refund.Refund
	// Problems are those that refund.Parse found in the refund's fields,
	// positioned, together with any value the reader could not pass on as
	// it stood (invalid UTF-8; a JSON value of the wrong type). The refund is
	// usable only if none of them is an error (Warning false).
	Problems []Problem
}

// Scan reads a batch file whose format is chosen by the extension of name
// (".csv" or ".json", case-insensitive; anything else is an error) and calls
// fn for every refund in file order. name is used only for the extension and
// in positions.
//
// It returns the problems of the file as a whole, in file order as far as
// possible: a missing required CSV column, a CSV syntax error at a line, a
// wrong number of fields on a line, a JSON syntax error, an unknown JSON field,
// a Batch value that differs from the first refund's, a RefNbr that repeats an
// earlier one, an empty batch with no refunds. Some of them are positioned at
// a refund (a repeated RefNbr at its second occurrence, say), so a caller can
// tell which records they concern by Pos; they are not repeated in
// Record.Problems. A batch file is usable only when neither the returned
// problems nor the Problems of any Record contain an error.
//
// A record that cannot be read at all (a CSV syntax error, a wrong number of
// fields, a JSON array element that is not an object) is reported here and fn
// is not called for it.
//
// Scan reads r as a stream and keeps only the RefNbrs seen so far and the
// problems (at most 10 000 of the file as a whole are listed, the rest are
// counted); the caller should still bound the size of r (io.LimitReader).
//
// The error is non-nil only for an I/O error, an unsupported extension or an
// error returned by fn, which stops the scan; it is wrapped as
// "read batch NAME: …".
//
// Scan reads a CSV file as UTF-8; ScanWith reads other encodings.
func Scan(name string, r io.Reader, fn func(Record) error) ([]Problem, error) {
	return ScanWith(name, r, Options{}, fn)
}

// Options say how ScanWith reads a batch file. The zero value reads it as
// Scan does.
type Options struct {
	// Encoding is the character encoding of a CSV file; "" is UTF8. A JSON
	// file is always UTF-8.
	Encoding Encoding
	// SizeHint is the size of the file in bytes, 0 when not known: what
	// the scan keeps of every refund is sized for it to begin with.
	SizeHint int64
}

// Encoding is a character encoding of CSV batch files, spelled as the
// configuration's batches.encoding.
type Encoding string

// The encodings of CSV batch files. Windows-1252 is what a spreadsheet
// saves as "CSV" on a Western European Windows; ISO-8859-1 is its older
// subset without the characters of the bytes 0x80 to 0x9F (€ ‚ „ … ‘ ’ “ ”
// – — and others), which it reads as control characters.
const (
	UTF8        Encoding = "utf-8"
	Windows1252 Encoding = "windows-1252"
	ISO88591    Encoding = "iso-8859-1"
)

// String returns the usual name of e: UTF-8, Windows-1252 or ISO-8859-1.
func (e Encoding) String() string {
	switch e {
	case "", UTF8:
		return "UTF-8"
	case Windows1252:
		return "Windows-1252"
	case ISO88591:
		return "ISO-8859-1"
	}
	return string(e)
}

// ScanWith is Scan with options: a CSV file in opt.Encoding is decoded to
// UTF-8 as it is read, so every record, value and problem is in UTF-8 and
// lines keep their numbers. A byte that Windows-1252 leaves undefined (0x81,
// 0x8D, 0x8F, 0x90, 0x9D), and in ISO-8859-1 any byte from 0x80 to 0x9F (a
// control character), is an error of the field that holds it. A file in
// Windows-1252 or ISO-8859-1 that starts with a UTF-8 byte order mark is
// refused: it is a UTF-8 file.
func ScanWith(name string, r io.Reader, opt Options, fn func(Record) error) ([]Problem, error) {
	s := &scanner{name: name, fn: fn, refs: newRefIndex(opt.SizeHint)}
	var err error
	switch ext := strings.ToLower(filepath.Ext(name)); ext {
	case ".csv":
		switch opt.Encoding {
		case "", UTF8:
			s.enc = UTF8
		case Windows1252, ISO88591:
			s.enc = opt.Encoding
		default:
			return nil, fmt.Errorf("read batch %s: unknown encoding %q", name, opt.Encoding)
		}
		err = s.csv(r)
	case ".json":
		s.json = true
		err = s.jsonFile(r)
	default:
		err = fmt.Errorf("unknown format %q: a batch file is .csv or .json", ext)
	}
	if s.unlisted > 0 {
		s.problems = append(s.problems, Problem{
			Pos: s.fileAt(0), Warning: !s.unlistedErr,
			Msg: fmt.Sprintf("%d more problems not listed (at most %d are)", s.unlisted, maxProblems),
		})
	}
	if err != nil {
		return s.problems, fmt.Errorf("read batch %s: %w", name, err)
	}
	return s.problems, nil
}

// maxProblems is the most problems of a file as a whole that Scan lists, so
// that a hostile file (a million lines of garbage) cannot fill the memory
// with problems. The rest are counted.
const maxProblems = 10_000

// scanner holds what Scan knows of a batch file while reading it.
type scanner struct {
	name     string
	json     bool
	enc      Encoding // of a CSV file; "" for JSON, which is UTF-8
	fn       func(Record) error
	problems []Problem // of the file as a whole, in file order
	refs     *refIndex // RefNbr → line (CSV) or index (JSON) of its first refund
	refunds  int       // records seen, readable or not
	// batch is the batch number of the file: in CSV that of the first
	// refund that has one, on line batchLine; in JSON the top-level one.
	batch     string
	batchLine int
	// unlisted counts the problems beyond maxProblems; unlistedErr says
	// whether one of them is an error.
	unlisted    int
	unlistedErr bool
	// hintLine is the line of the first value that was not valid UTF-8
	// but could be Windows-1252, where the problem says how to fix it.
	hintLine int
}

// at returns the position of the refund on line (CSV) or at index (JSON).
func (s *scanner) at(n int) Pos {
	if s.json {
		return Pos{File: s.name, Index: n, JSON: true}
	}
	return Pos{File: s.name, Line: n}
}

// fileAt returns the position of line in the file, outside any refund.
func (s *scanner) fileAt(line int) Pos {
	if s.json {
		return Pos{File: s.name, Line: line, Index: -1, JSON: true}
	}
	return Pos{File: s.name, Line: line}
}

// add reports a problem of the file as a whole.
func (s *scanner) add(pos Pos, field, format string, args ...any) {
	s.report(false, pos, field, format, args...)
}

// warn reports a warning about the file as a whole.
func (s *scanner) warn(pos Pos, field, format string, args ...any) {
	s.report(true, pos, field, format, args...)
}

func (s *scanner) report(warning bool, pos Pos, field, format string, args ...any) {
	if len(s.problems) >= maxProblems {
		s.unlisted++
		s.unlistedErr = s.unlistedErr || !warning
		return
	}
	s.problems = append(s.problems, Problem{Pos: pos, Field: field, Msg: fmt.Sprintf(format, args...), Warning: warning})
}

// addProblem reports p, a problem of the file as a whole.
func (s *scanner) addProblem(p Problem) {
	if len(s.problems) >= maxProblems {
		s.unlisted++
		s.unlistedErr = s.unlistedErr || !p.Warning
		return
	}
	s.problems = append(s.problems, p)
}

// emit validates the fields f of the refund at pos, checks its batch (CSV)
// and RefNbr against the earlier refunds and hands the record to fn. extra
// are problems the reader found in the record; the problems of refund.Parse
// for the fields in drop are left out because the reader has reported them
// already.
func (s *scanner) emit(pos Pos, f refund.Fields, extra []Problem, drop fieldSet) error {
	r, probs := parse(pos, f, extra, drop)
	return s.emitParsed(pos, r, probs)
}

// parse is the part of emit that needs no other refund: refund.Parse of
// f, with its problems positioned after extra, but those of the fields
// in drop.
func parse(pos Pos, f refund.Fields, extra []Problem, drop fieldSet) (refund.Refund, []Problem) {
	r, ps := refund.Parse(f)
	probs := extra
	for _, p := range ps {
		if drop != 0 && drop.has(columnOf(p.Field)) {
			continue
		}
		probs = append(probs, Problem{Pos: pos, Field: p.Field, Msg: p.Msg, Warning: p.Warning})
	}
	return r, probs
}

// emitParsed is the rest of emit, in file order: the checks against the
// earlier refunds, and fn.
func (s *scanner) emitParsed(pos Pos, r refund.Refund, probs []Problem) error {
	s.against(pos, &r, s.addProblem)
	return s.fn(Record{Pos: pos, Refund: r, Problems: probs})
}

// against checks r, at pos, against the refunds before it in the file:
// its batch (CSV) and its RefNbr. Problems, of the file as a whole, go to
// add.
func (s *scanner) against(pos Pos, r *refund.Refund, add func(Problem)) {
	if !s.json && r.Batch != "" {
		switch {
		case s.batch == "":
			s.batch, s.batchLine = strings.Clone(r.Batch), pos.Line
		case r.Batch != s.batch:
			add(Problem{Pos: pos, Field: refund.FieldBatch,
				Msg: fmt.Sprintf("%q differs from the batch %q of line %d (a file is one batch)", r.Batch, s.batch, s.batchLine)})
		}
	}
	if r.RefNbr != "" {
		n := pos.Line
		if s.json {
			n = pos.Index
		}
		if first, ok := s.refs.add(r.RefNbr, n); ok {
			add(Problem{Pos: pos, Field: refund.FieldRefNbr, Msg: fmt.Sprintf("%q repeats the RefNbr of %s", r.RefNbr, s.where(first))})
		}
	}
}

// where names the refund on line n (CSV) or at index n (JSON) in a message.
func (s *scanner) where(n int) string {
	if s.json {
		return "refunds[" + strconv.Itoa(n) + "]"
	}
	return "line " + strconv.Itoa(n)
}

// noRefunds reports an empty batch.
func (s *scanner) noRefunds() {
	if s.refunds == 0 {
		s.add(s.fileAt(0), "", "no refunds: an empty batch")
	}
}

// Byte order marks.
const (
	bomUTF8    = "\xef\xbb\xbf"
	bomUTF16BE = "\xfe\xff"
	bomUTF16LE = "\xff\xfe"
)

// skipBOM drops a UTF-8 byte order mark at the start of br. It reports false,
// with a problem, if the file starts with a UTF-16 byte order mark: such a
// file is refused rather than guessed at; so is a CSV file read as
// Windows-1252 or ISO-8859-1 that starts with a UTF-8 byte order mark.
func (s *scanner) skipBOM(br *bufio.Reader) bool {
	b, _ := br.Peek(len(bomUTF8)) // an error here comes back on the next read
	switch {
	case strings.HasPrefix(string(b), bomUTF8) && s.enc != "" && s.enc != UTF8:
		s.add(s.fileAt(0), "", "the file starts with a UTF-8 byte order mark, so it is UTF-8, not %s: "+
			"set batches.encoding: %s, or export the file in %[1]s", s.enc, string(UTF8))
		return false
	case strings.HasPrefix(string(b), bomUTF8):
		_, _ = br.Discard(len(bomUTF8)) // cannot fail: the bytes are buffered
	case strings.HasPrefix(string(b), bomUTF16LE), strings.HasPrefix(string(b), bomUTF16BE):
		s.add(s.fileAt(0), "", "the file is UTF-16 (it starts with a UTF-16 byte order mark); a batch export must be %s", s.enc)
		return false
	}
	return true
}
