package erp

import (
	"bytes"
	"fmt"
	"io"
	"runtime"
	"strings"
	"testing"
	"testing/iotest"
	"unicode/utf8"
)

// scanWith runs ScanWith over data and returns the records and the problems
// of the file.
func scanWith(t testing.TB, name string, data []byte, enc Encoding) ([]Record, []Problem) {
	t.Helper()
	var recs []Record
	ps, err := ScanWith(name, bytes.NewReader(data), Options{Encoding: enc}, func(r Record) error {
		recs = append(recs, r)
		return nil
	})
	if err != nil {
		t.Fatalf("ScanWith(%s, %s): %v", name, enc, err)
	}
	return recs, ps
}

// rowNamed is row with the customer name and the payment reference given, as
// raw bytes.
func rowNamed(ref, name, pref string) string {
	return "B1;Payment;" + ref + ";C1;" + name + ";AUTOPAY;BBAN;86011117947;100;2024-05-02;" + pref + "\n"
}

// cp1252File is a batch file in Windows-1252: Norwegian letters on line 2,
// a quoted name over lines 3 and 4, typographic characters of the bytes 0x80
// to 0x9F on line 5 and a bad amount on line 6.
var cp1252File = header +
	rowNamed("R1", "Bj\xf8rn \xe6\xf8\xe5\xc6\xd8\xc5", "REF") +
	rowNamed("R2", "\"S\xf8lvi\n\xc5sen\"", "REF") +
	rowNamed("R3", "Kari \x96 \x93Sol\x94", "Ordre\x85 \x80") +
	"B1;Payment;R4;C1;K\xe5re;AUTOPAY;BBAN;86011117947;1\xa0000;2024-05-02;REF\n"

func TestScanCSVEncodings(t *testing.T) {
	type rec struct {
		line       int
		name, pref string
	}
	tests := []struct {
		name string
		in   string
		enc  Encoding
		recs []rec
		want []string // all problems, as prefixes, in file order
	}{
		{"Windows-1252", cp1252File, Windows1252,
			[]rec{
				{2, "Bjørn æøåÆØÅ", "REF"},
				{3, "Sølvi\nÅsen", "REF"},
				{5, "Kari – “Sol”", "Ordre… €"},
				{6, "Kåre", "REF"}, // and its Amount "1\u00a0000" is 1 000
			},
			nil},
		{"ISO-8859-1", header + rowNamed("R1", "Bj\xf8rn \xe6\xf8\xe5\xc6\xd8\xc5 \xe9\xfc\xdf", "REF"), ISO88591,
			[]rec{{2, "Bjørn æøåÆØÅ éüß", "REF"}}, nil},
		{"ISO-8859-1 of a Windows-1252 dash", header + rowNamed("R1", "Kari \x96 Sol", "REF"), ISO88591,
			[]rec{{2, "Kari \ufffd Sol", "REF"}},
			[]string{`x.csv:2: CustomerName: byte 0x96 (character 6) is a control character in ISO-8859-1; in Windows-1252 it is '–': ` +
				`if the file is Windows-1252, set batches.encoding: windows-1252`}},
		{"ISO-8859-1 of a byte undefined in Windows-1252", header + rowNamed("R1", "Kari\x81", "REF"), ISO88591,
			[]rec{{2, "Kari\ufffd", "REF"}},
			[]string{"x.csv:2: CustomerName: byte 0x81 (character 5) is a control character in ISO-8859-1\x00"}},
		{"undefined Windows-1252 byte", header + rowNamed("R1", "Ola", "REF") + rowNamed("R2", "Kari \x81Sol", "RE\x9dF"), Windows1252,
			[]rec{{2, "Ola", "REF"}, {3, "Kari \ufffdSol", "RE\ufffdF"}},
			[]string{
				"x.csv:3: CustomerName: byte 0x81 (character 6) is not defined in Windows-1252\x00",
				"x.csv:3: PaymentRef: byte 0x9D (character 3) is not defined in Windows-1252\x00",
			}},
		{"undefined Windows-1252 byte in an ignored column", strings.TrimSuffix(header, "\n") + ";Note\n" +
			strings.TrimSuffix(row("R1"), "\n") + ";x\x8fy\n", Windows1252,
			[]rec{{2, "Ola Nordmann", "REF"}},
			[]string{
				`x.csv:1: warning: unknown column "Note" (column 12) ignored`,
				`x.csv:2: column 12 ("Note"): byte 0x8F (character 2) is not defined in Windows-1252`,
			}},
		{"undefined Windows-1252 byte in a column name", strings.TrimSuffix(header, "\n") + ";N\x90\n" +
			strings.TrimSuffix(row("R1"), "\n") + ";x\n", Windows1252,
			[]rec{{2, "Ola Nordmann", "REF"}},
			[]string{`x.csv:1: column 12: the name "N\u0090": byte 0x90 (character 2) is not defined in Windows-1252`}},
		{"UTF-8 byte order mark in a Windows-1252 file", bomUTF8 + header + row("R1"), Windows1252, nil,
			[]string{"x.csv: the file starts with a UTF-8 byte order mark, so it is UTF-8, not Windows-1252: " +
				"set batches.encoding: utf-8, or export the file in Windows-1252"}},
		{"UTF-8 byte order mark in an ISO-8859-1 file", bomUTF8 + header + row("R1"), ISO88591, nil,
			[]string{"x.csv: the file starts with a UTF-8 byte order mark, so it is UTF-8, not ISO-8859-1"}},
		{"UTF-16 in a Windows-1252 file", "\xff\xfeB\x00", Windows1252, nil,
			[]string{"x.csv: the file is UTF-16 (it starts with a UTF-16 byte order mark); a batch export must be Windows-1252"}},
		{"ASCII the same in every encoding", header + row("R1"), Windows1252, []rec{{2, "Ola Nordmann", "REF"}}, nil},
		{"zero value is UTF-8", header + rowNamed("R1", "Bjørn", "REF"), "", []rec{{2, "Bjørn", "REF"}}, nil},
		{"Windows-1252 read as UTF-8", cp1252File, UTF8,
			[]rec{
				{2, "Bj\ufffdrn \ufffd", "REF"}, // a run of invalid bytes is one U+FFFD
				{3, "S\ufffdlvi\n\ufffdsen", "REF"},
				{5, "Kari \ufffd \ufffdSol\ufffd", "Ordre\ufffd \ufffd"},
				{6, "K\ufffdre", "REF"},
			},
			[]string{
				`x.csv:2: CustomerName: not valid UTF-8; the file looks like Windows-1252 (a spreadsheet's "CSV (semicolon)"): ` +
					`save it as "CSV UTF-8", or set batches.encoding: windows-1252` + "\x00",
				"x.csv:3: CustomerName: not valid UTF-8 (Windows-1252? see line 2)\x00",
				"x.csv:5: CustomerName: not valid UTF-8 (Windows-1252? see line 2)\x00",
				"x.csv:5: PaymentRef: not valid UTF-8 (Windows-1252? see line 2)\x00",
				"x.csv:6: CustomerName: not valid UTF-8 (Windows-1252? see line 2)\x00",
				"x.csv:6: Amount: not valid UTF-8 (Windows-1252? see line 2)\x00",
				`x.csv:6: Amount: "1` + "\ufffd" + `000"`,
			}},
		{"invalid UTF-8 that is not Windows-1252", header + rowNamed("R1", "Ola \x81", "REF") + rowNamed("R2", "Ola \xf8", "REF"), UTF8,
			[]rec{{2, "Ola \ufffd", "REF"}, {3, "Ola \ufffd", "REF"}},
			[]string{
				"x.csv:2: CustomerName: not valid UTF-8\x00",
				"x.csv:3: CustomerName: not valid UTF-8; the file looks like Windows-1252",
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			recs, ps := scanWith(t, "x.csv", []byte(tt.in), tt.enc)
			var got []rec
			for _, r := range recs {
				got = append(got, rec{r.Pos.Line, r.Refund.CustomerName, r.Refund.PaymentRef})
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.recs) {
				t.Errorf("records (line, name, ref)\n got %+v\nwant %+v", got, tt.recs)
			}
			all := all(recs, ps)
			if len(all) != len(tt.want) {
				t.Errorf("%d problems, want %d:\n%s", len(all), len(tt.want), strings.Join(all, "\n"))
			}
			for i := range min(len(all), len(tt.want)) {
				// A want that ends in NUL is the whole problem.
				w, whole := strings.CutSuffix(tt.want[i], "\x00")
				if whole && all[i] != w || !strings.HasPrefix(all[i], w) {
					t.Errorf("problem %d:\n got %s\nwant %s", i, all[i], tt.want[i])
				}
			}
			for _, r := range recs {
				for _, v := range []string{r.Refund.CustomerName, r.Refund.PaymentRef, r.Refund.RefNbr} {
					if !utf8.ValidString(v) {
						t.Errorf("%v: value %q is not valid UTF-8", r.Pos, v)
					}
				}
			}
		})
	}
}

func TestScanWithUnknownEncoding(t *testing.T) {
	_, err := ScanWith("x.csv", strings.NewReader(header+row("R1")), Options{Encoding: "ebcdic"}, func(Record) error { return nil })
	if err == nil || !strings.Contains(err.Error(), `read batch x.csv: unknown encoding "ebcdic"`) {
		t.Errorf("ScanWith(ebcdic) error %v; want unknown encoding", err)
	}
}

// TestScanWithJSONIsUTF8: the encoding is for CSV files only.
func TestScanWithJSONIsUTF8(t *testing.T) {
	data := `{"batch": "B1", "refunds": [` + strings.Replace(obj("R1", ""), "Ola", "Bjørn", 1) + `]}`
	for _, enc := range []Encoding{Windows1252, ISO88591} {
		recs, ps := scanWith(t, "x.json", []byte(data), enc)
		if len(ps) != 0 || len(recs) != 1 || recs[0].Refund.CustomerName != "Bjørn" || len(recs[0].Problems) != 0 {
			t.Errorf("%s: records %+v, problems %v; want Bjørn", enc, recs, ps)
		}
	}
}

func TestDecoder(t *testing.T) {
	var all [256]byte
	for i := range all {
		all[i] = byte(i)
	}
	spot := []struct {
		b    byte
		w, i rune // Windows-1252, ISO-8859-1
	}{
		{'A', 'A', 'A'}, {'\n', '\n', '\n'}, {';', ';', ';'}, {'"', '"', '"'},
		{0x80, '€', 0x80}, {0x81, 0x81, 0x81}, {0x85, '…', 0x85}, {0x8A, 'Š', 0x8A},
		{0x8D, 0x8D, 0x8D}, {0x8F, 0x8F, 0x8F}, {0x90, 0x90, 0x90}, {0x91, '‘', 0x91},
		{0x92, '’', 0x92}, {0x96, '–', 0x96}, {0x97, '—', 0x97}, {0x99, '™', 0x99},
		{0x9D, 0x9D, 0x9D}, {0x9F, 'Ÿ', 0x9F}, {0xA0, '\u00a0', '\u00a0'}, {0xC5, 'Å', 'Å'},
		{0xC6, 'Æ', 'Æ'}, {0xD8, 'Ø', 'Ø'}, {0xE5, 'å', 'å'}, {0xE6, 'æ', 'æ'},
		{0xF8, 'ø', 'ø'}, {0xFF, 'ÿ', 'ÿ'},
	}
	for _, enc := range []Encoding{Windows1252, ISO88591} {
		t.Run(enc.String(), func(t *testing.T) {
			// One byte at a time in and out, to cross every buffer edge.
			out, err := io.ReadAll(iotest.OneByteReader(&decoder{r: iotest.OneByteReader(bytes.NewReader(all[:])), enc: enc}))
			if err != nil {
				t.Fatal(err)
			}
			rs := []rune(string(out))
			if !utf8.Valid(out) || len(rs) != 256 {
				t.Fatalf("decoded %d characters (valid UTF-8 %v); want 256", len(rs), utf8.Valid(out))
			}
			undefined := 0
			for b, r := range rs {
				if want, ok := decodeByte(enc, byte(b)); r != want {
					t.Errorf("byte 0x%02X = %U; want %U", b, r, want)
				} else if !ok {
					undefined++
				}
			}
			if want := map[Encoding]int{Windows1252: 5, ISO88591: 0}[enc]; undefined != want {
				t.Errorf("%d undefined bytes; want %d", undefined, want)
			}
			for _, s := range spot {
				want := s.w
				if enc == ISO88591 {
					want = s.i
				}
				if rs[s.b] != want {
					t.Errorf("byte 0x%02X = %q; want %q", s.b, rs[s.b], want)
				}
			}
			// Larger reads give the same bytes.
			big, err := io.ReadAll(&decoder{r: bytes.NewReader(bytes.Repeat(all[:], 100)), enc: enc})
			if err != nil || !bytes.Equal(big, bytes.Repeat(out, 100)) {
				t.Errorf("decoding 25 600 bytes at once differs from one at a time (error %v)", err)
			}
		})
	}
}

// TestDecoderError: an error of the reader comes after the bytes read
// before it.
func TestDecoderError(t *testing.T) {
	d := &decoder{r: iotest.DataErrReader(iotest.TimeoutReader(strings.NewReader("\xe6\xf8\xe5"))), enc: Windows1252}
	b := make([]byte, 16)
	n, err := d.Read(b)
	if string(b[:n]) != "æøå" || err != nil {
		t.Errorf("Read = %q, %v; want \"æøå\", nil", b[:n], err)
	}
	if n, err = d.Read(b); n != 0 || err != iotest.ErrTimeout {
		t.Errorf("Read = %d, %v; want 0, %v", n, err, iotest.ErrTimeout)
	}
}

// cp1252Reader produces a batch file of n refunds in Windows-1252 on the
// fly, each name with Norwegian letters.
type cp1252Reader struct {
	n, i int
	buf  bytes.Buffer
	read int64 // bytes handed out
}

func (g *cp1252Reader) Read(p []byte) (int, error) {
	for g.buf.Len() < len(p) && g.i <= g.n {
		if g.i == 0 {
			g.buf.WriteString(header)
		} else {
			g.buf.WriteString(rowNamed(fmt.Sprintf("R%d", g.i), "\xd8la N\xf8rdmann", "REF"))
		}
		g.i++
	}
	n, err := g.buf.Read(p)
	g.read += int64(n)
	return n, err
}

// TestScanWindows1252Streams: the decoding keeps the scan a stream, with
// the memory flat in the size of the file.
func TestScanWindows1252Streams(t *testing.T) {
	n := 20_000
	if !testing.Short() {
		n = 100_000
	}
	g := &cp1252Reader{n: n}
	var heap [2]uint64
	got := 0
	ps, err := ScanWith("big.csv", g, Options{Encoding: Windows1252}, func(r Record) error {
		got++
		if len(r.Problems) != 0 {
			return fmt.Errorf("%v: %v", r.Pos, r.Problems)
		}
		if r.Pos.Line != got+1 {
			return fmt.Errorf("refund %d on line %d", got, r.Pos.Line)
		}
		if r.Refund.CustomerName != "Øla Nørdmann" {
			return fmt.Errorf("%v: name %q", r.Pos, r.Refund.CustomerName)
		}
		if got == 1 && g.read > 128<<10 {
			return fmt.Errorf("%d bytes read before the first refund", g.read)
		}
		if got == 1_000 || got == n {
			runtime.GC()
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			heap[min(got/n, 1)] = m.HeapAlloc
		}
		return nil
	})
	if err != nil || len(ps) != 0 || got != n {
		t.Fatalf("%d refunds, problems %v, error %v", got, ps, err)
	}
	growth := int64(heap[1]) - int64(heap[0])
	t.Logf("%d bytes read, live heap grew by %d bytes", g.read, growth)
	// The RefNbr index takes about 50 bytes a refund.
	if growth > int64(80*n) {
		t.Errorf("live heap grew by %d bytes for a file of %d bytes", growth, g.read)
	}
}

func FuzzScanCSVEncodings(f *testing.F) {
	f.Add([]byte(cp1252File), uint8(0))
	f.Add([]byte(cp1252File), uint8(1))
	f.Add([]byte(header+rowNamed("R1", "Kari\x81", "R\x9d")), uint8(1))
	f.Add([]byte(bomUTF8+header+row("R1")), uint8(2))
	encs := []Encoding{UTF8, Windows1252, ISO88591}
	f.Fuzz(func(t *testing.T, data []byte, e uint8) {
		enc := encs[int(e)%len(encs)]
		recs, ps := scanWith(t, "f.csv", data, enc)
		for _, r := range recs {
			fs := fieldsOf(r.Refund)
			for c := range columns {
				if v := *field(&fs, c); !utf8.ValidString(v) {
					t.Errorf("%v: %s %q is not valid UTF-8", r.Pos, columns[c].name, v)
				}
			}
			if r.Pos.Line < 1 || r.Pos.Line > bytes.Count(data, []byte("\n"))+1 {
				t.Errorf("record at line %d of a file of %d lines", r.Pos.Line, bytes.Count(data, []byte("\n"))+1)
			}
		}
		for _, p := range ps {
			if p.Pos.File != "f.csv" || p.Msg == "" || !utf8.ValidString(p.Msg) && enc != UTF8 {
				t.Errorf("problem %#v", p)
			}
		}
	})
}
