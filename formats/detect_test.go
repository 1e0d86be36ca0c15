package formats

import (
	"errors"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"refundd/formats/internal/samples"
)

func TestDetectSamples(t *testing.T) {
	want := map[string]string{
		"pain.001/iso20022js-v03-crossborder-usd-shar.xml":                         "pain.001.001.03",
		"pain.001/iso20022js-v03-sepa-two-pmtinf.xml":                              "pain.001.001.03",
		"pain.001/six-ch-musterfile-v03ch-nov2020.xml":                             "pain.001.001.03.ch.02",
		"pain.002/goldmansachs-v03-group-actc.xml":                                 "pain.002.001.03",
		"pain.002/goldmansachs-v03-pmtinf-accp.xml":                                "pain.002.001.03",
		"pain.002/goldmansachs-v03-tx-accp-acctsvcrref.xml":                        "pain.002.001.03",
		"pain.002/hypovereinsbank-v10-vop-RVMC-tx-RVNM-name-mismatch.xml":          "pain.002.001.10",
		"pain.002/hypovereinsbank-v10-vop-group-RCVC-name-match.xml":               "pain.002.001.10",
		"pain.002/iso-mdr-example-v03-group-accp.xml":                              "pain.002.001.03",
		"pain.002/lacaixa-v03-tx-rjct-AM04-MD01-direct-debit.xml":                  "pain.002.001.03",
		"pain.002/nordea-v03-group-rjct-DU01-duplicate-msgid.xml":                  "pain.002.001.03",
		"pain.002/nordea-v03-pmtinf-rjct-NARR.xml":                                 "pain.002.001.03",
		"pain.002/nordea-v03-tx-rjct-NARR-two-txs.xml":                             "pain.002.001.03",
		"pain.002/postfinance-v03ch-pmtinf-PART-tx-rjct-AC01.xml":                  "pain.002.001.03.ch.02",
		"pain.002/postfinance-v03ch-pmtinf-rjct-NARR-tx-rjct-AC01.xml":             "pain.002.001.03.ch.02",
		"pain.002/postfinance-v10-group-actc.xml":                                  "pain.002.001.10",
		"pain.002/postfinance-v10-group-rjct-AM10-ctrlsum.xml":                     "pain.002.001.10",
		"pain.002/postfinance-v10-pmtinf-accp.xml":                                 "pain.002.001.10",
		"pain.002/postfinance-v10-pmtinf-rjct-AC01.xml":                            "pain.002.001.10",
		"pain.002/crossriver-v03-grp-actc-pmtinf-tx-rjct-BROKEN-NAMESPACE.xml":     "",
		"camt.053/ing-nl-v02-statement-with-returns.xml":                           "camt.053.001.02",
		"camt.053/nordea-dk-v02-statement-batch-debit-with-msgid-pmtinfid-e2e.xml": "camt.053.001.02",
		"camt.053/nordea-fi-v02-statement-6-entries.xml":                           "camt.053.001.02",
		"camt.054/genkgo-v02-debit-3-txdtls-iso-example.xml":                       "camt.054.001.02",
		"camt.054/genkgo-v08-debit-3-txdtls.xml":                                   "camt.054.001.08",
		"camt.054/oca-v04-credit-sps-qrr.xml":                                      "camt.054.001.04",
		"camt.054/postfinance-v04-credit-single.xml":                               "camt.054.001.04",
		"camt.054/postfinance-v04-debit-single.xml":                                "camt.054.001.04",
		"camt.054/postfinance-v08-credit-batch-2-txdtls-structured-ref.xml":        "camt.054.001.08",
		"camt.054/postfinance-v08-credit-direct-debit-batch-2-txdtls.xml":          "camt.054.001.08",
		"camt.054/postfinance-v08-credit-return-RtrInf-AC01-single-booking.xml":    "camt.054.001.08",
		"camt.054/postfinance-v08-credit-return-RtrInf-batch-booking.xml":          "camt.054.001.08",
		"camt.054/tryton-v02-credit-single-iso-example.xml":                        "camt.054.001.02",
	}
	seen := 0
	for _, kind := range []string{"pain.001", "pain.002", "camt.053", "camt.054"} {
		for _, path := range samples.Files(t, kind) {
			name := kind + "/" + filepath.Base(path)
			t.Run(name, func(t *testing.T) {
				w, ok := want[name]
				if !ok {
					t.Fatalf("sample %s is not in the table; add it", name)
				}
				seen++
				m, err := Detect(samples.Open(t, kind, filepath.Base(path)))
				if w == "" {
					if !errors.Is(err, ErrUnknownMessage) || !strings.Contains(err.Error(), `"Xmlns"`) {
						t.Fatalf("got %v, %v; want ErrUnknownMessage naming the attribute Xmlns", m, err)
					}
					return
				}
				if err != nil || m.String() != w {
					t.Fatalf("got %v, %v; want %s", m, err, w)
				}
				if m.Namespace == "" {
					t.Errorf("got no namespace for %s", m)
				}
			})
		}
	}
	if seen != len(want) {
		t.Errorf("read %d samples; want %d", seen, len(want))
	}
}

// countReader counts the bytes read from it.
type countReader struct {
	r io.Reader
	n int
}

func (c *countReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

func TestDetect(t *testing.T) {
	const camt = `<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.054.001.08">`
	for _, tc := range []struct {
		name, in string
		want     string
		err      error
		errText  string
	}{
		{"camt.054.001.08", "<?xml version=\"1.0\"?>\n<!-- c -->" + camt + "<x", "camt.054.001.08", nil, ""},
		{"prefixed root", `<n:Document xmlns:n="urn:iso:std:iso:20022:tech:xsd:pain.002.001.10"><n:X/>`, "pain.002.001.10", nil, ""},
		{"latin1", "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><!-- \xe6\xf8\xe5 -->" + camt, "camt.054.001.08", nil, ""},
		{"BOM", "\ufeff" + camt, "camt.054.001.08", nil, ""},
		{"unknown namespace", `<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.054.001.11">`, "", ErrUnknownMessage, `"urn:iso:std:iso:20022:tech:xsd:camt.054.001.11"`},
		{"no namespace", `<Document>`, "", ErrUnknownMessage, "no namespace"},
		{"not Document", `<Doc xmlns="urn:iso:std:iso:20022:tech:xsd:camt.054.001.08">`, "", ErrUnknownMessage, "<Doc>"},
		{"DOCTYPE", "<!DOCTYPE Document [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>" + camt, "", ErrDoctype, ""},
		{"UTF-16", "\xff\xfe<\x00D\x00", "", ErrEncoding, "UTF-16"},
		{"UTF-16 declared", `<?xml version="1.0" encoding="UTF-16"?>` + camt, "", ErrEncoding, "UTF-16"},
		{"unknown encoding", `<?xml version="1.0" encoding="EBCDIC-US"?>` + camt, "", ErrEncoding, "EBCDIC-US"},
		{"empty", "", "", ErrTruncated, ""},
		{"not XML", "%PDF-1.4", "", ErrMalformed, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := Detect(strings.NewReader(tc.in))
			if tc.err != nil {
				if !errors.Is(err, tc.err) || !strings.Contains(err.Error(), tc.errText) {
					t.Fatalf("got %v; want %v containing %q", err, tc.err, tc.errText)
				}
				return
			}
			if err != nil || m.String() != tc.want {
				t.Fatalf("got %v, %v; want %s", m, err, tc.want)
			}
		})
	}
}

// TestDetectReadsOnlyTheStart: Detect stops after the root start tag,
// however long the document.
func TestDetectReadsOnlyTheStart(t *testing.T) {
	head := `<?xml version="1.0" encoding="UTF-8"?>` + "\n" + `<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.054.001.02">`
	cr := &countReader{r: strings.NewReader(head + strings.Repeat("<Ntry/>", 1<<20))}
	m, err := Detect(cr)
	if err != nil || m.String() != "camt.054.001.02" {
		t.Fatalf("got %v, %v", m, err)
	}
	if cr.n > len(head)+512 {
		t.Errorf("read %d bytes; want at most %d", cr.n, len(head)+512)
	}
}
