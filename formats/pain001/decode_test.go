package pain001

import (
	"bytes"
	"errors"
	"os"
	"strings"
	"testing"

	"refundd/formats"
)

func TestDecodeRefuses(t *testing.T) {
	golden, err := os.ReadFile("testdata/sample.v03.golden.xml")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(golden)
	for _, tc := range []struct {
		name, in, want string
		is             error
	}{
		{"doctype", strings.Replace(doc, "<Document", "<!DOCTYPE d [<!ENTITY x \"y\">]>\n<Document", 1), "DOCTYPE", formats.ErrDoctype},
		{"second root", doc + "<Document/>", "a second root element", formats.ErrTrailing},
		{"text after root", doc + "junk", "after the root element", formats.ErrTrailing},
		{"truncated", doc[:len(doc)/2], "the document ends before", formats.ErrTruncated},
		{"other namespace", strings.Replace(doc, "pain.001.001.03", "pain.002.001.03", 1), "namespace \"urn:iso:std:iso:20022:tech:xsd:pain.002.001.03\"", ErrNotPain001},
		{"bad amount", strings.Replace(doc, ">12345.50<", ">12,345.50<", 1), "not a decimal", formats.ErrInvalid},
		{"empty", "", "no root element", ErrNotPain001},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Decode(strings.NewReader(tc.in), Handler{})
			if err == nil || !strings.Contains(err.Error(), tc.want) || !errors.Is(err, tc.is) {
				t.Errorf("got %v; want an error containing %q, wrapping %v", err, tc.want, tc.is)
			}
			if _, err := decodeStd(strings.NewReader(tc.in), Handler{}); err == nil {
				t.Errorf("the encoding/xml reader accepts it")
			}
		})
	}
	if _, err := Decode(strings.NewReader("<Document xmlns=\"urn:x\"/>"), Handler{}); !errors.Is(err, ErrNotPain001) {
		t.Errorf("unknown namespace: got %v; want ErrNotPain001", err)
	}
}

// TestDecodeHandlerError: an error from a handler stops decoding and is
// returned as is.
func TestDecodeHandlerError(t *testing.T) {
	golden, err := os.ReadFile("testdata/sample.v09.golden.xml")
	if err != nil {
		t.Fatal(err)
	}
	stop := errors.New("stop")
	n := 0
	_, err = Decode(bytes.NewReader(golden), Handler{Transaction: func(int, *Transaction) error { n++; return stop }})
	if !errors.Is(err, stop) || n != 1 {
		t.Errorf("got %v after %d transactions; want stop after 1", err, n)
	}
}

// FuzzDecode: the reader never panics and always terminates, whatever the
// input; what it accepts has sane totals; it refuses whatever the
// encoding/xml reader it replaced refused, and what both accept they read
// the same.
func FuzzDecode(f *testing.F) {
	for _, name := range []string{"testdata/sample.v03.golden.xml", "testdata/sample.v09.golden.xml"} {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:pain.001.001.03\"><CstmrCdtTrfInitn><PmtInf><CdtTrfTxInf/></PmtInf></CstmrCdtTrfInitn></Document>"))
	f.Add([]byte("<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:pain.001.001.09\"><CstmrCdtTrfInitn><GrpHdr><MsgId>M</MsgId><CreDtTm>2026-12-01T09:00:00</CreDtTm><NbOfTxs>1</NbOfTxs></GrpHdr>" +
		"<PmtInf><PmtInfId>P</PmtInfId><ReqdExctnDt><Dt>2026-12-02</Dt></ReqdExctnDt><CdtTrfTxInf><PmtId><EndToEndId>E</EndToEndId></PmtId><Amt><InstdAmt Ccy=\"NOK\">1.5</InstdAmt></Amt></CdtTrfTxInf></PmtInf></CstmrCdtTrfInitn></Document>"))
	f.Fuzz(func(t *testing.T, data []byte) {
		n := 0
		_, err := Decode(bytes.NewReader(data), Handler{
			Transaction: func(_ int, tx *Transaction) error {
				n++
				if tx.Amount.Scale < 0 || tx.Amount.Scale > 5 {
					t.Fatalf("scale %d out of range", tx.Amount.Scale)
				}
				return nil
			},
		})
		if err == nil && n > len(data) {
			t.Fatalf("%d transactions from %d bytes", n, len(data))
		}
		differ(t, "input", data)
	})
}

// TestDecodeStrict: what the strict reader refuses beyond the encoding/xml
// reader it replaced, each with the sentinel error and the path of the
// element in the message.
func TestDecodeStrict(t *testing.T) {
	read := func(name string) string {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	v03, v09 := read("testdata/sample.v03.golden.xml"), read("testdata/sample.v09.golden.xml")
	once := func(doc, old, new string) string {
		t.Helper()
		if !strings.Contains(doc, old) {
			t.Fatalf("the sample has no %q", old)
		}
		return strings.Replace(doc, old, new, 1)
	}
	const msgID = "<MsgId>RFD-B2026-0042-ABCDEFGH</MsgId>"
	for _, tc := range []struct {
		name, in  string
		o         Options
		is        error
		want      string // in the message
		stdRefuse bool   // the encoding/xml reader refused it too
	}{
		{"larger than MaxBytes", v03, Options{MaxBytes: 1000}, formats.ErrTooLarge, "larger than the limit of 1000 bytes", false},
		{"deeper than MaxDepth", v03, Options{MaxDepth: 5}, formats.ErrLimit, "CstmrCdtTrfInitn/GrpHdr/InitgPty/Id", false},
		{"token over MaxTokenBytes", once(v03, msgID, "<MsgId>"+strings.Repeat("x", 200)+"</MsgId>"), Options{MaxTokenBytes: 100}, formats.ErrLimit, "longer than 100 bytes", false},
		{"ISO-8859-1", once(v03, `encoding="UTF-8"`, `encoding="ISO-8859-1"`), Options{}, formats.ErrEncoding, `declares encoding "ISO-8859-1"`, true},
		{"bytes not UTF-8", once(v03, "Ærlig", "\xc6rlig"), Options{}, formats.ErrEncoding, "not valid UTF-8", true},
		{"undefined entity", once(v03, "&amp;", "&nbsp;"), Options{}, formats.ErrMalformed, "nbsp", true},
		{"element in another namespace", once(v03, "<Purp>", `<Purp xmlns="urn:x">`), Options{}, formats.ErrInvalid, `PmtInf/CdtTrfTxInf/Purp: element <Purp> is in namespace "urn:x"`, false},
		{"MsgId twice", once(v03, msgID, msgID+msgID), Options{}, formats.ErrInvalid, "GrpHdr/MsgId: element appears more than once", false},
		{"no MsgId", once(v03, msgID, ""), Options{}, formats.ErrInvalid, "GrpHdr has no MsgId", false},
		{"GrpHdr after PmtInf", once(v03, "<GrpHdr>", "<PmtInf><PmtInfId>X</PmtInfId></PmtInf><GrpHdr>"), Options{}, formats.ErrInvalid, "PmtInf before GrpHdr", false},
		{"two messages", once(v03, "</CstmrCdtTrfInitn>", "</CstmrCdtTrfInitn><CstmrCdtTrfInitn/>"), Options{}, formats.ErrInvalid, "more than one message", false},
		{"block field after the transactions", once(v03, "</PmtInf>", "<ChrgBr>SLEV</ChrgBr></PmtInf>"), Options{}, formats.ErrInvalid, "PmtInf/ChrgBr: ChrgBr after the transactions", false},
		{"no EndToEndId", once(v03, "<EndToEndId>CN-10042-AAAAAAAA</EndToEndId>", ""), Options{}, formats.ErrInvalid, "PmtInf/CdtTrfTxInf: PmtId has no EndToEndId", false},
		{"no InstdAmt", once(v03, `<InstdAmt Ccy="NOK">12345.50</InstdAmt>`, ""), Options{}, formats.ErrInvalid, "Amt has no InstdAmt", true},
		{"no Ccy", once(v03, `<InstdAmt Ccy="NOK">`, `<InstdAmt>`), Options{}, formats.ErrInvalid, "InstdAmt has no Ccy", false},
		{"negative amount", once(v03, ">12345.50<", ">-12345.50<"), Options{}, formats.ErrInvalid, `CdtTrfTxInf/Amt: InstdAmt "-12345.50" is negative`, false},
		{"bad NbOfTxs", once(v03, "<NbOfTxs>2</NbOfTxs>", "<NbOfTxs>two</NbOfTxs>"), Options{}, formats.ErrInvalid, `PmtInf: NbOfTxs: "two" is not a count`, false},
		{"bad BtchBookg", once(v03, "<BtchBookg>false</BtchBookg>", "<BtchBookg>no</BtchBookg>"), Options{}, formats.ErrInvalid, `PmtInf: BtchBookg "no" is not true, false, 1 or 0`, false},
		{"bad execution date", once(v03, "<ReqdExctnDt>2026-12-02</ReqdExctnDt>", "<ReqdExctnDt>02.12.2026</ReqdExctnDt>"), Options{}, formats.ErrInvalid, `PmtInf: ReqdExctnDt "02.12.2026" is not an ISO date`, false},
		{"v09 execution date and time", once(v09, "<Dt>2026-12-02</Dt>", "<DtTm>2026-12-02T10:00:00</DtTm>"), Options{}, formats.ErrInvalid, "ReqdExctnDt/DtTm: an execution date and time is not read", false},
		{"IBAN and Othr", once(v03, "<IBAN>", "<Othr><Id>1</Id></Othr><IBAN>"), Options{}, formats.ErrInvalid, "account Id has both IBAN and Othr", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := DecodeOptions(strings.NewReader(tc.in), tc.o, Handler{})
			if err == nil || !errors.Is(err, tc.is) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v; want an error wrapping %v containing %q", err, tc.is, tc.want)
			}
			if _, err := decodeStd(strings.NewReader(tc.in), Handler{}); (err != nil) != tc.stdRefuse {
				t.Errorf("the encoding/xml reader: %v; want refused: %v", err, tc.stdRefuse)
			}
		})
	}
}
