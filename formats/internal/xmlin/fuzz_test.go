package xmlin

import (
	"bytes"
	"errors"
	"testing"
	"testing/iotest"
)

// FuzzDecoder compares the tokenizer with encoding/xml: whatever it
// accepts, encoding/xml accepts too, with the same elements, attributes
// and text; whatever it refuses is refused with one of its error classes;
// reading one byte at a time changes nothing.
func FuzzDecoder(f *testing.F) {
	for _, s := range []string{
		`<a/>`,
		"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<D xmlns=\"urn:x\"><A Ccy=\"NOK\">1.50</A><B>&lt;x&#65;</B></D>",
		`<p:a xmlns:p="u" p:b='1'><![CDATA[x]]><!-- c --><?pi x?></p:a>`,
		"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><a>\xe6</a>",
		"\ufeff<a b=\"\t\"/>",
		`<!DOCTYPE a><a/>`,
		"<a>\r\n</a>",
	} {
		f.Add([]byte(s))
	}
	classes := []error{ErrMalformed, ErrDoctype, ErrTrailing, ErrTruncated, ErrTooLarge, ErrEncoding, ErrLimit, ErrInvalid}
	f.Fuzz(func(t *testing.T, data []byte) {
		o := Options{MaxBytes: 1 << 20, MaxTokenBytes: 4 << 10}
		got, err := trace(NewDecoder(bytes.NewReader(data), o))
		got1, err1 := trace(NewDecoderSize(iotest.OneByteReader(bytes.NewReader(data)), o, 64))
		if got != got1 || (err == nil) != (err1 == nil) {
			t.Fatalf("one byte at a time: got %s, %v; want %s, %v", got1, err1, got, err)
		}
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %v is not an *Error", err)
			}
			for _, c := range classes {
				if errors.Is(err, c) {
					return
				}
			}
			t.Fatalf("error %v has no class", err)
		}
		want, err := stdTrace(data)
		if err != nil {
			t.Fatalf("accepted %q, which encoding/xml refuses: %v", data, err)
		}
		if got != want {
			t.Fatalf("%q:\ngot  %s\nwant %s", data, got, want)
		}
	})
}
