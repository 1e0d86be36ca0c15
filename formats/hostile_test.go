package formats_test

import (
	"errors"
	"io"
	"strings"
	"testing"

	"refundd/formats"
	"refundd/formats/camt054"
	"refundd/formats/pain002"
)

// hugeDoc is a 2 GiB document made as it is read: a valid start, then
// comments without end, each within the limits of a single token, so that
// only the size limit can stop it. It never exists on disk or in memory.
type hugeDoc struct {
	head string
	n    int64 // bytes given so far
	size int64
}

func (h *hugeDoc) Read(p []byte) (int, error) {
	if h.n >= h.size {
		return 0, io.EOF
	}
	const comment = "<!-- xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx -->\n"
	k := 0
	for k < len(p) && h.n < h.size {
		var c byte
		if h.n < int64(len(h.head)) {
			c = h.head[h.n]
		} else {
			c = comment[(h.n-int64(len(h.head)))%int64(len(comment))]
		}
		p[k] = c
		k++
		h.n++
	}
	return k, nil
}

// TestHugeDocumentStopsEarly feeds 2 GiB documents to the readers of
// replies: each stops with ErrTooLarge after reading little more than the
// limit (64 MiB by default).
func TestHugeDocumentStopsEarly(t *testing.T) {
	if testing.Short() {
		t.Skip("reads 64 MiB per reader")
	}
	const twoGiB = 2 << 30
	limit := int64(64 << 20)
	for name, tc := range map[string]struct {
		head string
		read func(io.Reader) error
	}{
		"pain.002": {`<?xml version="1.0" encoding="UTF-8"?><Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.002.001.03"><CstmrPmtStsRpt>`,
			func(r io.Reader) error { _, err := pain002.Decode(r, formats.Options{}); return err }},
		"camt.054": {`<?xml version="1.0" encoding="UTF-8"?><Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.054.001.02"><BkToCstmrDbtCdtNtfctn>`,
			func(r io.Reader) error {
				rd, err := camt054.NewReader(r, camt054.Options{})
				if err != nil {
					return err
				}
				for {
					if _, err := rd.Next(); err != nil {
						return err
					}
				}
			}},
	} {
		t.Run(name, func(t *testing.T) {
			src := &hugeDoc{head: tc.head, size: twoGiB}
			err := tc.read(src)
			if !errors.Is(err, formats.ErrTooLarge) {
				t.Fatalf("got %v; want ErrTooLarge", err)
			}
			if !strings.Contains(err.Error(), "larger than the limit") {
				t.Errorf("error %q does not name the limit", err)
			}
			// The readers buffer ahead; allow a little over the limit.
			if src.n > limit+1<<20 {
				t.Errorf("read %d bytes of 2 GiB; want at most the limit (%d) and a buffer", src.n, limit)
			}
		})
	}
}
