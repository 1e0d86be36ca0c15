package xmlin

import (
	"bytes"
	"fmt"
	"io"
	"unicode/utf8"
)

// Options bounds what a Decoder accepts. A zero field means its default.
type Options struct {
	// MaxBytes is the largest document accepted, in bytes as stored. The
	// limit is enforced while reading: the rest of a larger document is
	// never read. Default 64 MiB.
	MaxBytes int64
	// MaxDepth is the deepest element nesting accepted. Default 64; ISO
	// 20022 messages nest about 15 deep.
	MaxDepth int
	// MaxTokenBytes is the longest single tag, text, comment or
	// processing instruction accepted. Default 1 MiB.
	MaxTokenBytes int
	// MaxItems is the most repeated elements (transactions, references,
	// remittance lines, reasons ...) a reader keeps for one unit it
	// returns: a camt.054 entry, a pain.002 report. It bounds the memory a
	// small element can make a reader allocate. Default 100 000.
	MaxItems int
}

// The defaults of Options.
const (
	DefaultMaxBytes      = 64 << 20
	DefaultMaxDepth      = 64
	DefaultMaxTokenBytes = 1 << 20
	DefaultMaxItems      = 100_000
)

const (
	minRead = 4 << 10 // free buffer space kept for a read
	xmlNS   = "http://www.w3.org/XML/1998/namespace"
	// maxAttrs and maxBindings bound the attributes of one element and the
	// namespace prefixes in scope, which are checked and looked up by
	// linear search. ISO 20022 messages have a handful of each.
	maxAttrs    = 64
	maxBindings = 64
)

type kind int

const (
	kEOF kind = iota
	kStart
	kEnd
	kText
)

// Decoder reads one document. It is not safe for concurrent use.
type Decoder struct {
	src      io.Reader
	buf      []byte
	r, w     int // unread input is buf[r:w]
	eof      bool
	maxTok   int
	maxDepth int
	maxRead  int // bytes read from src at a time, at most
	items    int
	maxItems int

	lines    int // newlines in the input before buf[countPos]
	countPos int

	stack    []frame
	nsb      []binding // prefixed namespace declarations in scope
	defNS    string    // default namespace in scope
	docNS    string
	anyDepth int // > 0: elements deeper than this may be in any namespace
	rooted   bool
	encoding string

	// The current token.
	ws         bool   // a text token is white space only
	cdata      bool   // a text token is a CDATA section
	text       []byte // a text token, valid until the next token
	scratch    []byte
	attrs      []attr
	attrBuf    []byte
	pendingEnd bool // the start tag just read was empty (<a/>)

	acc []byte
	err error
}

type frame struct {
	qname []byte
	local int    // offset of the local name in qname
	space string // namespace of the element
	nsb   int    // len(nsb) before the element's declarations
	defNS string // defNS before the element
}

type binding struct{ prefix, uri string }

type attr struct {
	name   []byte // qualified name, a slice of buf valid until the next token
	v0, v1 int    // the normalised value is attrBuf[v0:v1]
}

// NewDecoder returns a decoder reading r within the limits of o.
func NewDecoder(r io.Reader, o Options) *Decoder {
	return NewDecoderSize(r, o, 64<<10)
}

// NewDecoderSize is NewDecoder with an initial buffer of size bytes. It
// reads at most size bytes at a time, so it never reads more than size
// bytes beyond the token it needs.
func NewDecoderSize(r io.Reader, o Options, size int) *Decoder {
	if o.MaxBytes <= 0 {
		o.MaxBytes = DefaultMaxBytes
	}
	if o.MaxDepth <= 0 {
		o.MaxDepth = DefaultMaxDepth
	}
	if o.MaxTokenBytes <= 0 {
		o.MaxTokenBytes = DefaultMaxTokenBytes
	}
	if o.MaxItems <= 0 {
		o.MaxItems = DefaultMaxItems
	}
	if size < 64 {
		size = 64
	}
	return &Decoder{
		src:      &limitReader{r: r, left: o.MaxBytes, max: o.MaxBytes},
		buf:      make([]byte, size),
		maxTok:   o.MaxTokenBytes,
		maxDepth: o.MaxDepth,
		maxRead:  size,
		maxItems: o.MaxItems,
	}
}

// Encoding returns the encoding the document declared ("" when it did not).
func (d *Decoder) Encoding() string { return d.encoding }

// Item counts one more repeated element kept by the reader, and fails when
// there are more than Options.MaxItems since the last ResetItems.
func (d *Decoder) Item() error {
	if d.items++; d.items > d.maxItems {
		return d.Fail(ErrLimit, "more than %d repeated elements", d.maxItems)
	}
	return nil
}

// ResetItems starts a new count for Item.
func (d *Decoder) ResetItems() { d.items = 0 }

// Line returns the 1-based line the decoder has reached.
func (d *Decoder) Line() int {
	d.countLines(d.r)
	return d.lines + 1
}

func (d *Decoder) countLines(to int) {
	if to > d.countPos {
		d.lines += bytes.Count(d.buf[d.countPos:to], []byte{'\n'})
		d.countPos = to
	}
}

// Path returns the local names of the open elements, slash-separated.
func (d *Decoder) Path() string {
	var b []byte
	for i := range d.stack {
		if i > 0 {
			b = append(b, '/')
		}
		f := &d.stack[i]
		b = append(b, f.qname[f.local:]...)
	}
	return string(b)
}

// Fail records and returns an error of class sentinel at the current line
// and path. Every later call returns it.
func (d *Decoder) Fail(sentinel error, format string, args ...any) error {
	if d.err != nil {
		return d.err
	}
	d.err = &Error{Line: d.Line(), Path: d.Path(), Msg: fmt.Sprintf(format, args...), Err: sentinel}
	return d.err
}

// failed records err, which came from reading the input.
func (d *Decoder) failed(err error) error {
	if d.err != nil {
		return d.err
	}
	if e, ok := err.(*Error); ok {
		e.Line = d.Line()
		d.err = e
		return e
	}
	d.err = &Error{Line: d.Line(), Msg: "read: " + err.Error(), Err: err}
	return d.err
}

// syntax is a well-formedness problem found by a scanning function, turned
// into an *Error by the caller.
type syntax string

// Error returns the message.
func (s syntax) Error() string { return string(s) }

// errMore means the token continues beyond the buffered input.
var errMore = syntax("more input needed")

func (d *Decoder) wrap(err error) error {
	switch e := err.(type) {
	case syntax:
		return d.Fail(ErrMalformed, "%s", string(e))
	case *Error:
		if d.err == nil {
			e.Line, e.Path = d.Line(), d.Path()
			d.err = e
		}
		return d.err
	}
	return d.failed(err)
}

// fill reads more input after buf[w], keeping buf[r:w]. It returns io.EOF
// when the input has ended and nothing more was read.
func (d *Decoder) fill() error {
	if d.eof {
		return io.EOF
	}
	chunk := min(minRead, d.maxRead)
	if d.r > 0 && (d.r >= len(d.buf)/2 || len(d.buf)-d.w < chunk) {
		d.countLines(d.r)
		n := copy(d.buf, d.buf[d.r:d.w])
		d.countPos -= d.r
		d.w, d.r = n, 0
	}
	if len(d.buf)-d.w < chunk && len(d.buf) < 2*d.maxTok+minRead {
		nb := make([]byte, 2*len(d.buf)+chunk)
		copy(nb, d.buf[:d.w])
		d.buf = nb
	}
	// Read at least as much as is buffered, so that a token rescanned after
	// each read costs linear time in its length.
	room := d.buf[d.w:min(len(d.buf), d.w+d.maxRead)]
	if len(room) == 0 {
		// Unreachable: callers stop at MaxTokenBytes, well before the
		// buffer is full.
		return &Error{Msg: "input buffer full", Err: ErrLimit}
	}
	need := min(max(d.w-d.r, 1), len(room))
	n, err := io.ReadAtLeast(d.src, room, need)
	d.w += n
	switch {
	case err == io.EOF || err == io.ErrUnexpectedEOF:
		d.eof = true
		if n > 0 {
			return nil
		}
		return io.EOF
	case err != nil:
		return err
	}
	return nil
}

// more reads more input for the token at buf[r:], which is what; at the
// end of input the document is truncated.
func (d *Decoder) more(what string) error {
	if d.w-d.r >= d.maxTok {
		return d.Fail(ErrLimit, "%s is longer than %d bytes", what, d.maxTok)
	}
	switch err := d.fill(); err {
	case nil:
		return nil
	case io.EOF:
		return d.Fail(ErrTruncated, "the document ends inside %s", what)
	default:
		return d.failed(err)
	}
}

// token reads the next start tag, end tag or text; comments and processing
// instructions are checked and dropped.
func (d *Decoder) token() (kind, error) {
	if d.err != nil {
		return kEOF, d.err
	}
	if d.pendingEnd {
		d.pendingEnd = false
		d.pop()
		return kEnd, nil
	}
	for {
		if d.r == d.w {
			switch err := d.fill(); err {
			case nil:
				continue
			case io.EOF:
				return kEOF, nil
			default:
				return kEOF, d.failed(err)
			}
		}
		if d.buf[d.r] != '<' {
			return d.scanText()
		}
		if d.w-d.r < 2 {
			if err := d.more("a tag"); err != nil {
				return kEOF, err
			}
			continue
		}
		switch d.buf[d.r+1] {
		case '/':
			return d.endTag()
		case '?':
			if err := d.pi(); err != nil {
				return kEOF, err
			}
		case '!':
			k, err := d.bang()
			if err != nil || k != kEOF {
				return k, err
			}
		default:
			return d.startTag()
		}
	}
}

func (d *Decoder) scanText() (kind, error) {
	rel := 0 // buf[r:r+rel] has no '<'
	for {
		if i := bytes.IndexByte(d.buf[d.r+rel:d.w], '<'); i >= 0 {
			return d.setText(d.r + rel + i)
		}
		rel = d.w - d.r
		if rel >= d.maxTok {
			return kEOF, d.Fail(ErrLimit, "a text is longer than %d bytes", d.maxTok)
		}
		switch err := d.fill(); err {
		case nil:
		case io.EOF:
			return d.setText(d.w)
		default:
			return kEOF, d.failed(err)
		}
	}
}

func (d *Decoder) setText(end int) (kind, error) {
	if end-d.r > d.maxTok {
		return kEOF, d.Fail(ErrLimit, "a text is longer than %d bytes", d.maxTok)
	}
	raw := d.buf[d.r:end]
	d.cdata = false
	d.ws = true
	cr := false
	for _, c := range raw {
		if c == '\r' {
			cr = true
		} else if c != ' ' && c != '\n' && c != '\t' {
			d.ws = false
			break
		}
	}
	if d.ws && !cr {
		// White space between elements, as in every indented document:
		// nothing to check or replace.
		d.text = raw
		d.r = end
		return kText, nil
	}
	var err error
	if d.text, err = d.decode(raw, modeText); err != nil {
		return kEOF, d.wrap(err)
	}
	d.r = end
	return kText, nil
}

type mode int

const (
	modeText mode = iota
	modeAttr
	modeCDATA
	modeCheck // comments and processing instructions: check only
)

// decode checks raw and returns its value: line ends normalised, and in
// text and attributes references replaced; attribute values also have
// their white space normalised. The result may be raw itself or a slice of
// d.scratch.
func (d *Decoder) decode(raw []byte, m mode) ([]byte, error) {
	special := false
	for i := 0; i < len(raw); {
		c := raw[i]
		if c < utf8.RuneSelf {
			switch {
			case c >= 0x20 && c != '&' && c != '<' && c != '>':
			case c == '\r':
				special = true
			case c == '\n' || c == '\t':
				special = special || m == modeAttr
			case c == '&':
				special = special || m == modeText || m == modeAttr
			case c == '<':
				if m == modeAttr {
					return nil, syntax("'<' in an attribute value")
				}
			case c == '>':
				if m == modeText && i >= 2 && raw[i-1] == ']' && raw[i-2] == ']' {
					return nil, syntax("']]>' in text")
				}
			default:
				return nil, syntax(fmt.Sprintf("control character U+%04X", c))
			}
			i++
			continue
		}
		r, n := utf8.DecodeRune(raw[i:])
		if r == utf8.RuneError && n == 1 {
			return nil, &Error{Msg: fmt.Sprintf("byte 0x%02X is not valid UTF-8 (a document in another encoding must declare it)", c), Err: ErrEncoding}
		}
		if r == 0xFFFE || r == 0xFFFF {
			return nil, syntax(fmt.Sprintf("character U+%04X is not allowed in XML", r))
		}
		i += n
	}
	if !special || m == modeCheck {
		return raw, nil
	}
	out := d.scratch[:0]
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		switch c {
		case '\r':
			if i+1 < len(raw) && raw[i+1] == '\n' {
				continue
			}
			c = '\n'
			if m == modeAttr {
				c = ' '
			}
		case '\n', '\t':
			if m == modeAttr {
				c = ' '
			}
		case '&':
			if m == modeCDATA {
				break
			}
			r, n, err := reference(raw[i:])
			if err != nil {
				return nil, err
			}
			out = utf8.AppendRune(out, r)
			i += n - 1
			continue
		}
		out = append(out, c)
	}
	d.scratch = out
	return out, nil
}

// reference decodes the reference at the start of b ("&lt;", "&#65;") and
// returns the character and the reference's length.
func reference(b []byte) (rune, int, error) {
	end := bytes.IndexByte(b[:min(len(b), 12)], ';')
	if end < 0 {
		return 0, 0, syntax(fmt.Sprintf("'&' does not start a reference in %q", clip(b, 12)))
	}
	name := b[1:end]
	switch string(name) {
	case "lt":
		return '<', end + 1, nil
	case "gt":
		return '>', end + 1, nil
	case "amp":
		return '&', end + 1, nil
	case "apos":
		return '\'', end + 1, nil
	case "quot":
		return '"', end + 1, nil
	}
	if len(name) < 2 || name[0] != '#' {
		return 0, 0, syntax(fmt.Sprintf("unknown entity &%s; (only the five predefined entities and character references are allowed)", name))
	}
	digits, base := name[1:], rune(10)
	if digits[0] == 'x' {
		digits, base = digits[1:], 16
	}
	if len(digits) == 0 {
		return 0, 0, syntax(fmt.Sprintf("bad character reference &%s;", name))
	}
	var r rune
	for _, c := range digits {
		var v rune
		switch {
		case c >= '0' && c <= '9':
			v = rune(c - '0')
		case base == 16 && c >= 'a' && c <= 'f':
			v = rune(c-'a') + 10
		case base == 16 && c >= 'A' && c <= 'F':
			v = rune(c-'A') + 10
		default:
			return 0, 0, syntax(fmt.Sprintf("bad character reference &%s;", name))
		}
		r = r*base + v
		if r > utf8.MaxRune {
			return 0, 0, syntax(fmt.Sprintf("bad character reference &%s;", name))
		}
	}
	if !isChar(r) {
		return 0, 0, syntax(fmt.Sprintf("character reference &%s; is not an XML character", name))
	}
	return r, end + 1, nil
}

func isChar(r rune) bool {
	return r == 0x9 || r == 0xA || r == 0xD || r >= 0x20 && r <= 0xD7FF || r >= 0xE000 && r <= 0xFFFD || r >= 0x10000 && r <= utf8.MaxRune
}

func clip(b []byte, n int) []byte {
	if len(b) > n {
		return b[:n]
	}
	return b
}

// nameChar marks the ASCII bytes of an XML name; names outside ASCII are
// refused (no ISO 20022 message has one).
var nameChar = func() (t [256]uint8) {
	for c := 'a'; c <= 'z'; c++ {
		t[c] = 2
	}
	for c := 'A'; c <= 'Z'; c++ {
		t[c] = 2
	}
	t['_'], t[':'] = 2, 2
	for c := '0'; c <= '9'; c++ {
		t[c] = 1
	}
	t['-'], t['.'] = 1, 1
	return
}()

// scanName returns the end of the name starting at b[i]; errMore when the
// name may continue beyond b.
func scanName(b []byte, i int) (int, error) {
	if i >= len(b) {
		return 0, errMore
	}
	if nameChar[b[i]] != 2 {
		if b[i] >= utf8.RuneSelf {
			return 0, syntax("names outside ASCII are not supported")
		}
		return 0, syntax(fmt.Sprintf("%q cannot start a name", b[i]))
	}
	j := i + 1
	for j < len(b) && nameChar[b[j]] != 0 {
		j++
	}
	if j == len(b) {
		return 0, errMore
	}
	if b[j] >= utf8.RuneSelf {
		return 0, syntax("names outside ASCII are not supported")
	}
	return j, nil
}

// checkQName checks the namespace rules for a name: at most one colon,
// with a non-empty NCName on either side.
func checkQName(name []byte) error {
	c := bytes.IndexByte(name, ':')
	if c < 0 {
		return nil
	}
	if c == 0 || c == len(name)-1 || bytes.IndexByte(name[c+1:], ':') >= 0 || nameChar[name[c+1]] != 2 {
		return syntax(fmt.Sprintf("%q is not a valid qualified name", name))
	}
	return nil
}

func isSpace(c byte) bool { return c == ' ' || c == '\n' || c == '\t' || c == '\r' }

func skipSpace(b []byte, i int) int {
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	return i
}

func (d *Decoder) startTag() (kind, error) {
	for {
		n, nameEnd, empty, err := d.parseStart(d.buf[d.r:d.w])
		if err == errMore {
			if err := d.more("a start tag"); err != nil {
				return kEOF, err
			}
			continue
		}
		if err != nil {
			return kEOF, d.wrap(err)
		}
		if n > d.maxTok {
			return kEOF, d.Fail(ErrLimit, "a start tag is longer than %d bytes", d.maxTok)
		}
		if err := d.push(d.buf[d.r+1 : d.r+nameEnd]); err != nil {
			return kEOF, err
		}
		d.r += n
		d.pendingEnd = empty
		return kStart, nil
	}
}

// parseStart parses the start tag at the start of b and returns its length,
// the end of its name and whether it is empty (<a/>).
func (d *Decoder) parseStart(b []byte) (n, nameEnd int, empty bool, err error) {
	if nameEnd, err = scanName(b, 1); err != nil {
		return 0, 0, false, err
	}
	if err := checkQName(b[1:nameEnd]); err != nil {
		return 0, 0, false, err
	}
	d.attrs, d.attrBuf = d.attrs[:0], d.attrBuf[:0]
	i := nameEnd
	for {
		j := skipSpace(b, i)
		if j == len(b) {
			return 0, 0, false, errMore
		}
		switch b[j] {
		case '>':
			return j + 1, nameEnd, false, nil
		case '/':
			if j+1 == len(b) {
				return 0, 0, false, errMore
			}
			if b[j+1] != '>' {
				return 0, 0, false, syntax("'/' not followed by '>' in a start tag")
			}
			return j + 2, nameEnd, true, nil
		}
		if j == i {
			return 0, 0, false, syntax("attributes must be separated by white space")
		}
		ne, err := scanName(b, j)
		if err != nil {
			return 0, 0, false, err
		}
		name := b[j:ne]
		if err := checkQName(name); err != nil {
			return 0, 0, false, err
		}
		k := skipSpace(b, ne)
		if k == len(b) {
			return 0, 0, false, errMore
		}
		if b[k] != '=' {
			return 0, 0, false, syntax(fmt.Sprintf("attribute %s has no value", name))
		}
		k = skipSpace(b, k+1)
		if k == len(b) {
			return 0, 0, false, errMore
		}
		q := b[k]
		if q != '"' && q != '\'' {
			return 0, 0, false, syntax(fmt.Sprintf("value of attribute %s is not quoted", name))
		}
		end := bytes.IndexByte(b[k+1:], q)
		if end < 0 {
			return 0, 0, false, errMore
		}
		for _, a := range d.attrs {
			if bytes.Equal(a.name, name) {
				return 0, 0, false, syntax(fmt.Sprintf("attribute %s appears twice", name))
			}
		}
		if len(d.attrs) == maxAttrs {
			return 0, 0, false, &Error{Msg: fmt.Sprintf("an element has more than %d attributes", maxAttrs), Err: ErrLimit}
		}
		v, err := d.decode(b[k+1:k+1+end], modeAttr)
		if err != nil {
			return 0, 0, false, err
		}
		v0 := len(d.attrBuf)
		d.attrBuf = append(d.attrBuf, v...)
		d.attrs = append(d.attrs, attr{name: name, v0: v0, v1: len(d.attrBuf)})
		i = k + 1 + end + 1
	}
}

func (d *Decoder) attrValue(a *attr) []byte { return d.attrBuf[a.v0:a.v1] }

func (d *Decoder) push(qname []byte) error {
	if len(d.stack) >= d.maxDepth {
		return d.Fail(ErrLimit, "elements are nested deeper than %d", d.maxDepth)
	}
	if len(d.stack) < cap(d.stack) {
		d.stack = d.stack[:len(d.stack)+1]
	} else {
		d.stack = append(d.stack, frame{})
	}
	f := &d.stack[len(d.stack)-1]
	f.qname = append(f.qname[:0], qname...)
	f.nsb, f.defNS = len(d.nsb), d.defNS
	for i := range d.attrs {
		a := &d.attrs[i]
		switch {
		case string(a.name) == "xmlns":
			d.defNS = string(d.attrValue(a))
		case bytes.HasPrefix(a.name, []byte("xmlns:")):
			p, uri := string(a.name[6:]), string(d.attrValue(a))
			switch {
			case p == "xmlns" || p == "xml" && uri != xmlNS || p != "xml" && uri == xmlNS:
				return d.wrap(syntax(fmt.Sprintf("prefix %s cannot be bound to %q", p, uri)))
			case uri == "":
				return d.wrap(syntax(fmt.Sprintf("prefix %s is bound to the empty namespace", p)))
			}
			if len(d.nsb) == maxBindings {
				return d.Fail(ErrLimit, "more than %d namespace prefixes are declared", maxBindings)
			}
			d.nsb = append(d.nsb, binding{p, uri})
		}
	}
	f.local, f.space = 0, d.defNS
	if c := bytes.IndexByte(qname, ':'); c >= 0 {
		uri, ok := d.lookup(qname[:c])
		if !ok {
			return d.wrap(syntax(fmt.Sprintf("prefix %s of <%s> is not declared", qname[:c], qname)))
		}
		f.local, f.space = c+1, uri
	}
	// Attribute prefixes must be declared too, and two attributes must not
	// have the same namespace and local name.
	for i := range d.attrs {
		a := &d.attrs[i]
		c := bytes.IndexByte(a.name, ':')
		if c < 0 || string(a.name[:c]) == "xmlns" {
			continue
		}
		uri, ok := d.lookup(a.name[:c])
		if !ok {
			return d.wrap(syntax(fmt.Sprintf("prefix %s of attribute %s is not declared", a.name[:c], a.name)))
		}
		for j := range i {
			b := &d.attrs[j]
			if cb := bytes.IndexByte(b.name, ':'); cb >= 0 && string(b.name[cb+1:]) == string(a.name[c+1:]) {
				if ub, _ := d.lookup(b.name[:cb]); ub == uri {
					return d.wrap(syntax(fmt.Sprintf("attributes %s and %s are the same attribute", b.name, a.name)))
				}
			}
		}
	}
	return nil
}

func (d *Decoder) lookup(prefix []byte) (string, bool) {
	if string(prefix) == "xml" {
		return xmlNS, true
	}
	for i := len(d.nsb) - 1; i >= 0; i-- {
		if d.nsb[i].prefix == string(prefix) {
			return d.nsb[i].uri, true
		}
	}
	return "", false
}

func (d *Decoder) pop() {
	f := &d.stack[len(d.stack)-1]
	d.nsb, d.defNS = d.nsb[:f.nsb], f.defNS
	d.stack = d.stack[:len(d.stack)-1]
}

func (d *Decoder) endTag() (kind, error) {
	for {
		b := d.buf[d.r:d.w]
		gt := bytes.IndexByte(b, '>')
		if gt < 0 {
			if err := d.more("an end tag"); err != nil {
				return kEOF, err
			}
			continue
		}
		b = b[:gt+1]
		if len(b) > d.maxTok {
			return kEOF, d.Fail(ErrLimit, "an end tag is longer than %d bytes", d.maxTok)
		}
		ne, err := scanName(b, 2)
		if err != nil {
			return kEOF, d.wrap(err)
		}
		if skipSpace(b, ne) != gt {
			return kEOF, d.wrap(syntax(fmt.Sprintf("unexpected %q in end tag </%s>", b[skipSpace(b, ne)], b[2:ne])))
		}
		if len(d.stack) == 0 {
			return kEOF, d.wrap(syntax(fmt.Sprintf("end tag </%s> without a start tag", b[2:ne])))
		}
		if f := &d.stack[len(d.stack)-1]; !bytes.Equal(f.qname, b[2:ne]) {
			return kEOF, d.wrap(syntax(fmt.Sprintf("element <%s> is closed by </%s>", f.qname, b[2:ne])))
		}
		d.r += gt + 1
		d.pop()
		return kEnd, nil
	}
}

// bang reads a construct starting with "<!": a comment (dropped, kEOF is
// returned) or a CDATA section (kText). A DOCTYPE is refused.
func (d *Decoder) bang() (kind, error) {
	const comment, cdata, doctype = "<!--", "<![CDATA[", "<!DOCTYPE"
	for {
		b := d.buf[d.r:d.w]
		switch {
		case bytes.HasPrefix(b, []byte(comment)):
			return kEOF, d.comment()
		case bytes.HasPrefix(b, []byte(cdata)):
			return d.cdataSection()
		case bytes.HasPrefix(b, []byte(doctype)):
			return kEOF, d.Fail(ErrDoctype, "a DOCTYPE is not allowed")
		case !bytes.HasPrefix([]byte(comment), b) && !bytes.HasPrefix([]byte(cdata), b) && !bytes.HasPrefix([]byte(doctype), b):
			return kEOF, d.wrap(syntax("'<!' must start a comment or a CDATA section"))
		}
		if err := d.more("a '<!' construct"); err != nil {
			return kEOF, err
		}
	}
}

func (d *Decoder) comment() error {
	from := 4
	for {
		b := d.buf[d.r:d.w]
		if i := bytes.Index(b[from:], []byte("--")); i >= 0 {
			j := from + i
			if j+2 < len(b) {
				if b[j+2] != '>' {
					return d.wrap(syntax("'--' inside a comment"))
				}
				if j+3 > d.maxTok {
					return d.Fail(ErrLimit, "a comment is longer than %d bytes", d.maxTok)
				}
				if _, err := d.decode(b[4:j], modeCheck); err != nil {
					return d.wrap(err)
				}
				d.r += j + 3
				return nil
			}
			from = j
		} else {
			from = max(4, len(b)-1)
		}
		if err := d.more("a comment"); err != nil {
			return err
		}
	}
}

func (d *Decoder) cdataSection() (kind, error) {
	if len(d.stack) == 0 {
		return kEOF, d.wrap(syntax("CDATA section outside the root element"))
	}
	from := 9
	for {
		b := d.buf[d.r:d.w]
		if i := bytes.Index(b[from:], []byte("]]>")); i >= 0 {
			raw := b[9 : from+i]
			if from+i+3 > d.maxTok {
				return kEOF, d.Fail(ErrLimit, "a CDATA section is longer than %d bytes", d.maxTok)
			}
			v, err := d.decode(raw, modeCDATA)
			if err != nil {
				return kEOF, d.wrap(err)
			}
			d.text, d.ws, d.cdata = v, false, true
			d.r += from + i + 3
			return kText, nil
		}
		from = max(9, len(b)-2)
		if err := d.more("a CDATA section"); err != nil {
			return kEOF, err
		}
	}
}

// pi reads and drops a processing instruction.
func (d *Decoder) pi() error {
	for {
		b := d.buf[d.r:d.w]
		end := bytes.Index(b[2:], []byte("?>"))
		if end < 0 {
			if err := d.more("a processing instruction"); err != nil {
				return err
			}
			continue
		}
		b = b[:2+end+2]
		if len(b) > d.maxTok {
			return d.Fail(ErrLimit, "a processing instruction is longer than %d bytes", d.maxTok)
		}
		ne, err := scanName(b, 2)
		if err != nil {
			return d.wrap(err)
		}
		if t := b[2:ne]; bytes.EqualFold(t, []byte("xml")) {
			return d.wrap(syntax("an XML declaration is only allowed at the very start of the document"))
		}
		if ne != 2+end && !isSpace(b[ne]) {
			return d.wrap(syntax(fmt.Sprintf("bad processing instruction target %q", b[2:ne+1])))
		}
		if _, err := d.decode(b[ne:2+end], modeCheck); err != nil {
			return d.wrap(err)
		}
		d.r += 2 + end + 2
		return nil
	}
}
