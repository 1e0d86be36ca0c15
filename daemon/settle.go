package daemon

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/rs/zerolog"

	"refundd/daemon/obs"
	"refundd/daemon/store"
	"refundd/formats"
	"refundd/formats/camt054"
)

// settleByBookings settles the batches whose upload is not known to have
// reached the bank (in doubt, or sending with an interrupted attempt)
// when the camt.054 or camt.053 at path books or mentions one of their
// refunds (EndToEndId or InstrId) or the batch itself (Btch/MsgId): the
// bank has the file, so the batch is sent. It runs before the reply is
// applied, so that the booking finds its refund sent and is posted, not
// turned into an exception. A file that cannot be read is left to
// ProcessReply, which refuses it.
func (d *Daemon) settleByBookings(ctx context.Context, path string, log zerolog.Logger) error {
	waiting, err := d.store.BatchesByStatus(ctx, store.BatchInDoubt, store.BatchSending)
	if err != nil || len(waiting) == 0 {
		return err
	}
	refs, err := bookedRefs(path)
	if err != nil {
		return nil // ProcessReply refuses the file and says why
	}
	for _, b := range waiting {
		why := ""
		if refs[b.MsgID] {
			why = "MsgId " + b.MsgID
		} else {
			rs, err := d.store.Refunds(ctx, b.MsgID)
			if err != nil {
				return err
			}
			for _, r := range rs {
				if refs[r.EndToEndID] || (r.InstrID != "" && refs[r.InstrID]) {
					why = "EndToEndId " + r.EndToEndID
					break
				}
			}
		}
		if why == "" {
			continue
		}
		l := log.With().Str(obs.FieldBatch, b.Number).Str(obs.FieldMsgID, b.MsgID).Str(obs.FieldStage, "settle").Logger()
		d.setBatch(ctx, b, store.BatchSent, fmt.Sprintf("%s names %s of the batch: the bank has the file", filepath.Base(path), why), l)
	}
	return nil
}

// bookedRefs returns the references (message ids, EndToEndIds and
// InstrIds) that the entries of the camt file at path name. The error is
// that of a file that is not a camt.054 or camt.053 or cannot be read.
func bookedRefs(path string) (map[string]bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	m, err := formats.Detect(f)
	if err != nil {
		return nil, err
	}
	if m.Type != formats.Camt054 && m.Type != formats.Camt053 {
		return nil, errors.New("not a camt")
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	rd, err := camt054.NewReader(f, formats.Options{})
	if err != nil {
		return nil, err
	}
	refs := map[string]bool{}
	add := func(s string) {
		if s != "" {
			refs[s] = true
		}
	}
	for {
		e, err := rd.Next()
		if err == io.EOF {
			return refs, nil
		}
		if err != nil {
			return nil, err
		}
		for _, dt := range e.Details {
			if dt.Batch != nil {
				add(dt.Batch.MsgID)
			}
			for _, t := range dt.Transactions {
				add(t.Refs.MsgID)
				add(t.Refs.EndToEndID)
				add(t.Refs.InstrID)
			}
		}
	}
}
