package daemon

import (
	"context"
	"fmt"

	"github.com/rs/zerolog"

	"refundd/daemon/erp"
	"refundd/daemon/obs"
	"refundd/daemon/refund"
	"refundd/daemon/render"
	"refundd/daemon/spool"
	"refundd/daemon/store"
)

// notesOf returns the notes the store keeps of the refunds a plan left out
// of its batch or flagged.
func notesOf(p *render.Plan) []store.Note {
	ns := make([]store.Note, 0, len(p.Left))
	for _, l := range p.Left {
		ns = append(ns, store.Note{Position: l.Pos.String(), DocType: l.DocType, RefNbr: l.RefNbr,
			CustomerID: l.CustomerID, Kind: store.NoteKind(l.Kind), Reason: l.Reason})
	}
	return ns
}

// guardOptions returns the plan options of the daemon: the account guard
// reads the customers' last booked accounts from the store.
func (d *Daemon) guardOptions(ctx context.Context) render.Options {
	type last struct {
		account string
		ok      bool
	}
	seen := map[string]last{} // a customer with many refunds in the file is looked up once
	return render.Options{LastAccount: func(customerID string) (string, bool, error) {
		if l, ok := seen[customerID]; ok {
			return l.account, l.ok, nil
		}
		a, ok, err := d.store.LastBookedAccount(ctx, customerID)
		if err == nil {
			seen[customerID] = last{a, ok}
		}
		return a, ok, err
	}}
}

// reportLeftOut tells the ERP and the operator of the refunds of batch b
// that were left out of it or flagged, from the notes in the store (so a
// run that stopped after recording the batch tells the same again, and
// the files, being the same, are not written twice):
//
//   - the ERP's status file: an invalid or held refund with its reason;
//   - the ERP's exceptions file: every note, with its place in the file;
//   - a report in failed/ (<file>.<MsgId>.err) of the refunds left out;
//   - a warning in the log and a count in the metrics for each.
func (d *Daemon) reportLeftOut(ctx context.Context, cl spool.Claimed, b store.Batch, log zerolog.Logger) error {
	ns, err := d.store.Notes(ctx, b.MsgID)
	if err != nil || len(ns) == 0 {
		return err
	}
	var status []erp.StatusRow
	var excs []erp.ExceptionRow
	var report []string
	for _, n := range ns {
		e2e := ""
		if n.DocType != "" && n.RefNbr != "" {
			e2e = refund.EndToEndID(n.DocType, n.RefNbr, 0)
		}
		switch n.Kind {
		case store.NoteInvalid, store.NoteHeld:
			st := refund.StatusInvalid
			what := "left out of batch " + b.Number + " (MsgId " + b.MsgID + ")"
			if n.Kind == store.NoteHeld {
				st = refund.StatusHeld
				what = "held back from batch " + b.Number + " (MsgId " + b.MsgID + "); release it with: refundd release " + n.RefNbr
			}
			status = append(status, erp.StatusRow{RefNbr: n.RefNbr, Batch: b.Number, MsgID: b.MsgID, Status: st,
				ReasonCode: string(n.Kind), ReasonText: n.Reason, At: n.Created})
			report = append(report, n.Position+": "+n.RefNbr+": "+what+": "+n.Reason)
		}
		excs = append(excs, erp.ExceptionRow{File: cl.Name, Position: n.Position, EndToEndID: e2e, RefNbr: n.RefNbr,
			Reason: string(n.Kind), Detail: n.Reason})
	}
	statusFile, err := d.out.WriteStatusOnce(status)
	if err != nil {
		return err
	}
	excFile, err := d.out.WriteExceptions(excs)
	if err != nil {
		return err
	}
	var reportFile string
	if len(report) > 0 {
		head := fmt.Sprintf("batch %s (MsgId %s) was sent without %d refund(s) of this file:", b.Number, b.MsgID, len(report))
		if b.NbOfTxs == 0 {
			head = fmt.Sprintf("batch %s (MsgId %s): every refund of this file is held back:", b.Number, b.MsgID)
		}
		// Named by the file and the batch, so that the report of an
		// earlier file of the same name is kept, and a run that resumes
		// writes the same report again.
		if reportFile, err = d.export.Report(cl.Name+"."+b.MsgID, append([]string{head}, report...)); err != nil {
			return err
		}
	}
	// The reasons are in the files: they may quote account numbers,
	// which the log never shows in full.
	for _, n := range ns {
		d.metrics.LeftOut(string(n.Kind))
		log.Warn().Str(obs.FieldStage, "validate").Str(obs.FieldMsgID, b.MsgID).Str("refnbr", n.RefNbr).
			Str("position", n.Position).Str("kind", string(n.Kind)).Msg("refund left out of the batch or flagged")
	}
	log.Info().Str(obs.FieldMsgID, b.MsgID).Int("notes", len(ns)).Str("status_file", statusFile).
		Str("exceptions_file", excFile).Str("report", reportFile).Msg("refunds left out or flagged reported")
	return nil
}
