package daemon

import (
	"context"
	"errors"
	"io/fs"
	"time"

	"github.com/rs/zerolog"

	"refundd/daemon/obs"
	"refundd/daemon/spool"
	"refundd/daemon/store"
)

// takeFiles resumes the files pending in f's work folder, then claims and
// handles the files that are ready in f. An error of one file is logged
// and the next one is taken, unless the error is fatal.
func (d *Daemon) takeFiles(ctx context.Context, f *spool.Folder, component string, handle func(spool.Claimed, bool) error) error {
	log := d.log.With().Str(obs.FieldComponent, component).Logger()
	// do handles one file; stop is set when the disk is full, and no
	// further file is taken in this round.
	stop := false
	do := func(cl spool.Claimed, resumed bool) error {
		d.beat()
		if err := d.leading(); err != nil {
			return err
		}
		err := handle(cl, resumed)
		switch {
		case err == nil:
			d.clearFull(log)
		case fatal(err):
			return err
		case diskFull(err):
			d.setFull(log, cl.Name, err)
			stop = true
		default:
			log.Error().Err(err).Str(obs.FieldFile, cl.Name).Msg("file not finished; tried again later")
		}
		return nil
	}
	pending, err := f.Pending()
	if err != nil {
		if fatal(err) {
			return err
		}
		log.Error().Err(err).Msg("listing pending files failed")
	}
	for _, cl := range pending {
		if ctx.Err() != nil || stop {
			return nil
		}
		if err := do(cl, true); err != nil {
			return err
		}
	}
	if d.full != nil {
		return nil // no new work while the disk is full
	}
	cands, err := f.Scan(time.Now())
	if err != nil {
		log.Error().Err(err).Str(obs.FieldFile, f.Dir()).Msg("scan incomplete")
	}
	for len(cands) > 0 {
		if ctx.Err() != nil || stop {
			return nil
		}
		if err := d.leading(); err != nil {
			return err
		}
		// The files are claimed in groups, with one sync of each folder
		// for the group; each is then handled on its own. Files of the
		// group left when the round ends are resumed from work/.
		group := cands[:min(len(cands), claimGroup)]
		cands = cands[len(group):]
		cls, errs := f.ClaimAll(group)
		for i, c := range group {
			if ctx.Err() != nil || stop {
				return nil
			}
			if err := d.takeClaimed(c, cls[i], errs[i], do, log); err != nil {
				if errors.Is(err, errStopRound) {
					return nil
				}
				return err
			}
		}
	}
	return nil
}

// claimGroup is the most files claimed together (ClaimAll).
const claimGroup = 128

// errStopRound ends a round of takeFiles without an error.
var errStopRound = errors.New("no further file this round")

// takeClaimed handles the outcome of the claim of candidate c, cl or err:
// a claimed file goes to do.
func (d *Daemon) takeClaimed(c spool.Candidate, cl spool.Claimed, err error, do func(spool.Claimed, bool) error, log zerolog.Logger) error {
	if errors.Is(err, spool.ErrNameInWork) {
		log.Warn().Err(err).Str(obs.FieldFile, c.Name).Msg("file not taken: an earlier file of that name has not finished (see its errors); it waits")
		return nil
	}
	if errors.Is(err, spool.ErrSkipped) {
		log.Debug().Err(err).Str(obs.FieldFile, c.Name).Msg("file not taken yet")
		return nil
	}
	if err != nil {
		if fatal(err) {
			return err
		}
		if diskFull(err) {
			d.setFull(log, c.Name, err)
			return errStopRound
		}
		log.Error().Err(err).Str(obs.FieldFile, c.Name).Str(obs.FieldStage, "claim").Msg("claim failed")
		return nil
	}
	return do(cl, false)
}

// knownFile records the claimed file in the store and decides what to do
// with a file seen before: it returns proceed when the file is new, or an
// earlier claim of it did not finish; otherwise it has moved the file on.
func (d *Daemon) knownFile(ctx context.Context, f *spool.Folder, cl spool.Claimed, kind store.FileKind, resumed bool, log zerolog.Logger) (proceed bool, err error) {
	prev, err := d.store.RecordFile(ctx, cl.SHA256, cl.Name, kind)
	if err == nil {
		return true, nil
	}
	if !errors.Is(err, store.ErrDuplicate) || prev == nil {
		return false, err
	}
	switch {
	case prev.Outcome == store.FileProcessing:
		// The content's processing did not finish. When it was claimed
		// under another name and that file is still in work/, cl is a copy,
		// refused below, so the content is handled once, from that file;
		// otherwise cl is that file, resumed.
		copyOf, err := copyInWork(f, prev.Name, cl)
		if err != nil {
			return false, err
		}
		if !copyOf {
			log.Info().Str(obs.FieldStage, "claim").Msg("resuming a file whose processing was interrupted")
			return true, nil
		}
	case resumed && prev.Outcome == store.FileDone && prev.Name == cl.Name:
		// Finished by a run that stopped before archiving it.
		_, err := f.Done(cl, "")
		return false, err
	case resumed && prev.Outcome == store.FileFailed && prev.Name == cl.Name:
		_, err := f.Fail(cl, []string{prev.Reason})
		return false, err
	}
	log.Warn().Str(obs.FieldStage, "claim").Str("duplicate_of", prev.Name).Str("sha256", cl.SHA256).
		Time("first_seen", prev.FirstSeen).Msg("duplicate file refused: the same content was taken before; nothing done")
	if kind == store.FileReply {
		d.metrics.Reply("", obs.ReplyDuplicate)
	}
	_, err = f.Duplicate(cl, prev.Name, prev.FirstSeen)
	return false, err
}

// copyInWork reports whether cl is a copy of the file called name that
// is in f's work folder with the same content.
func copyInWork(f *spool.Folder, name string, cl spool.Claimed) (bool, error) {
	if name == cl.Name {
		return false, nil
	}
	other, err := f.InWork(name)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return false, nil
	case err != nil:
		return false, err
	}
	return other.SHA256 == cl.SHA256, nil
}
