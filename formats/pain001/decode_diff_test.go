package pain001

import (
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"refundd/formats/xsdtest"
)

// trace records every handler call of a decoder, with the line and the
// values handed over, as text that two decoders' runs can be compared by:
// every field in Go syntax (%#v, which no type here overrides, unlike %v
// and the String method of Decimal, which an Amount would print without
// its currency), the times as their String.
type trace []string

func (tr *trace) handler() Handler {
	return Handler{
		Header: func(line int, h *GroupHeader) error {
			x := *h
			x.CreationTime = time.Time{}
			*tr = append(*tr, fmt.Sprintf("GrpHdr line %d: %#v at %s", line, x, h.CreationTime))
			return nil
		},
		PaymentInfo: func(line int, p *PaymentInfo) error {
			x := *p
			x.ExecutionDate = time.Time{}
			*tr = append(*tr, fmt.Sprintf("PmtInf line %d: %#v on %s", line, x, p.ExecutionDate))
			return nil
		},
		Transaction: func(line int, t *Transaction) error {
			*tr = append(*tr, fmt.Sprintf("CdtTrfTxInf line %d: %#v", line, *t))
			return nil
		},
	}
}

// differ decodes data with Decode and with the encoding/xml reader it
// replaced. It fails t when Decode accepts what the old reader refused, or
// when both accept and their versions or handler calls differ. It returns
// Decode's error and the old reader's.
func differ(t *testing.T, name string, data []byte) (errNew, errOld error) {
	t.Helper()
	var trNew, trOld trace
	vNew, errNew := Decode(bytes.NewReader(data), trNew.handler())
	vOld, errOld := decodeStd(bytes.NewReader(data), trOld.handler())
	switch {
	case errNew == nil && errOld != nil:
		t.Fatalf("%s: Decode accepts what the encoding/xml reader refused: %v", name, errOld)
	case errNew != nil || errOld != nil:
		return errNew, errOld
	case vNew != vOld:
		t.Fatalf("%s: version %s; the encoding/xml reader read %s", name, vNew, vOld)
	case len(trNew) != len(trOld):
		t.Fatalf("%s: %d handler calls; the encoding/xml reader made %d", name, len(trNew), len(trOld))
	}
	for i := range trNew {
		if trNew[i] != trOld[i] {
			t.Fatalf("%s: call %d:\n got %s\nwant %s", name, i, trNew[i], trOld[i])
		}
	}
	return nil, nil
}

// pain001Files returns every XML file under dir that names a pain.001
// namespace.
func pain001Files(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(path string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if e.IsDir() && strings.HasPrefix(e.Name(), ".") && path != dir {
			return filepath.SkipDir
		}
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".xml") {
			return nil
		}
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		head := make([]byte, 4096)
		n, _ := io.ReadFull(f, head)
		if bytes.Contains(head[:n], []byte("pain.001.001.")) && bytes.Contains(head[:n], []byte("<Document")) {
			out = append(out, path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestDecodeSameAsEncodingXML: on every pain.001 of the repository (the
// golden files the encoder's and the daemon's tests write) and on the
// public samples beside the checkout, Decode reads exactly what the
// encoding/xml reader read, and refuses what it refused.
func TestDecodeSameAsEncodingXML(t *testing.T) {
	files := pain001Files(t, filepath.Join("..", ".."))
	samples := xsdtest.Shared(t, "iso20022", "samples", "pain.001")
	files = append(files, pain001Files(t, samples)...)
	accepted := map[Version]int{}
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		errNew, errOld := differ(t, name, data)
		switch {
		case errNew == nil:
			v, _ := Decode(bytes.NewReader(data), Handler{})
			accepted[v]++
			t.Logf("%s: %s, read the same", name, v)
		case errOld != nil:
			t.Logf("%s: both refuse it: %v; the encoding/xml reader: %v", name, errNew, errOld)
		default:
			t.Errorf("%s: Decode refuses what the encoding/xml reader accepted: %v", name, errNew)
		}
	}
	// Documents of 1 000 refunds in both versions, as the encoder writes
	// them.
	for _, v := range Versions() {
		hdr, p, txs := benchDoc(1000)
		var buf bytes.Buffer
		e := NewEncoder(&buf, v)
		must(t, e.Header(hdr))
		must(t, e.PaymentInfo(p))
		for i := range txs {
			must(t, e.Transaction(&txs[i]))
		}
		must(t, e.Close())
		if errNew, errOld := differ(t, "encoded "+string(v), buf.Bytes()); errNew != nil || errOld != nil {
			t.Errorf("encoded %s: refused: %v; the encoding/xml reader: %v", v, errNew, errOld)
		}
		accepted[v]++
	}
	// The encoder's and the daemon's golden files of both versions, and
	// the public .03 samples.
	if accepted[V03] < 5 || accepted[V09] < 3 {
		t.Errorf("read %v documents of each version; want at least 5 of .03 and 3 of .09", accepted)
	}
}
