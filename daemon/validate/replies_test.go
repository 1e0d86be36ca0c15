package validate

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"refundd/internal/testutil"

	"refundd/formats/pain002"
)

// TestValidateSamples: every shared pain.002, camt.054 and camt.053 sample
// is valid, and says what it is, except the one whose root has no
// namespace, which is invalid with a reason naming the file.
func TestValidateSamples(t *testing.T) {
	c := testutil.Config(t, "")
	for _, kind := range []string{"pain.002", "camt.054", "camt.053"} {
		for _, path := range testutil.Samples(t, kind) {
			t.Run(filepath.Base(path), func(t *testing.T) {
				r, err := File(c, path, now)
				if err != nil {
					t.Fatal(err)
				}
				if strings.Contains(path, "BROKEN-NAMESPACE") {
					if !r.Invalid || r.Summary != "unknown message type or version" || len(r.Problems) != 1 ||
						!strings.HasPrefix(r.Problems[0], path+": ") || !strings.Contains(r.Problems[0], `"Xmlns" is not a namespace declaration`) {
						t.Errorf("got %+v; want INVALID naming the file and the attribute", r)
					}
					return
				}
				if r.Invalid || !strings.HasPrefix(r.Kind, kind+".001.") || r.Summary == "" {
					t.Errorf("got %+v; want a valid %s", r, kind)
				}
			})
		}
	}
}

// TestValidateReplySummaries: what validate says of a reply.
func TestValidateReplySummaries(t *testing.T) {
	c := testutil.Config(t, "")
	msgID, sent := testutil.Sent(t, c)
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	var groupRJCT bytes.Buffer
	rj := testutil.ByRef(t, sent, "PP10043")
	if err := pain002.Encode(&groupRJCT, &pain002.Report{
		MsgID: "STS-2", CreationTime: time.Date(2026, 12, 4, 8, 0, 0, 0, time.UTC),
		Group: pain002.Group{OrgnlMsgID: msgID, OrgnlMsgNmID: "pain.001.001.03", Status: pain002.Rejected, Reasons: []pain002.Reason{{Code: "DU01"}}},
		Payments: []pain002.Payment{{OrgnlPmtInfID: rj.PmtInfID, Transactions: []pain002.Transaction{
			{OrgnlEndToEndID: rj.EndToEndID, Status: pain002.AcceptedCustomerProfile},
			{OrgnlEndToEndID: "OTHER", Status: pain002.Rejected, Reasons: []pain002.Reason{{Code: "AC01"}}},
		}}},
	}); err != nil {
		t.Fatal(err)
	}
	camt := testutil.Notification(t, sent, "DUPL")
	for _, tc := range []struct {
		name, path string
		kind       string
		invalid    bool
		summary    string
		problems   []string
	}{
		{"pain.002 of the end-to-end test", "../testdata/replies/pain002.xml", "pain.002.001.03", false,
			"original MsgId " + msgID + ", group ACCP, 1 payment block(s), 1 transaction(s): 1 RJCT (AC04)", nil},
		{"pain.002 group RJCT with a transaction ACCP", write("rjct.xml", groupRJCT.Bytes()), "pain.002.001.03", false,
			"original MsgId " + msgID + ", group RJCT (DU01), 1 payment block(s), 2 transaction(s): 1 ACCP, 1 RJCT (AC01)",
			[]string{"rjct.xml: OrgnlPmtInfAndSts[1]/TxInfAndSts[1]: warning: EndToEndId \"" + rj.EndToEndID + "\" ACCP under a rejected group"}},
		{"camt.054 of the end-to-end test", "../testdata/replies/camt054.xml", "camt.054.001.02", false,
			"7 entries (6 DBIT 100.00 EUR + 4256.00 NOK, 1 CRDT 1234.50 NOK), 7 transactions, 1 return (AC04), BOOK 6, PDNG 1", nil},
		{"camt.054 marked as a duplicate, with an amount refundd cannot book", write("dupl.xml", bytes.Replace(camt, []byte(">10.00<"), []byte(">10.001<"), 2)),
			"camt.054.001.02", false,
			"7 entries (6 DBIT 100.00 EUR + 4256.001 NOK, 1 CRDT 1234.50 NOK), 7 transactions, 1 return (AC04), BOOK 6, PDNG 1, CpyDplctInd DUPL",
			[]string{"dupl.xml:23: Ntfctn[Id='NTF-20261204-NOK']/Ntry[1]: warning: refundd cannot book this entry: Amt 10.001 NOK: more decimals than NOK has (2); not rounded"}},
		{"truncated camt.054", write("cut.xml", camt[:bytes.LastIndex(camt, []byte("<Ntry>"))]), "camt.054.001.02", true,
			"truncated document after 6 entries", []string{"cut.xml: camt054: read camt.054.001.02: line "}},
		{"hostile", write("doctype.xml", []byte(`<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">]><Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.054.001.02"/>`)),
			"XML", true, "DOCTYPE not allowed", []string{"doctype.xml: formats: detect: "}},
		{"unknown namespace", write("ns.xml", []byte(`<?xml version="1.0"?><Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.052.001.02"/>`)),
			"XML", true, "unknown message type or version", []string{`ns.xml: formats: detect: namespace "urn:iso:std:iso:20022:tech:xsd:camt.052.001.02": unknown message type or version`}},
		{"pain.001 as before", "../testdata/batch-ok.v03.golden.xml", "pain.001.001.03", false, "MsgId " + msgID + ", 5 transactions in 5 payment block(s), control sum 3943.50", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := File(c, tc.path, now)
			if err != nil {
				t.Fatal(err)
			}
			if r.Kind != tc.kind || r.Invalid != tc.invalid || !strings.Contains(r.Summary, tc.summary) {
				t.Errorf("got %s, invalid %v, %q\nwant %s, invalid %v, %q", r.Kind, r.Invalid, r.Summary, tc.kind, tc.invalid, tc.summary)
			}
			if len(r.Problems) != len(tc.problems) {
				t.Fatalf("problems %q; want %d", r.Problems, len(tc.problems))
			}
			for i, p := range tc.problems {
				if !strings.HasPrefix(r.Problems[i], filepath.Join(filepath.Dir(tc.path), p)) {
					t.Errorf("problem %q; want it to start with %q", r.Problems[i], p)
				}
			}
		})
	}
}
