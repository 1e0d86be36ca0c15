// Package xmlout writes indented XML element by element to a buffered
// writer, for the message writers in formats. It refuses text that XML
// cannot carry or that is longer than the schema allows, instead of
// writing a file the bank would reject.
package xmlout

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"unicode/utf8"
)

// Writer writes one document. The first error sticks: every later call
// does nothing and Err returns it.
type Writer struct {
	w     *bufio.Writer
	b     []byte
	depth int
	err   error
	Wrap  func(error) error // applied to errors about content; nil: none
}

// New returns a Writer on w.
func New(w io.Writer) *Writer {
	return &Writer{w: bufio.NewWriterSize(w, 64<<10), b: make([]byte, 0, 1024)}
}

// Err returns the first error.
func (x *Writer) Err() error { return x.err }

// Fail records an error about content.
func (x *Writer) Fail(format string, args ...any) error {
	if x.err == nil {
		x.err = fmt.Errorf(format, args...)
		if x.Wrap != nil {
			x.err = x.Wrap(x.err)
		}
	}
	return x.err
}

// Declaration writes the XML declaration and opens the Document root in
// namespace ns.
func (x *Writer) Declaration(ns string) {
	x.b = append(x.b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Document xmlns=\""...)
	x.b = AppendEscaped(x.b, ns)
	x.b = append(x.b, "\">\n"...)
	x.depth = 1
	x.flush()
}

func (x *Writer) indent() {
	for range x.depth {
		x.b = append(x.b, "  "...)
	}
}

// Start opens an element.
func (x *Writer) Start(tag string) {
	if x.err != nil {
		return
	}
	x.indent()
	x.b = append(x.b, '<')
	x.b = append(x.b, tag...)
	x.b = append(x.b, ">\n"...)
	x.depth++
	x.flush()
}

// End closes an element.
func (x *Writer) End(tag string) {
	if x.err != nil {
		return
	}
	x.depth--
	x.indent()
	x.b = append(x.b, "</"...)
	x.b = append(x.b, tag...)
	x.b = append(x.b, ">\n"...)
	x.flush()
}

// Empty writes an element with no content.
func (x *Writer) Empty(tag string) {
	if x.err != nil {
		return
	}
	x.indent()
	x.b = append(x.b, '<')
	x.b = append(x.b, tag...)
	x.b = append(x.b, "/>\n"...)
	x.flush()
}

// Text writes <tag>s</tag>, s being 1 to maxLen characters (no limit when
// maxLen is 0).
func (x *Writer) Text(tag, s string, maxLen int) {
	x.TextAttr(tag, "", "", s, maxLen)
}

// Opt is Text when s is not empty.
func (x *Writer) Opt(tag, s string, maxLen int) {
	if s != "" {
		x.Text(tag, s, maxLen)
	}
}

// TextAttr writes <tag attr="v">s</tag>; no attribute when attr is "".
func (x *Writer) TextAttr(tag, attr, v, s string, maxLen int) {
	if x.err != nil {
		return
	}
	n := utf8.RuneCountInString(s)
	if n == 0 || maxLen > 0 && n > maxLen {
		x.Fail("%s %q: must have 1 to %d characters", tag, s, maxLen)
		return
	}
	x.indent()
	x.b = append(x.b, '<')
	x.b = append(x.b, tag...)
	if attr != "" {
		x.b = append(x.b, ' ')
		x.b = append(x.b, attr...)
		x.b = append(x.b, "=\""...)
		x.b = AppendEscaped(x.b, v)
		x.b = append(x.b, '"')
	}
	x.b = append(x.b, '>')
	x.b = AppendEscaped(x.b, s)
	x.b = append(x.b, "</"...)
	x.b = append(x.b, tag...)
	x.b = append(x.b, ">\n"...)
	if !utf8.ValidString(s) || !utf8.ValidString(v) || !xmlChars(s) || !xmlChars(v) {
		x.b = x.b[:0]
		x.Fail("%s %q: has characters XML cannot carry", tag, s)
		return
	}
	x.flush()
}

// Close closes the Document root and flushes.
func (x *Writer) Close() error {
	if x.err != nil {
		return x.err
	}
	x.b = append(x.b, "</Document>\n"...)
	x.flush()
	if x.err == nil {
		if err := x.w.Flush(); err != nil {
			x.err = fmt.Errorf("write: %w", err)
		}
	}
	return x.err
}

func (x *Writer) flush() {
	if x.err != nil {
		return
	}
	if _, err := x.w.Write(x.b); err != nil {
		x.err = fmt.Errorf("write: %w", err)
	}
	x.b = x.b[:0]
}

// xmlChars reports whether s holds only characters that XML 1.0 allows.
func xmlChars(s string) bool {
	for _, r := range s {
		if !xmlChar(r) {
			return false
		}
	}
	return true
}

// xmlChar reports whether r is a character that XML 1.0 allows (its Char
// production).
func xmlChar(r rune) bool {
	return r == 0x9 || r == 0xA || r == 0xD || r >= 0x20 && r <= 0xD7FF || r >= 0xE000 && r <= 0xFFFD || r >= 0x10000 && r <= 0x10FFFF
}

// AppendEscaped appends s to b as XML text, fit for element content and
// for an attribute value in double or single quotes: the five special
// characters as entities, and tab, line feed and carriage return as
// character references, so that a reader gets them back unchanged (a
// parser would normalise them in an attribute). A character that XML 1.0
// does not allow, and a byte that is not UTF-8, becomes U+FFFD: the result
// is always well-formed. Writers that must not alter text check it first,
// as TextAttr does.
func AppendEscaped(b []byte, s string) []byte {
	last := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c < utf8.RuneSelf && c != '&' && c != '<' && c != '>' && c != '"' && c != '\'' {
			i++
			continue
		}
		var rep string
		width := 1
		switch c {
		case '&':
			rep = "&amp;"
		case '<':
			rep = "&lt;"
		case '>':
			rep = "&gt;"
		case '"':
			rep = "&quot;"
		case '\'':
			rep = "&apos;"
		case '\t', '\n', '\r':
			rep = "&#" + strconv.Itoa(int(c)) + ";"
		default:
			var r rune
			r, width = utf8.DecodeRuneInString(s[i:])
			if c >= utf8.RuneSelf && !(r == utf8.RuneError && width == 1) && xmlChar(r) {
				i += width
				continue
			}
			rep = "\uFFFD"
		}
		b = append(b, s[last:i]...)
		b = append(b, rep...)
		i += width
		last = i
	}
	return append(b, s[last:]...)
}
