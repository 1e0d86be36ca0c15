package daemon

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"path"
	"path/filepath"

	"github.com/rs/zerolog"

	"refundd/daemon/erp"
	"refundd/daemon/failpoint"
	"refundd/daemon/obs"
	"refundd/daemon/render"
	"refundd/daemon/spool"
	"refundd/daemon/store"
)

// intakeGroup is the most new batch files recorded together. A burst of
// files dropped at once is claimed, checked and rendered file by file,
// and then recorded in groups: the pain.001 files of a group written into
// the outbox with one sync of the folder, the intents of all its batches
// recorded in one store transaction, and the files archived with one sync
// of each folder. The write-ahead order of each batch is that of a batch
// taken alone: its pain.001 durable in the outbox, then its intent
// committed, then its file archived, and only then its upload.
//
// The flushes to disk left per group, and why each stays:
//
//   - work/ synced after the claims: a claimed file must not vanish in a
//     power cut (its new name is not durable until then);
//   - the export folder synced after the claims: a claimed file must not
//     come back there after a power cut and be taken a second time;
//   - the outbox flushed (one syncfs, or an fsync per file and one of the
//     folder): a batch is never on record without its pain.001, which
//     also shows after a loss of the store that payments were made;
//   - the store's commit of the intents: the write-ahead record of every
//     upload, durable before the first SFTP call;
//   - the archive folder synced: an archived ERP file must not vanish;
//   - work/ synced after the archiving: an archived file must not come
//     back to work/ (it would be resumed, and found done, for nothing).
//
// A group is recorded once it has intakeGroup files or their pain.001
// files together reach intakeGroupBytes, whichever comes first: many
// small batches share the flushes, a few big ones are not all held in
// memory at once.
const (
	intakeGroup      = 128
	intakeGroupBytes = 16 << 20
)

// intake is a new batch file ready to be recorded in a group: valid, with
// every refund in its batch, of a batch number and MsgId that the store
// does not know.
type intake struct {
	cl      spool.Claimed
	plan    *render.Plan
	pain    []byte
	refunds []store.Refund
	log     zerolog.Logger
}

// intakes collects the files of an outbound round that are recorded as a
// group.
type intakes struct {
	items []intake
	bytes int // of the items' pain.001 files
	// hashes, numbers and msgIDs are those of items: a file that shares
	// one with a file of the group is taken alone once the group is
	// recorded, which refuses it as it should.
	hashes, numbers, msgIDs map[string]bool
	// recorded, when set, is called after batches were recorded.
	recorded func()
}

// wasRecorded calls g.recorded, if set.
func (g *intakes) wasRecorded() {
	if g.recorded != nil {
		g.recorded()
	}
}

func (g *intakes) reset() {
	g.items = g.items[:0]
	g.bytes = 0
	g.hashes, g.numbers, g.msgIDs = map[string]bool{}, map[string]bool{}, map[string]bool{}
}

func (g *intakes) clashes(it *intake) bool {
	return g.hashes[it.cl.SHA256] || g.numbers[it.plan.Batch] || g.msgIDs[it.plan.MsgID]
}

func (g *intakes) add(it intake) {
	g.items = append(g.items, it)
	g.bytes += len(it.pain)
	g.hashes[it.cl.SHA256], g.numbers[it.plan.Batch], g.msgIDs[it.plan.MsgID] = true, true, true
}

// takeOrGroup handles a claimed batch file: a new file that can be
// recorded in a group joins g (which is recorded once full), any other
// is taken alone (takeBatch).
func (d *Daemon) takeOrGroup(ctx context.Context, g *intakes, cl spool.Claimed, resumed bool) error {
	// A file taken alone comes after the files of the group, as it came
	// after them in the folder: the group is recorded first. So the
	// checks of a group's file against the store (a MsgId no batch has,
	// hence a file under its name in the outbox left by a run that
	// stopped before recording it) still hold when the group is recorded.
	alone := func() error {
		if err := d.recordIntakes(ctx, g); err != nil {
			return err
		}
		if err := d.takeBatch(ctx, cl, resumed); err != nil {
			return err
		}
		g.wasRecorded()
		return nil
	}
	if resumed {
		return alone()
	}
	it, err := d.prepareIntake(ctx, cl)
	if err != nil {
		return err
	}
	if it == nil || g.clashes(it) {
		// A file that shares its content, batch number or MsgId with a
		// file of the group is checked again once the group is recorded.
		return alone()
	}
	g.add(*it)
	if len(g.items) >= intakeGroup || g.bytes >= intakeGroupBytes {
		return d.recordIntakes(ctx, g)
	}
	return nil
}

// prepareIntake checks and renders a new batch file for a group; nil when
// the file is to be taken alone: its content was seen before, it is
// invalid, refunds are left out of it, or its batch number is known.
func (d *Daemon) prepareIntake(ctx context.Context, cl spool.Claimed) (*intake, error) {
	log := d.log.With().Str(obs.FieldComponent, "outbound").Str(obs.FieldFile, cl.Name).Logger()
	failpoint.Hit(failpoint.BeforeIntent)
	open := func() (io.ReadCloser, error) { return os.Open(cl.Path) }
	plan, err := render.Guarded(d.cfg, cl.Name, open, d.now(), d.guardOptions(ctx))
	if plan != nil {
		// The plan's spill is read by Render below only; what the group
		// keeps of the plan (its numbers, problems) stays readable.
		defer plan.Close()
	}
	if err != nil || !plan.Valid() || len(plan.Left) > 0 {
		return nil, nil // taken alone, which says why
	}
	if known, err := d.store.Known(ctx, cl.SHA256, plan.Batch, plan.MsgID); err != nil || known {
		return nil, nil
	}
	refunds, err := planRefunds(plan, open)
	if err != nil || len(refunds) == 0 {
		return nil, nil
	}
	var pain bytes.Buffer
	if err := plan.Render(&pain); err != nil {
		return nil, nil
	}
	log = log.With().Str(obs.FieldBatch, plan.Batch).Logger()
	for q := range erp.Summarise(plan.Problems) {
		if q.Warning {
			log.Warn().Str(obs.FieldStage, "validate").Str("problem", q.String()).Msg("batch warning")
		}
	}
	return &intake{cl: cl, plan: plan, pain: pain.Bytes(), refunds: refunds, log: log}, nil
}

// recordIntakes records the files of g, each with its batch, and empties
// g. When the group cannot be recorded as a whole (a refund that clashes
// with another file's, a store that fails), nothing of it is, and each
// file is taken alone, which records it or says why not. The error is one
// that stops refundd, or the disk-full error of a file.
func (d *Daemon) recordIntakes(ctx context.Context, g *intakes) error {
	items := g.items
	defer g.reset()
	if len(items) == 0 {
		return nil
	}
	alone := func(cause error) error {
		d.log.Warn().Err(cause).Str(obs.FieldComponent, "outbound").Int("files", len(items)).
			Msg("a group of batch files could not be recorded together; each is taken alone")
		var full error
		for _, it := range items {
			err := d.takeBatch(ctx, it.cl, true)
			switch {
			case err == nil:
			case fatal(err):
				return err
			case diskFull(err):
				full = err
			default:
				it.log.Error().Err(err).Msg("file not finished; tried again later")
			}
		}
		g.wasRecorded()
		return full
	}
	names := make([]string, len(items))
	data := make([][]byte, len(items))
	is := make([]store.Intent, len(items))
	for i, it := range items {
		names[i] = it.plan.MsgID + ".xml"
		data[i] = it.pain
		// No batch has this MsgId, so a file under its name is what a run
		// that stopped before recording the batch left; it was never
		// uploaded.
		if err := d.files.Remove(filepath.Join(d.outbox, names[i])); err != nil {
			return alone(err)
		}
		sum := sha256.Sum256(it.pain)
		is[i] = store.Intent{FileName: it.cl.Name, Refunds: it.refunds, Batch: store.Batch{
			MsgID: it.plan.MsgID, Number: it.plan.Batch, Attempt: it.plan.Attempt(), FileHash: it.cl.SHA256,
			Status: store.BatchSending, LocalPath: filepath.Join(d.outbox, names[i]), RemoteName: path.Join(d.uploadDir(), names[i]),
			PainHash: hex.EncodeToString(sum[:]), Pain: it.pain, MsgCreated: it.plan.Created, NbOfTxs: len(it.refunds),
		}}
	}
	// Each pain.001 is synced on its own (it must be whole on disk before
	// its intent is committed); the folder once, for every name.
	if err := d.files.WriteAll(d.outbox, names, data); err != nil {
		if fatal(err) {
			return err
		}
		return alone(err)
	}
	failpoint.Hit(failpoint.IntentRendered)
	// One commit records every file, batch and refund of the group: the
	// write-ahead intents of their uploads.
	if err := d.store.RecordIntents(ctx, is); err != nil {
		if fatal(err) {
			return err
		}
		return alone(err)
	}
	failpoint.Hit(failpoint.AfterIntent)
	cls := make([]spool.Claimed, len(items))
	for i, it := range items {
		cls[i] = it.cl
		it.log.Info().Str(obs.FieldMsgID, it.plan.MsgID).Str(obs.FieldStage, "record").Str(obs.FieldStatus, string(store.BatchSending)).
			Int("refunds", len(it.refunds)).Int("left_out", 0).Msg("batch recorded for upload")
	}
	failpoint.Hit(failpoint.BatchFileFinished)
	// The files are done in the store: one left in work/ by a failure
	// here is archived when it is resumed.
	archived, err := d.export.DoneAll(cls)
	g.wasRecorded()
	for i, p := range archived {
		if p != "" {
			items[i].log.Debug().Str(obs.FieldMsgID, items[i].plan.MsgID).Str("archived", p).Msg("batch file archived")
		}
	}
	return err
}
