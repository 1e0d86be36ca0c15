package xmlin

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

// trace walks a whole document with the low-level tokenizer and returns its
// elements, attributes and text in a canonical form, without checking the
// namespaces of elements against the root's.
func trace(d *Decoder) (string, error) {
	var b strings.Builder
	space, local, err := d.Root()
	if err != nil {
		return "", err
	}
	fmt.Fprintf(&b, "<{%s}%s%s>", space, local, d.traceAttrs())
	if d.pendingEnd {
		d.pendingEnd = false
		d.pop()
		b.WriteString("</>")
	}
	var text []byte
	flush := func() {
		if len(text) > 0 {
			fmt.Fprintf(&b, "%q", text)
			text = text[:0]
		}
	}
	for len(d.stack) > 0 {
		k, err := d.token()
		if err != nil {
			return "", err
		}
		switch k {
		case kEOF:
			return "", d.truncated()
		case kText:
			text = append(text, d.text...)
		case kStart:
			flush()
			f := &d.stack[len(d.stack)-1]
			fmt.Fprintf(&b, "<{%s}%s%s>", f.space, f.qname[f.local:], d.traceAttrs())
		case kEnd:
			flush()
			b.WriteString("</>")
		}
	}
	return b.String(), d.End()
}

func (d *Decoder) traceAttrs() string {
	var b strings.Builder
	for i := range d.attrs {
		a := &d.attrs[i]
		name := string(a.name)
		if name == "xmlns" || strings.HasPrefix(name, "xmlns:") {
			continue
		}
		space := ""
		if c := strings.IndexByte(name, ':'); c >= 0 {
			space, _ = d.lookup(a.name[:c])
			name = name[c+1:]
		}
		fmt.Fprintf(&b, " {%s}%s=%q", space, name, normAttr(string(d.attrValue(a))))
	}
	return b.String()
}

func normAttr(s string) string {
	return strings.NewReplacer("\t", " ", "\n", " ", "\r", " ").Replace(s)
}

// stdTrace is trace done by encoding/xml.
func stdTrace(data []byte) (string, error) {
	d := xml.NewDecoder(bytes.NewReader(data))
	d.Strict = true
	d.CharsetReader = func(label string, r io.Reader) (io.Reader, error) {
		cs, err := lookupEncoding(label)
		if err != nil {
			return nil, err
		}
		if cs == nil {
			return r, nil
		}
		return newTranscoder(r, cs), nil
	}
	var b strings.Builder
	var text []byte
	depth := 0
	flush := func() {
		if len(text) > 0 {
			fmt.Fprintf(&b, "%q", text)
			text = text[:0]
		}
	}
	for {
		t, err := d.Token()
		if err == io.EOF {
			return b.String(), nil
		}
		if err != nil {
			return b.String(), err
		}
		switch t := t.(type) {
		case xml.StartElement:
			flush()
			depth++
			fmt.Fprintf(&b, "<{%s}%s", t.Name.Space, t.Name.Local)
			for _, a := range t.Attr {
				if a.Name.Space == "xmlns" || a.Name.Space == "" && a.Name.Local == "xmlns" {
					continue
				}
				fmt.Fprintf(&b, " {%s}%s=%q", a.Name.Space, a.Name.Local, normAttr(a.Value))
			}
			b.WriteString(">")
		case xml.EndElement:
			flush()
			depth--
			b.WriteString("</>")
		case xml.CharData:
			if depth > 0 {
				text = append(text, t...)
			}
		}
	}
}

func TestTokenizer(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     string // trace, when err is nil
		err      error
	}{
		{"minimal", `<a/>`, `<{}a></>`, nil},
		{"declaration and namespace", "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n<a xmlns=\"urn:x\"><b>t</b></a>\n", `<{urn:x}a><{urn:x}b>"t"</></>`, nil},
		{"prefixed", `<p:a xmlns:p="urn:x"><p:b/></p:a>`, `<{urn:x}a><{urn:x}b></></>`, nil},
		{"entities", `<a>&lt;&gt;&amp;&apos;&quot;&#65;&#x42;&#xe6;</a>`, `<{}a>"<>&'\"ABæ"</>`, nil},
		{"cdata", `<a>x<![CDATA[<&>]]>y</a>`, `<{}a>"x<&>y"</>`, nil},
		{"line ends", "<a>1\r\n2\r3</a>", `<{}a>"1\n2\n3"</>`, nil},
		{"attribute normalised", "<a b=\"1\t2\n3\r\n4&#10;\"/>", `<{}a {}b="1 2 3 4 "></>`, nil},
		{"comments and PIs", "<!-- c --><?pi x?><a><!---->x<?p?>y</a><!-- after -->\n", `<{}a>"xy"</>`, nil},
		{"BOM", "\ufeff<?xml version='1.0'?><a/>", `<{}a></>`, nil},
		{"latin1", "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><a>\xe6\xf8\xe5\xc6\xd8\xc5</a>", `<{}a>"æøåÆØÅ"</>`, nil},
		{"latin9 euro", "<?xml version=\"1.0\" encoding=\"iso-8859-15\"?><a>\xa4</a>", `<{}a>"€"</>`, nil},
		{"windows-1252 euro", "<?xml version=\"1.0\" encoding=\"windows-1252\"?><a>\x80\xe6</a>", `<{}a>"€æ"</>`, nil},

		{"empty", ``, "", ErrTruncated},
		{"white space only", " \n", "", ErrTruncated},
		{"doctype", `<!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]><a>&x;</a>`, "", ErrDoctype},
		{"doctype after root", `<a/><!DOCTYPE a>`, "", ErrDoctype},
		{"unknown entity", `<a>&x;</a>`, "", ErrMalformed},
		{"second root", `<a/><b/>`, "", ErrTrailing},
		{"text after root", `<a/>x`, "", ErrTrailing},
		{"truncated in text", `<a><b>x`, "", ErrTruncated},
		{"truncated in tag", `<a><b c="1`, "", ErrTruncated},
		{"truncated in comment", `<a><!-- x`, "", ErrTruncated},
		{"truncated before end", `<a><b/>`, "", ErrTruncated},
		{"mismatched end", `<a></b>`, "", ErrMalformed},
		{"duplicate attribute", `<a b="1" b="2"/>`, "", ErrMalformed},
		{"same attribute by namespace", `<a xmlns:x="u" xmlns:y="u" x:b="1" y:b="2"/>`, "", ErrMalformed},
		{"undeclared prefix", `<p:a/>`, "", ErrMalformed},
		{"undeclared attribute prefix", `<a p:b="1"/>`, "", ErrMalformed},
		{"empty prefix binding", `<a xmlns:p=""/>`, "", ErrMalformed},
		{"lt in attribute", `<a b="<"/>`, "", ErrMalformed},
		{"unquoted attribute", `<a b=1/>`, "", ErrMalformed},
		{"attribute without space", `<a b="1"c="2"/>`, "", ErrMalformed},
		{"control character", "<a>\x01</a>", "", ErrMalformed},
		{"NUL reference", `<a>&#0;</a>`, "", ErrMalformed},
		{"FFFE", "<a>\uFFFE</a>", "", ErrMalformed},
		{"double dash in comment", `<a><!-- a -- b --></a>`, "", ErrMalformed},
		{"]]> in text", `<a>]]></a>`, "", ErrMalformed},
		{"late XML declaration", `<a><?xml version="1.0"?></a>`, "", ErrMalformed},
		{"XML 1.1", `<?xml version="1.1"?><a/>`, "", ErrMalformed},
		{"non-ASCII name", `<æ/>`, "", ErrMalformed},
		{"bad name start", `<1a/>`, "", ErrMalformed},
		{"text before root", `x<a/>`, "", ErrMalformed},
		{"CDATA outside root", `<![CDATA[x]]><a/>`, "", ErrMalformed},
		{"invalid UTF-8", "<a>\xe6</a>", "", ErrEncoding},
		{"UTF-16 BOM", "\xff\xfe<\x00a\x00/\x00>\x00", "", ErrEncoding},
		{"UTF-16 without BOM", "<\x00?\x00x\x00m\x00l\x00", "", ErrEncoding},
		{"UTF-16 declared", `<?xml version="1.0" encoding="UTF-16"?><a/>`, "", ErrEncoding},
		{"unknown encoding", `<?xml version="1.0" encoding="KOI8-R"?><a/>`, "", ErrEncoding},
		{"BOM with latin1", "\ufeff<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><a/>", "", ErrEncoding},
		{"C1 control in latin1", "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><a>\x80</a>", "", ErrEncoding},
		{"undefined byte in windows-1252", "<?xml version=\"1.0\" encoding=\"windows-1252\"?><a>\x81</a>", "", ErrEncoding},
		{"non-ASCII in US-ASCII", "<?xml version=\"1.0\" encoding=\"US-ASCII\"?><a>\xe6</a>", "", ErrEncoding},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := trace(NewDecoder(strings.NewReader(tc.in), Options{}))
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("got %v; want an error wrapping %v", err, tc.err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("got %s, %v; want %s", got, err, tc.want)
			}
			// The same document read one byte at a time.
			got, err = trace(NewDecoderSize(iotest.OneByteReader(strings.NewReader(tc.in)), Options{}, 64))
			if err != nil || got != tc.want {
				t.Fatalf("one byte at a time: got %s, %v; want %s", got, err, tc.want)
			}
			// encoding/xml agrees.
			if want, err := stdTrace([]byte(tc.in)); err != nil || want != got {
				t.Errorf("encoding/xml: got %s, %v; want %s", want, err, got)
			}
		})
	}
}

func TestLimits(t *testing.T) {
	deep := strings.Repeat("<a>", 100) + strings.Repeat("</a>", 100)
	for _, tc := range []struct {
		name string
		in   string
		o    Options
		err  error
	}{
		{"depth", deep, Options{}, ErrLimit},
		{"depth within limit", deep, Options{MaxDepth: 100}, nil},
		{"long text", "<a>" + strings.Repeat("x", 2000) + "</a>", Options{MaxTokenBytes: 1000}, ErrLimit},
		{"long attribute", `<a b="` + strings.Repeat("x", 2000) + `"/>`, Options{MaxTokenBytes: 1000}, ErrLimit},
		{"long comment", "<a><!--" + strings.Repeat("x", 2000) + "--></a>", Options{MaxTokenBytes: 1000}, ErrLimit},
		{"attributes", "<a" + strings.Repeat(" b=\"\"", 65) + "/>", Options{}, ErrMalformed},
		{"many attributes", func() string {
			var b strings.Builder
			b.WriteString("<a")
			for i := range 65 {
				fmt.Fprintf(&b, " b%d=\"\"", i)
			}
			return b.String() + "/>"
		}(), Options{}, ErrLimit},
		{"many prefixes", func() string {
			var b strings.Builder
			for _, e := range []string{"a", "b"} {
				b.WriteString("<" + e)
				for i := range 40 {
					fmt.Fprintf(&b, " xmlns:%s%d=\"u\"", e, i)
				}
				b.WriteString(">")
			}
			return b.String() + "</b></a>"
		}(), Options{}, ErrLimit},
		{"size", "<a>" + strings.Repeat("<b/>", 1000) + "</a>", Options{MaxBytes: 1000}, ErrTooLarge},
		{"size exactly", "<a>" + strings.Repeat(" ", 993) + "</a>", Options{MaxBytes: 1000}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := trace(NewDecoder(strings.NewReader(tc.in), tc.o))
			if !errors.Is(err, tc.err) {
				t.Errorf("got %v; want %v", err, tc.err)
			}
		})
	}
}

// endless is an infinite document: a root element followed by as much
// white space as is read.
type endless struct{ n int64 }

func (e *endless) Read(p []byte) (int, error) {
	if e.n == 0 {
		e.n = int64(copy(p, "<a>"))
		return int(e.n), nil
	}
	for i := range p {
		p[i] = ' '
	}
	e.n += int64(len(p))
	return len(p), nil
}

// TestSizeLimitStopsReading: reading stops once the limit is passed; the
// rest of the input is never read.
func TestSizeLimitStopsReading(t *testing.T) {
	src := &endless{}
	d := NewDecoder(src, Options{MaxBytes: 1 << 20})
	_, err := trace(d)
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("got %v; want ErrTooLarge", err)
	}
	if src.n > 1<<20+1 {
		t.Errorf("read %d bytes; want at most %d", src.n, 1<<20+1)
	}
}

func TestErrorNamesLineAndPath(t *testing.T) {
	_, err := trace(NewDecoder(strings.NewReader("<a>\n<b>\n<c>&x;</c></b></a>"), Options{}))
	var e *Error
	if !errors.As(err, &e) || e.Line != 3 || e.Path != "a/b/c" {
		t.Fatalf("got %#v; want line 3 at a/b/c", err)
	}
	if got, want := err.Error(), "line 3: a/b/c: unknown entity &x;"; !strings.HasPrefix(got, want) {
		t.Errorf("got %q; want it to start with %q", got, want)
	}
}

func TestPull(t *testing.T) {
	doc := `<?xml version="1.0"?>
<D xmlns="urn:d"><A Ccy="NOK">1.00</A><B><C>x</C><E/></B><F>t<!-- c -->u</F><S xmlns:o="urn:o"><o:X/></S></D>`
	d := NewDecoder(strings.NewReader(doc), Options{})
	if space, local, err := d.Root(); err != nil || space != "urn:d" || local != "D" {
		t.Fatalf("Root: got %q %q %v", space, local, err)
	}
	var got []string
	for {
		name, ok, err := d.Child()
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			break
		}
		switch string(name) {
		case "A":
			ccy, _ := d.Attr("Ccy")
			c := string(ccy)
			v, err := d.Text()
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, "A "+c+" "+v)
		case "F":
			v, err := d.Text()
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, "F "+v)
		case "S":
			if err := d.SkipAny(); err != nil {
				t.Fatal(err)
			}
			got = append(got, "S")
		default:
			if err := d.Skip(); err != nil {
				t.Fatal(err)
			}
			got = append(got, string(name)+" skipped")
		}
	}
	if err := d.End(); err != nil {
		t.Fatal(err)
	}
	if want := "A NOK 1.00|B skipped|F tu|S"; strings.Join(got, "|") != want {
		t.Errorf("got %s; want %s", strings.Join(got, "|"), want)
	}
}

func TestPullRefuses(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		err      error
	}{
		{"foreign namespace", `<D xmlns="urn:d"><x:A xmlns:x="urn:evil">1</x:A></D>`, ErrInvalid},
		{"foreign namespace when skipping", `<D xmlns="urn:d"><B><A xmlns="urn:evil"/></B></D>`, ErrInvalid},
		{"text between elements", `<D xmlns="urn:d">x<A/></D>`, ErrInvalid},
		{"element in text", `<D xmlns="urn:d"><A><B/></A></D>`, ErrInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := NewDecoder(strings.NewReader(tc.in), Options{})
			if _, _, err := d.Root(); err != nil {
				t.Fatal(err)
			}
			var err error
			for err == nil {
				var name []byte
				var ok bool
				if name, ok, err = d.Child(); err != nil || !ok {
					break
				}
				if string(name) == "A" {
					_, err = d.Text()
				} else {
					err = d.Skip()
				}
			}
			if !errors.Is(err, tc.err) {
				t.Errorf("got %v; want %v", err, tc.err)
			}
		})
	}
}
