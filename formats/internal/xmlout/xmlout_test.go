package xmlout

import (
	"bytes"
	"encoding/xml"
	"strings"
	"testing"
)

func TestAppendEscaped(t *testing.T) {
	for in, want := range map[string]string{
		"":                "",
		"plain":           "plain",
		"a&b<c>d\"e'f":    "a&amp;b&lt;c&gt;d&quot;e&apos;f",
		"æøå ÆØÅ":         "æøå ÆØÅ",
		"tab\there":       "tab&#9;here",
		"lf\ncr\r":        "lf&#10;cr&#13;",
		"nul\x00":         "nul\uFFFD",
		"bad\xffutf8":     "bad\uFFFDutf8",
		"cut \xe2\x82":    "cut \uFFFD\uFFFD",
		"ok \uFFFD ok":    "ok \uFFFD ok",
		"emoji 😀":         "emoji 😀",
		"\x1b[31mred":     "\uFFFD[31mred",
		"surrogate\uFFFE": "surrogate\uFFFD",
	} {
		got := AppendEscaped([]byte("<x>"), in)
		if string(got) != "<x>"+want {
			t.Errorf("AppendEscaped(%q) = %q; want %q", in, got[3:], want)
		}
	}
}

// TestAppendEscapedRoundTrip: what AppendEscaped writes, in an element and
// in an attribute, reads back as the text it was given, for text that XML
// can carry.
func TestAppendEscapedRoundTrip(t *testing.T) {
	for _, in := range []string{"plain", "a&b<c>d\"e'f", " lead\ttab\nlf\r\ncrlf trail ", "Ærlig 😀 &amp;"} {
		var doc []byte
		doc = append(doc, `<x a="`...)
		doc = AppendEscaped(doc, in)
		doc = append(doc, `">`...)
		doc = AppendEscaped(doc, in)
		doc = append(doc, `</x>`...)
		var v struct {
			A    string `xml:"a,attr"`
			Text string `xml:",chardata"`
		}
		if err := xml.NewDecoder(bytes.NewReader(doc)).Decode(&v); err != nil {
			t.Fatalf("%s: %v", doc, err)
		}
		if v.A != in || v.Text != in {
			t.Errorf("%q read back as attribute %q and text %q", in, v.A, v.Text)
		}
	}
}

// TestTextAttrRefuses: text that XML cannot carry is refused, not replaced,
// and nothing of the element is written.
func TestTextAttrRefuses(t *testing.T) {
	for _, in := range []string{"nul\x00", "bad\xffutf8", "esc\x1b"} {
		var out strings.Builder
		x := New(&out)
		x.Declaration("urn:x")
		x.Text("Nm", in, 0)
		if err := x.Close(); err == nil || !strings.Contains(err.Error(), "XML cannot carry") {
			t.Errorf("Text(%q): %v; want refused", in, err)
		}
		if strings.Contains(out.String(), "<Nm>") {
			t.Errorf("Text(%q) wrote %q", in, out.String())
		}
	}
}
