package xmlin

import (
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// charset is a single-byte character set: bytes below 0x80 are ASCII, the
// others map through high (0 marks a byte that is not a character of the
// set, or a C1 control that a text file in the set never contains).
type charset struct {
	name string
	high [128]rune
}

var (
	latin1      = newCharset("ISO-8859-1", nil)
	latin9      = newCharset("ISO-8859-15", map[byte]rune{0xA4: 0x20AC, 0xA6: 0x0160, 0xA8: 0x0161, 0xB4: 0x017D, 0xB8: 0x017E, 0xBC: 0x0152, 0xBD: 0x0153, 0xBE: 0x0178})
	windows1252 = newCharset("windows-1252", map[byte]rune{
		0x80: 0x20AC, 0x82: 0x201A, 0x83: 0x0192, 0x84: 0x201E, 0x85: 0x2026, 0x86: 0x2020, 0x87: 0x2021,
		0x88: 0x02C6, 0x89: 0x2030, 0x8A: 0x0160, 0x8B: 0x2039, 0x8C: 0x0152, 0x8E: 0x017D,
		0x91: 0x2018, 0x92: 0x2019, 0x93: 0x201C, 0x94: 0x201D, 0x95: 0x2022, 0x96: 0x2013, 0x97: 0x2014,
		0x98: 0x02DC, 0x99: 0x2122, 0x9A: 0x0161, 0x9B: 0x203A, 0x9C: 0x0153, 0x9E: 0x017E, 0x9F: 0x0178,
	})
	usASCII = &charset{name: "US-ASCII"}
)

// newCharset returns ISO-8859-1 with the given differences. ISO-8859-1
// maps 0xA0-0xFF to U+00A0-U+00FF; 0x80-0x9F are C1 controls, which are
// refused: a file that has them is almost always windows-1252 mislabelled,
// and guessing would put wrong letters into the books.
func newCharset(name string, diff map[byte]rune) *charset {
	c := &charset{name: name}
	for b := 0xA0; b <= 0xFF; b++ {
		c.high[b-0x80] = rune(b)
	}
	for b, r := range diff {
		c.high[b-0x80] = r
	}
	return c
}

// lookupEncoding maps an XML encoding label to a charset; nil means UTF-8.
func lookupEncoding(label string) (*charset, error) {
	switch l := strings.ToLower(label); l {
	case "utf-8", "utf8":
		return nil, nil
	case "us-ascii", "ascii":
		return usASCII, nil
	case "iso-8859-1", "iso8859-1", "iso_8859-1", "iso_8859-1:1987", "latin1", "latin-1", "l1", "iso-ir-100", "cp819", "ibm819", "csisolatin1":
		return latin1, nil
	case "iso-8859-15", "iso8859-15", "iso_8859-15", "latin9", "latin-9", "l9", "csisolatin9":
		return latin9, nil
	case "windows-1252", "cp1252", "x-cp1252":
		return windows1252, nil
	default:
		if strings.HasPrefix(l, "utf-16") || strings.HasPrefix(l, "utf-32") || strings.HasPrefix(l, "ucs-") || l == "unicode" {
			return nil, fmt.Errorf("encoding %q is declared: UTF-16 and UTF-32 are not supported (UTF-8, ISO-8859-1, ISO-8859-15 and windows-1252 are)", label)
		}
		return nil, fmt.Errorf("encoding %q is not supported (UTF-8, ISO-8859-1, ISO-8859-15 and windows-1252 are)", label)
	}
}

// transcoder reads a single-byte charset from r and returns UTF-8.
type transcoder struct {
	r      io.Reader
	cs     *charset
	raw    []byte
	out    []byte
	off    int
	offset int64 // bytes of r consumed, for error messages
	err    error
}

func newTranscoder(r io.Reader, cs *charset) *transcoder {
	return &transcoder{r: r, cs: cs, raw: make([]byte, 16<<10), out: make([]byte, 0, 48<<10)}
}

// Read returns the next UTF-8 bytes.
func (t *transcoder) Read(p []byte) (int, error) {
	for t.off == len(t.out) {
		if t.err != nil {
			return 0, t.err
		}
		n, err := t.r.Read(t.raw)
		t.out, t.off = t.out[:0], 0
		for i, b := range t.raw[:n] {
			if b < utf8.RuneSelf {
				t.out = append(t.out, b)
				continue
			}
			r := t.cs.high[b-0x80]
			if r == 0 {
				t.err = &Error{Msg: fmt.Sprintf("byte 0x%02X at offset %d is not a character in %s", b, t.offset+int64(i), t.cs.name), Err: ErrEncoding}
				break
			}
			t.out = utf8.AppendRune(t.out, r)
		}
		t.offset += int64(n)
		if err != nil && t.err == nil {
			t.err = err
		}
	}
	n := copy(p, t.out[t.off:])
	t.off += n
	return n, nil
}
