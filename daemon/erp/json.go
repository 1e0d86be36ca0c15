package erp

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"unicode/utf8"

	"refundd/daemon/refund"
)

// maxSkipDepth is how deeply nested a value that Scan skips (the value of an
// unknown key) may be; deeper nesting is refused so that skipping stays in
// bounded memory.
const maxSkipDepth = 100

// jsonReader reads a batch export in JSON:
//
//	{"batch": "...", "refunds": [ {...}, ... ]}
//
// It walks the top level with Decoder.Token and decodes the refunds one at a
// time, so the file is never in memory whole.
type jsonReader struct {
	*scanner
	dec   *json.Decoder
	lines *lineCounter
	raw   json.RawMessage // the refund being read; reused

	batchSeen   bool // a top-level "batch" key was read
	refundsSeen bool // a top-level "refunds" array was read
	stopped     bool // a fatal problem ended the reading
}

// jsonFile reads a batch export in JSON.
func (s *scanner) jsonFile(r io.Reader) error {
	br := bufio.NewReader(r)
	if !s.skipBOM(br) {
		return nil
	}
	lines := &lineCounter{r: br}
	dec := json.NewDecoder(lines)
	dec.UseNumber()
	j := &jsonReader{scanner: s, dec: dec, lines: lines}
	if err := j.top(); err != nil || j.stopped {
		return err
	}
	if !j.batchSeen {
		s.add(s.fileAt(0), refund.FieldBatch, `required: the file has no top-level "batch"`)
	}
	s.noRefunds()
	return nil
}

// top reads the top-level object.
func (j *jsonReader) top() error {
	tok, err := j.dec.Token()
	if err == io.EOF {
		j.stopped = true
		j.add(j.fileAt(0), "", `empty file: no JSON object and no refunds`)
		return nil
	}
	if err != nil {
		return j.fatal(err, "")
	}
	if tok != json.Delim('{') {
		j.stopped = true
		j.add(j.here(), "", `a batch file is a JSON object {"batch": ..., "refunds": [...]}, not %s`, kind(tok))
		return nil
	}
	for j.dec.More() {
		tok, err := j.dec.Token()
		if err != nil {
			return j.fatal(err, "")
		}
		key, _ := tok.(string) // Token returns only strings as object keys
		switch key {
		case "batch":
			err = j.batchKey()
		case "refunds":
			err = j.refundsKey()
		default:
			j.add(j.here(), "", "unknown key %q%s (a batch file has \"batch\" and \"refunds\")", key, hint(key, "batch", "refunds"))
			if tok, err = j.dec.Token(); err != nil {
				return j.fatal(err, "")
			}
			err = j.skip(tok)
		}
		if err != nil || j.stopped {
			return err
		}
	}
	if _, err := j.dec.Token(); err != nil { // the closing '}'
		return j.fatal(err, "")
	}
	// Nothing but white space may follow.
	if tok, err := j.dec.Token(); err != io.EOF {
		if err != nil && !isSyntax(err) && !errors.Is(err, io.ErrUnexpectedEOF) {
			return err
		}
		what := "invalid JSON"
		if err == nil {
			what = kind(tok)
		}
		j.add(j.here(), "", "trailing data after the top-level object: %s", what)
	}
	return nil
}

// batchKey reads the value of the top-level "batch".
func (j *jsonReader) batchKey() error {
	pos := j.here()
	tok, err := j.dec.Token()
	if err != nil {
		return j.fatal(err, "")
	}
	if j.batchSeen {
		j.add(pos, refund.FieldBatch, "given twice")
		return j.skip(tok)
	}
	j.batchSeen = true
	v, ok := tok.(string)
	if !ok {
		j.add(pos, refund.FieldBatch, "must be a JSON string, not %s", kind(tok))
		return j.skip(tok)
	}
	if j.refundsSeen {
		j.add(pos, refund.FieldBatch, `must come before "refunds" (the file is read as a stream)`)
		return nil
	}
	if j.batch = strings.TrimSpace(v); j.batch == "" {
		j.add(pos, refund.FieldBatch, "required")
	}
	return nil
}

// refundsKey reads the value of the top-level "refunds": an array of refunds.
func (j *jsonReader) refundsKey() error {
	pos := j.here()
	tok, err := j.dec.Token()
	if err != nil {
		return j.fatal(err, "")
	}
	switch {
	case j.refundsSeen:
		j.add(pos, "", `"refunds" given twice`)
		return j.skip(tok)
	case tok != json.Delim('['):
		j.add(pos, "", `"refunds" must be an array, not %s`, kind(tok))
		return j.skip(tok)
	}
	j.refundsSeen = true
	for i := 0; j.dec.More(); i++ {
		if err := j.dec.Decode(&j.raw); err != nil {
			return j.fatal(err, " in "+j.where(i))
		}
		j.refunds++
		if err := j.refund(i); err != nil {
			return err
		}
	}
	if _, err := j.dec.Token(); err != nil { // the closing ']'
		return j.fatal(err, "")
	}
	return nil
}

// refund reads the refund at index i, now in j.raw.
func (j *jsonReader) refund(i int) error {
	pos := j.at(i)
	var f refund.Fields
	var extra []Problem
	var seen, drop fieldSet
	valid := utf8.Valid(j.raw)
	if !valid {
		extra = append(extra, Problem{Pos: pos, Msg: "not valid UTF-8"})
	}
	err := members(j.raw, func(key, val []byte) {
		c := -1
		for k := range columns {
			if string(key) == columns[k].json {
				c = k
				break
			}
		}
		switch {
		case c < 0:
			j.add(pos, "", "unknown field %q%s", key, hint(string(key), jsonNames()...))
			return
		case seen.has(c):
			j.add(pos, columns[c].name, "given twice")
			return
		}
		seen.add(c)
		switch val[0] {
		case '"':
			*field(&f, c) = unquote(val, valid)
		case 'n': // null: not given
		default:
			want, got := "a JSON string", kindOf(val)
			switch {
			case got == "a number" && (c == colAmount || c == colBaseAmount):
				*field(&f, c) = string(val) // the literal text: no float is involved
				return
			case got == "a number":
				got = "the number " + string(val) + " (write it in quotes)"
			case c == colAmount || c == colBaseAmount:
				want = "a JSON string or number"
			}
			extra = append(extra, Problem{Pos: pos, Field: columns[c].name, Msg: "must be " + want + ", not " + got})
			drop.add(c)
		}
	})
	if err != nil {
		j.add(pos, "", "%v", err)
		return nil
	}
	own := strings.TrimSpace(f.Batch)
	switch {
	case j.batch == "": // the refund's own batch number, if any
	case own != "" && own != j.batch:
		j.add(pos, refund.FieldBatch, "%q differs from the batch %q of the file (a file is one batch)", own, j.batch)
		f.Batch = j.batch
	default:
		f.Batch = j.batch
	}
	return j.emit(pos, f, extra, drop)
}

// members calls fn with the key and the value of every member of the JSON
// object in raw, in order, the key unquoted and the value as it is. raw is
// valid JSON, checked by a Decoder; if it is not an object, members returns
// an error that says what it is.
func members(raw []byte, fn func(key, val []byte)) error {
	i := skipSpace(raw, 0)
	if i == len(raw) || raw[i] != '{' {
		return fmt.Errorf("a refund must be a JSON object, not %s", kindOf(raw[i:]))
	}
	for i = skipSpace(raw, i+1); i < len(raw) && raw[i] != '}'; {
		end := valueEnd(raw, i)
		key := raw[i:end]
		if bytes.IndexByte(key, '\\') >= 0 {
			key = []byte(unquote(key, true))
		} else if len(key) >= 2 {
			key = key[1 : len(key)-1]
		}
		i = skipSpace(raw, end)
		if i == len(raw) || raw[i] != ':' {
			return fmt.Errorf("malformed JSON object") // cannot happen: raw is valid
		}
		i = skipSpace(raw, i+1)
		end = valueEnd(raw, i)
		if end == i {
			return fmt.Errorf("malformed JSON object")
		}
		fn(key, raw[i:end])
		if i = skipSpace(raw, end); i < len(raw) && raw[i] == ',' {
			i = skipSpace(raw, i+1)
		}
	}
	return nil
}

// skipSpace returns the index of the first byte of b from i on that is not
// JSON white space.
func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// valueEnd returns the index just after the JSON value that starts at b[i].
func valueEnd(b []byte, i int) int {
	if i >= len(b) {
		return i
	}
	switch b[i] {
	case '"':
		for i++; i < len(b); i++ {
			switch b[i] {
			case '\\':
				i++
			case '"':
				return i + 1
			}
		}
		return len(b)
	case '{', '[':
		depth := 0
		for i < len(b) {
			switch b[i] {
			case '"':
				i = valueEnd(b, i)
				continue
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return i + 1
				}
			}
			i++
		}
		return len(b)
	}
	for i < len(b) && !strings.ContainsRune(",}] \t\r\n", rune(b[i])) {
		i++
	}
	return i
}

// unquote returns the string that the JSON string literal q stands for;
// invalid UTF-8 becomes U+FFFD, as encoding/json does. valid says that q is
// known to be valid UTF-8.
func unquote(q []byte, valid bool) string {
	if bytes.IndexByte(q, '\\') < 0 && len(q) >= 2 {
		if !valid {
			return strings.ToValidUTF8(string(q[1:len(q)-1]), "\uFFFD")
		}
		return string(q[1 : len(q)-1])
	}
	var s string
	if err := json.Unmarshal(q, &s); err != nil {
		return "" // cannot happen: q is a valid string literal
	}
	return s
}

// kindOf names the JSON type of the value that starts b, for messages.
func kindOf(b []byte) string {
	if len(b) == 0 {
		return "nothing"
	}
	switch b[0] {
	case '"':
		return "a string"
	case '{':
		return "an object"
	case '[':
		return "an array"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}

// jsonNames returns the JSON names of the fields of a refund.
func jsonNames() []string {
	names := make([]string, len(columns))
	for i := range columns {
		names[i] = columns[i].json
	}
	return names
}

// hint suggests the name in names that key differs from only in case.
func hint(key string, names ...string) string {
	for _, n := range names {
		if strings.EqualFold(key, n) {
			return fmt.Sprintf(" (did you mean %q?)", n)
		}
	}
	return ""
}

// here returns the position in the file of the next byte to read.
func (j *jsonReader) here() Pos {
	return j.fileAt(j.lineAt(0, nil))
}

// lineAt returns the line of the byte at offset rel in what is left in the
// Decoder's buffer (buf, if already read from dec.Buffered). An offset past
// the end stands for the last byte.
func (j *jsonReader) lineAt(rel int64, buf []byte) int {
	if buf == nil {
		buf, _ = io.ReadAll(j.dec.Buffered()) // a bytes.Reader: no error
	}
	i := int(min(max(rel, 0), int64(len(buf))))
	if i == len(buf) && i > 0 {
		i--
	}
	return 1 + j.lines.lines - bytes.Count(buf[i:], []byte{'\n'})
}

// fatal reports a problem that ends the reading, or returns err if it is an
// I/O error. where says where the problem is (" in refunds[3]"), if not at
// the top level.
func (j *jsonReader) fatal(err error, where string) error {
	var se *json.SyntaxError
	switch {
	case err == io.EOF, errors.Is(err, io.ErrUnexpectedEOF):
		j.add(j.fileAt(j.lineAt(math.MaxInt64, nil)), "", "unexpected end of file%s: the file is truncated", where)
	case errors.As(err, &se):
		j.add(j.fileAt(j.errorLine(se)), "", "JSON syntax error%s: %v", where, err)
	default:
		return err
	}
	j.stopped = true
	return nil
}

// errorLine returns the line of the syntax error that j.dec has just
// returned. The Offset of a SyntaxError from a Decoder is not reliable (it
// counts the bytes of the values decoded so far, not those between them), so
// the error is found again in what is left in the Decoder's buffer, which
// starts where the bad value does.
func (j *jsonReader) errorLine(err *json.SyntaxError) int {
	rest, _ := io.ReadAll(j.dec.Buffered()) // a bytes.Reader: no error
	var se *json.SyntaxError
	var rel int64
	if errors.As(json.NewDecoder(bytes.NewReader(rest)).Decode(new(json.RawMessage)), &se) && se.Error() == err.Error() {
		rel = se.Offset - 1
	}
	return j.lineAt(rel, rest)
}

// skip skips the rest of the value that starts with tok: up to its end if
// tok opens an object or an array.
func (j *jsonReader) skip(tok json.Token) error {
	if err := skipNested(j.dec, tok); err != nil {
		if errors.As(err, new(depthError)) {
			j.stopped = true
			j.add(j.here(), "", "%v", err)
			return nil
		}
		return j.fatal(err, "")
	}
	return nil
}

// depthError is the error of skipNested for a value nested too deeply.
type depthError struct{}

func (depthError) Error() string {
	return fmt.Sprintf("a value nested more than %d deep", maxSkipDepth)
}

// skipNested reads the rest of the value that starts with tok from d: up to
// the matching end if tok opens an object or array.
func skipNested(d *json.Decoder, tok json.Token) error {
	if tok != json.Delim('{') && tok != json.Delim('[') {
		return nil
	}
	for depth := 1; depth > 0; {
		tok, err := d.Token()
		if err != nil {
			return err
		}
		switch tok {
		case json.Delim('{'), json.Delim('['):
			if depth++; depth > maxSkipDepth {
				return depthError{}
			}
		case json.Delim('}'), json.Delim(']'):
			depth--
		}
	}
	return nil
}

// isSyntax reports whether err is a JSON syntax error.
func isSyntax(err error) bool {
	var se *json.SyntaxError
	return errors.As(err, &se)
}

// kind names the JSON type of the value that starts with tok, for messages.
func kind(tok json.Token) string {
	switch v := tok.(type) {
	case json.Delim:
		if v == '[' {
			return "an array"
		}
		return "an object"
	case string:
		return "a string"
	case json.Number:
		return "a number"
	case bool:
		return "a boolean"
	case nil:
		return "null"
	}
	return fmt.Sprintf("%T", tok)
}

// lineCounter passes reads through and counts the newlines. The line of a
// byte that the Decoder has read but not consumed is then the count less the
// newlines after it in the Decoder's buffer, so no offsets need be kept.
type lineCounter struct {
	r     io.Reader
	lines int // newlines read so far
}

// Read reads from the underlying reader.
func (l *lineCounter) Read(p []byte) (int, error) {
	n, err := l.r.Read(p)
	l.lines += bytes.Count(p[:n], []byte{'\n'})
	return n, err
}
