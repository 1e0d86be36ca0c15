package daemon

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"refundd/daemon/config"
	"refundd/daemon/obs"
	"refundd/daemon/store"
)

// purgeEvery is how often the leader purges what the retention lets go.
const purgeEvery = 24 * time.Hour

// PurgeReport is what a retention purge removed, or would remove.
type PurgeReport struct {
	// Years is retention.keep in years; 0 when it is off, and then
	// nothing was looked at.
	Years int
	// Cutoff is the retention's cut-off: the batches settled before it
	// have expired (see store.RetentionCutoff).
	Cutoff time.Time
	// DryRun: nothing was changed; the counts are what a purge would do.
	DryRun bool
	// PurgeCount counts the batches, refunds and notes purged in the
	// store, and the files removed with their size.
	store.PurgeCount
	// Kept counts the archived files of months before the cut-off that
	// stay: a batch file whose batch has not expired (or is not known),
	// or a reply that may concern a batch that is kept.
	Kept int
	// OldestKept is the MsgId of the batch created first among those
	// kept, "" when none is: replies archived since it was created stay.
	OldestKept string
}

// Purge purges the personal data whose retention (retention.keep) has
// ended at now: the store's part of every expired batch (store.Purge
// lists the columns), and these files, which hold the same data:
//
//   - an ERP batch file in archive/export/YYYY/MM/ when its whole month
//     is before the cut-off and its content hash is that of an expired
//     batch's file (a file the store does not know stays);
//   - a bank reply in archive/inbox/YYYY/MM/ when its whole month is
//     before the cut-off and no batch that is kept was created before
//     the month's end (a day's margin for the clock that named the
//     folder): a reply concerns batches older than itself;
//   - the outbox copy of an expired batch's pain.001, <MsgId>.xml.
//
// Emptied month and year folders are removed. The files go first, then
// the store is purged and the purge recorded with the counts of both, in
// one transaction; a purge cut short is finished by the next one. A
// batch that is not settled for good, in doubt or with an open note is
// never touched, nor its files. With dryRun nothing is changed and the
// report says what would go. A file that cannot be removed is reported
// in the error, and the rest goes on.
func Purge(ctx context.Context, cfg *config.Config, s *store.Store, now time.Time, dryRun bool) (PurgeReport, error) {
	years, on := cfg.KeepYears()
	rep := PurgeReport{Years: years, DryRun: dryRun}
	if !on {
		return rep, nil
	}
	loc := cfg.Location()
	rep.Cutoff = store.RetentionCutoff(now, years, loc)
	ret, err := s.Retention(ctx, rep.Cutoff)
	if err != nil {
		return rep, fmt.Errorf("purge: %w", err)
	}
	rep.OldestKept = ret.OldestKept
	var plan store.PurgeCount
	expiredFile := map[string]bool{} // content hashes of the ERP files of expired batches
	for _, e := range ret.Expired {
		if e.FileHash != "" {
			expiredFile[e.FileHash] = true
		}
		if !e.Purged {
			plan.Batches++
			plan.Refunds += e.Refunds
			plan.Notes += e.Notes
		}
	}

	var errs []error
	remove := func(path string, size int64) {
		if !dryRun {
			if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
				errs = append(errs, err)
				return
			}
		}
		rep.Files++
		rep.Bytes += size
	}
	archive := filepath.Join(cfg.SpoolDir(), "archive")
	for _, kind := range []string{"export", "inbox"} {
		err := oldMonths(filepath.Join(archive, kind), rep.Cutoff, loc, !dryRun, func(dir string, end time.Time) error {
			des, err := os.ReadDir(dir)
			if err != nil {
				return err
			}
			for _, de := range des {
				if !de.Type().IsRegular() {
					continue
				}
				p := filepath.Join(dir, de.Name())
				fi, err := de.Info()
				if err != nil {
					errs = append(errs, err)
					continue
				}
				gone := false
				if kind == "export" && len(expiredFile) > 0 { // else no ERP file can go: none is read
					h, err := fileHash(p)
					if err != nil {
						errs = append(errs, err)
						continue
					}
					gone = expiredFile[h]
				} else if kind == "inbox" {
					gone = ret.OldestKept == "" || !end.AddDate(0, 0, 1).After(ret.Kept)
				}
				if gone {
					remove(p, fi.Size())
				} else {
					rep.Kept++
				}
			}
			return nil
		})
		if err != nil {
			errs = append(errs, err)
		}
	}
	outbox := Outbox(cfg)
	for _, e := range ret.Expired {
		p := filepath.Join(outbox, e.MsgID+".xml")
		if fi, err := os.Lstat(p); err == nil && fi.Mode().IsRegular() {
			remove(p, fi.Size())
		}
	}

	if dryRun {
		rep.Batches, rep.Refunds, rep.Notes = plan.Batches, plan.Refunds, plan.Notes
	} else if n, err := s.Purge(ctx, rep.Cutoff, rep.Files, rep.Bytes); err != nil {
		errs = append(errs, err)
	} else {
		rep.PurgeCount = n
	}
	if err := errors.Join(errs...); err != nil {
		return rep, fmt.Errorf("purge: %w", err)
	}
	return rep, nil
}

// oldMonths calls fn for every month folder root/YYYY/MM whose month
// (in loc) ended by cutoff, with the month's end; with tidy it then
// removes the month folder, and the year folder, when they are empty.
// A missing root has no months.
func oldMonths(root string, cutoff time.Time, loc *time.Location, tidy bool, fn func(dir string, end time.Time) error) error {
	years, err := os.ReadDir(root)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	var errs []error
	for _, yd := range years {
		y, err := strconv.Atoi(yd.Name())
		if !yd.IsDir() || err != nil || len(yd.Name()) != 4 {
			continue
		}
		ydir := filepath.Join(root, yd.Name())
		months, err := os.ReadDir(ydir)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, md := range months {
			m, err := strconv.Atoi(md.Name())
			if !md.IsDir() || err != nil || len(md.Name()) != 2 || m < 1 || m > 12 {
				continue
			}
			end := time.Date(y, time.Month(m)+1, 1, 0, 0, 0, 0, loc)
			if end.After(cutoff) {
				continue
			}
			dir := filepath.Join(ydir, md.Name())
			if err := fn(dir, end); err != nil {
				errs = append(errs, err)
				continue
			}
			if tidy {
				_ = os.Remove(dir) // fails, as it should, while files are left in it
			}
		}
		if tidy {
			_ = os.Remove(ydir) // likewise
		}
	}
	return errors.Join(errs...)
}

// fileHash returns the SHA-256 of the file at path, as the store records
// a file's content hash.
func fileHash(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("read %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// purgeDaily runs the retention purge when the last one is purgeEvery
// old (the first at the first step), and logs what it did.
func (d *Daemon) purgeDaily(ctx context.Context) {
	now := d.now()
	if !d.lastPurge.IsZero() && now.Sub(d.lastPurge) < purgeEvery {
		return
	}
	d.lastPurge = now
	rep, err := Purge(ctx, d.cfg, d.store, now, false)
	log := d.log.With().Str(obs.FieldComponent, "retention").Logger()
	if err != nil {
		log.Warn().Err(err).Msg("retention purge failed; it is tried again in a day")
		return
	}
	if rep.Years == 0 {
		return
	}
	ev := log.Debug()
	if rep.Batches+rep.Files > 0 {
		ev = log.Info()
	}
	ev.Time("cutoff", rep.Cutoff).Int("batches", rep.Batches).Int("refunds", rep.Refunds).Int("notes", rep.Notes).
		Int("files", rep.Files).Int64("bytes", rep.Bytes).Int("kept", rep.Kept).Str("oldest_kept", rep.OldestKept).
		Msg("retention purge")
}
