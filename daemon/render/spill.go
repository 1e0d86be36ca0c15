package render

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"

	"refundd/formats/pain001"
)

// spill holds the transactions of a plan, as planning found them, in a
// temporary file, so that rendering reads neither the batch file again
// nor holds the transactions in memory. The file has no name: it is
// removed as soon as it is made, and its space is freed when it is
// closed, or when the process ends, however it ends.
//
// A record is the number of its payment block, the length of the rest,
// and the transaction's fields; the records of one block are found
// between the first and the end of the last of them (Group.from, to),
// between records of other blocks when the batch file mixes them.
type spill struct {
	f   *os.File
	w   *bufio.Writer
	n   int64  // bytes written
	buf []byte // the fields of a record being encoded, or one being read
	rec []byte // a record being encoded
}

// newSpill makes the spill file in the system's temporary folder.
func newSpill() (*spill, error) {
	f, err := os.CreateTemp("", "refundd-render-*.tmp")
	if err != nil {
		return nil, fmt.Errorf("spill file: %w", err)
	}
	if err := os.Remove(f.Name()); err != nil {
		f.Close()
		return nil, fmt.Errorf("spill file: %w", err)
	}
	return &spill{f: f, w: bufio.NewWriterSize(f, 64<<10)}, nil
}

// spillStrings is the number of text fields of a record.
const spillStrings = 14

// add writes tx, of the payment block numbered group, and returns where
// its record starts and ends.
func (s *spill) add(group int, tx *pain001.Transaction) (from, to int64, err error) {
	b := s.buf[:0]
	b = binary.AppendVarint(b, tx.Amount.Units)
	b = binary.AppendUvarint(b, uint64(tx.Amount.Scale))
	for _, v := range [spillStrings]string{
		tx.InstrID, tx.EndToEndID, tx.Amount.Currency, tx.CreditorAgentBIC,
		tx.Creditor.Name, tx.Creditor.OrgID, tx.Creditor.Scheme, tx.Creditor.Country,
		tx.CreditorAccount.IBAN, tx.CreditorAccount.Other, tx.CreditorAccount.Scheme, tx.CreditorAccount.Currency,
		tx.Purpose, tx.Remittance,
	} {
		b = binary.AppendUvarint(b, uint64(len(v)))
		b = append(b, v...)
	}
	s.buf = b
	r := binary.AppendUvarint(s.rec[:0], uint64(group))
	r = binary.AppendUvarint(r, uint64(len(b)))
	r = append(r, b...)
	s.rec = r
	from = s.n
	if _, err := s.w.Write(r); err != nil {
		return 0, 0, fmt.Errorf("spill file: %w", err)
	}
	s.n += int64(len(r))
	return from, s.n, nil
}

// done flushes what add wrote.
func (s *spill) done() error {
	if err := s.w.Flush(); err != nil {
		return fmt.Errorf("spill file: %w", err)
	}
	return nil
}

// close frees the file.
func (s *spill) close() error {
	return s.f.Close()
}

// errSpill marks a spill file that does not hold what was written to it.
var errSpill = errors.New("spill file damaged")

// each calls fn with every transaction of the payment block numbered
// group, in the order they were added, reading the records from from to
// to. tx is reused between the calls.
func (s *spill) each(r *bufio.Reader, group int, from, to int64, fn func(tx *pain001.Transaction) error) error {
	r.Reset(io.NewSectionReader(s.f, from, to-from))
	var tx pain001.Transaction
	for {
		g, err := binary.ReadUvarint(r)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("spill file: %w", err)
		}
		n, err := binary.ReadUvarint(r)
		if err != nil || n > uint64(to-from) {
			return fmt.Errorf("spill file: %w", errors.Join(errSpill, err))
		}
		if int(g) != group {
			if _, err := r.Discard(int(n)); err != nil {
				return fmt.Errorf("spill file: %w", err)
			}
			continue
		}
		if cap(s.buf) < int(n) {
			s.buf = make([]byte, n)
		}
		b := s.buf[:n]
		if _, err := io.ReadFull(r, b); err != nil {
			return fmt.Errorf("spill file: %w", err)
		}
		if err := decodeTx(string(b), &tx); err != nil {
			return err
		}
		if err := fn(&tx); err != nil {
			return err
		}
	}
}

// decodeTx reads a record written by add into tx; its strings share rec.
func decodeTx(rec string, tx *pain001.Transaction) error {
	units, k := varint(rec)
	if k <= 0 {
		return errSpill
	}
	rec = rec[k:]
	scale, k := uvarint(rec)
	if k <= 0 {
		return errSpill
	}
	rec = rec[k:]
	var vs [spillStrings]string
	for i := range vs {
		n, k := uvarint(rec)
		if k <= 0 || uint64(len(rec)-k) < n {
			return errSpill
		}
		vs[i], rec = rec[k:k+int(n)], rec[k+int(n):]
	}
	if rec != "" {
		return errSpill
	}
	*tx = pain001.Transaction{
		InstrID: vs[0], EndToEndID: vs[1],
		Amount:           pain001.Amount{Decimal: pain001.Decimal{Units: units, Scale: int(scale)}, Currency: vs[2]},
		CreditorAgentBIC: vs[3],
		Creditor:         pain001.Party{Name: vs[4], OrgID: vs[5], Scheme: vs[6], Country: vs[7]},
		CreditorAccount:  pain001.Account{IBAN: vs[8], Other: vs[9], Scheme: vs[10], Currency: vs[11]},
		Purpose:          vs[12], Remittance: vs[13],
	}
	return nil
}

// uvarint is binary.Uvarint of a string.
func uvarint(s string) (uint64, int) {
	var x uint64
	var sh uint
	for i := 0; i < len(s) && i < binary.MaxVarintLen64; i++ {
		c := s[i]
		if c < 0x80 {
			return x | uint64(c)<<sh, i + 1
		}
		x |= uint64(c&0x7f) << sh
		sh += 7
	}
	return 0, 0
}

// varint is binary.Varint of a string.
func varint(s string) (int64, int) {
	ux, n := uvarint(s)
	x := int64(ux >> 1)
	if ux&1 != 0 {
		x = ^x
	}
	return x, n
}
