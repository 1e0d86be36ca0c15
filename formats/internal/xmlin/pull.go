package xmlin

import (
	"bytes"
	"fmt"
	"io"
	"strings"
)

// Root reads the prolog and the start tag of the root element and returns
// the root's namespace and local name. From then on every element must be
// in that namespace. The prolog may hold a UTF-8 byte-order mark, an XML
// declaration, comments, processing instructions and white space; a
// DOCTYPE is refused.
func (d *Decoder) Root() (space, local string, err error) {
	if d.rooted {
		return "", "", d.Fail(ErrMalformed, "Root called twice")
	}
	if err := d.declaration(); err != nil {
		return "", "", err
	}
	empty := true
	for {
		k, err := d.token()
		if err != nil {
			return "", "", err
		}
		switch k {
		case kEOF:
			if empty {
				return "", "", d.Fail(ErrTruncated, "the document is empty")
			}
			return "", "", d.Fail(ErrTruncated, "the document has no root element")
		case kText:
			if !d.ws {
				return "", "", d.Fail(ErrMalformed, "text %q before the root element", clip(d.text, 40))
			}
			empty = false
		case kStart:
			d.rooted = true
			f := &d.stack[0]
			d.docNS = f.space
			return f.space, string(f.qname[f.local:]), nil
		}
	}
}

// declaration reads a byte-order mark and the XML declaration, and sets
// up decoding for the declared encoding.
func (d *Decoder) declaration() error {
	if err := d.ensure(6); err != nil {
		return err
	}
	b := d.buf[d.r:d.w]
	bom := false
	switch {
	case bytes.HasPrefix(b, []byte{0xEF, 0xBB, 0xBF}):
		d.r += 3
		bom = true
	case bytes.HasPrefix(b, []byte{0, 0, 0xFE, 0xFF}), bytes.HasPrefix(b, []byte{0xFF, 0xFE, 0, 0}):
		return d.Fail(ErrEncoding, "the document is UTF-32 (byte-order mark); only UTF-8, ISO-8859-1, ISO-8859-15 and windows-1252 are supported")
	case bytes.HasPrefix(b, []byte{0xFE, 0xFF}), bytes.HasPrefix(b, []byte{0xFF, 0xFE}):
		return d.Fail(ErrEncoding, "the document is UTF-16 (byte-order mark); only UTF-8, ISO-8859-1, ISO-8859-15 and windows-1252 are supported")
	case bytes.HasPrefix(b, []byte{'<', 0}), bytes.HasPrefix(b, []byte{0, '<'}), bytes.HasPrefix(b, []byte{0, 0}):
		return d.Fail(ErrEncoding, "the document looks like UTF-16 or UTF-32 without a byte-order mark; only UTF-8, ISO-8859-1, ISO-8859-15 and windows-1252 are supported")
	case bytes.HasPrefix(b, []byte{0x4C, 0x6F, 0xA7, 0x94}):
		return d.Fail(ErrEncoding, "the document looks like EBCDIC; only UTF-8, ISO-8859-1, ISO-8859-15 and windows-1252 are supported")
	}
	if err := d.ensure(6); err != nil {
		return err
	}
	b = d.buf[d.r:d.w]
	if len(b) < 6 || string(b[:5]) != "<?xml" || !isSpace(b[5]) {
		return nil
	}
	end := -1
	for {
		if end = bytes.Index(d.buf[d.r:d.w], []byte("?>")); end >= 0 {
			break
		}
		if d.w-d.r > 1024 {
			return d.Fail(ErrMalformed, "the XML declaration is longer than 1024 bytes")
		}
		if err := d.more("the XML declaration"); err != nil {
			return err
		}
	}
	decl := d.buf[d.r+5 : d.r+end]
	enc, err := parseDeclaration(decl)
	if err != nil {
		return d.Fail(ErrMalformed, "XML declaration: %s", err)
	}
	d.encoding = enc
	cs, err := lookupEncoding(enc)
	if enc == "" {
		cs, err = nil, nil
	}
	if err != nil {
		return d.Fail(ErrEncoding, "%s", err)
	}
	if bom && cs != nil {
		return d.Fail(ErrEncoding, "the document starts with a UTF-8 byte-order mark but declares encoding %q", enc)
	}
	d.r += end + 2
	if cs != nil {
		// Decode the rest of the input through the charset.
		d.countLines(d.r)
		rest := bytes.Clone(d.buf[d.r:d.w])
		src := d.src
		if d.eof {
			src = eofReader{}
		}
		d.src = newTranscoder(io.MultiReader(bytes.NewReader(rest), src), cs)
		d.r, d.w, d.countPos, d.eof = 0, 0, 0, false
	}
	return nil
}

// ensure buffers n bytes, or all that is left of the input.
func (d *Decoder) ensure(n int) error {
	for d.w-d.r < n && !d.eof {
		if err := d.fill(); err != nil && err != io.EOF {
			return d.failed(err)
		}
	}
	return nil
}

type eofReader struct{}

// Read returns io.EOF.
func (eofReader) Read([]byte) (int, error) { return 0, io.EOF }

// parseDeclaration parses the pseudo-attributes of an XML declaration
// (what follows "<?xml") and returns the declared encoding.
func parseDeclaration(b []byte) (encoding string, err error) {
	var names []string
	i := 0
	for {
		j := skipSpace(b, i)
		if j == len(b) {
			break
		}
		if j == i {
			return "", fmt.Errorf("missing white space before %q", clip(b[j:], 20))
		}
		k := j
		for k < len(b) && b[k] >= 'a' && b[k] <= 'z' {
			k++
		}
		name := string(b[j:k])
		k = skipSpace(b, k)
		if k == len(b) || b[k] != '=' {
			return "", fmt.Errorf("%q has no value", name)
		}
		k = skipSpace(b, k+1)
		if k == len(b) || b[k] != '"' && b[k] != '\'' {
			return "", fmt.Errorf("value of %q is not quoted", name)
		}
		q := b[k]
		e := bytes.IndexByte(b[k+1:], q)
		if e < 0 {
			return "", fmt.Errorf("value of %q is not closed", name)
		}
		v := string(b[k+1 : k+1+e])
		switch {
		case name == "version" && len(names) == 0:
			if v != "1.0" {
				return "", fmt.Errorf("version %q is not supported (only 1.0)", v)
			}
		case name == "encoding" && len(names) == 1 && names[0] == "version":
			if !validEncName(v) {
				return "", fmt.Errorf("bad encoding name %q", v)
			}
			encoding = v
		case name == "standalone" && len(names) >= 1 && names[len(names)-1] != "standalone":
			if v != "yes" && v != "no" {
				return "", fmt.Errorf("standalone must be yes or no, not %q", v)
			}
		default:
			return "", fmt.Errorf("unexpected %q", name)
		}
		names = append(names, name)
		i = k + 1 + e + 1
	}
	if len(names) == 0 {
		return "", fmt.Errorf("no version")
	}
	return encoding, nil
}

func validEncName(s string) bool {
	if s == "" || !(s[0] >= 'a' && s[0] <= 'z' || s[0] >= 'A' && s[0] <= 'Z') {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// AttrFold returns the name of an attribute of the element just entered
// whose name equals name ignoring case, for error messages.
func (d *Decoder) AttrFold(name string) (string, bool) {
	for i := range d.attrs {
		if strings.EqualFold(string(d.attrs[i].name), name) {
			return string(d.attrs[i].name), true
		}
	}
	return "", false
}

// Attr returns the value of the unprefixed attribute name of the element
// just entered (by Root or Child). The value is valid until the next call
// of a method that reads.
func (d *Decoder) Attr(name string) ([]byte, bool) {
	for i := range d.attrs {
		if string(d.attrs[i].name) == name {
			return d.attrValue(&d.attrs[i]), true
		}
	}
	return nil, false
}

// Child reads up to the next child element of the current element and
// returns its local name, valid until the next call of a method that
// reads. At the end of the current element it returns ok == false, and the
// parent becomes current. Text other than white space between elements is
// an error.
func (d *Decoder) Child() (local []byte, ok bool, err error) {
	for {
		k, err := d.token()
		if err != nil {
			return nil, false, err
		}
		switch k {
		case kStart:
			if err := d.checkNS(); err != nil {
				return nil, false, err
			}
			f := &d.stack[len(d.stack)-1]
			return f.qname[f.local:], true, nil
		case kEnd:
			return nil, false, nil
		case kText:
			if !d.ws || d.cdata {
				return nil, false, d.Fail(ErrInvalid, "text %q where an element is expected", clip(d.text, 40))
			}
		case kEOF:
			return nil, false, d.truncated()
		}
	}
}

func (d *Decoder) truncated() error {
	if len(d.stack) == 0 {
		return d.Fail(ErrTruncated, "the document ends early")
	}
	f := &d.stack[len(d.stack)-1]
	return d.Fail(ErrTruncated, "the document ends before </%s>", f.qname)
}

func (d *Decoder) checkNS() error {
	f := &d.stack[len(d.stack)-1]
	if f.space == d.docNS || d.anyDepth > 0 && len(d.stack) > d.anyDepth {
		return nil
	}
	return d.Fail(ErrInvalid, "element <%s> is in namespace %q, not the document's %q", f.qname, f.space, d.docNS)
}

// TextBytes reads the text content of the current element and its end
// tag; the parent becomes current. A child element is an error. The
// result is valid until the next call of a method that reads.
func (d *Decoder) TextBytes() ([]byte, error) {
	d.acc = d.acc[:0]
	for {
		k, err := d.token()
		if err != nil {
			return nil, err
		}
		switch k {
		case kText:
			d.acc = append(d.acc, d.text...)
		case kEnd:
			return d.acc, nil
		case kStart:
			f := &d.stack[len(d.stack)-1]
			return nil, d.Fail(ErrInvalid, "element <%s> where only text is expected", f.qname)
		case kEOF:
			return nil, d.truncated()
		}
	}
}

// Text is TextBytes as a string.
func (d *Decoder) Text() (string, error) {
	b, err := d.TextBytes()
	return string(b), err
}

// Skip reads the rest of the current element, including its end tag; the
// parent becomes current. Its descendants must be well-formed and in the
// document's namespace.
func (d *Decoder) Skip() error {
	depth := len(d.stack)
	for {
		k, err := d.token()
		if err != nil {
			return err
		}
		switch k {
		case kStart:
			if err := d.checkNS(); err != nil {
				return err
			}
		case kEnd:
			if len(d.stack) < depth {
				return nil
			}
		case kEOF:
			return d.truncated()
		}
	}
}

// SkipAny is Skip for an element whose content may be in any namespace
// (ISO 20022 SplmtryData).
func (d *Decoder) SkipAny() error {
	d.anyDepth = len(d.stack)
	err := d.Skip()
	d.anyDepth = 0
	return err
}

// End reads what follows the root element, which Child has reported
// closed: only white space, comments and processing instructions may
// follow before the end of input.
func (d *Decoder) End() error {
	if len(d.stack) != 0 || !d.rooted {
		return d.Fail(ErrMalformed, "End called before the root element is closed")
	}
	for {
		k, err := d.token()
		if err != nil {
			return err
		}
		switch k {
		case kEOF:
			return nil
		case kText:
			if !d.ws || d.cdata {
				return d.Fail(ErrTrailing, "text %q after the root element", clip(d.text, 40))
			}
		case kStart:
			f := &d.stack[0]
			return d.Fail(ErrTrailing, "a second root element <%s>", f.qname)
		}
	}
}
