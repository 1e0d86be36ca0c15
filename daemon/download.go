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
	"path"
	"path/filepath"

	"github.com/rs/zerolog"

	"refundd/daemon/failpoint"
	"refundd/daemon/obs"
	"refundd/daemon/reply"
	"refundd/daemon/spool"
	"refundd/daemon/store"
	"refundd/sftpx"
)

// download fetches every file in the remote download folder into the
// inbox folder, durably and with a done marker, and then removes it on the
// server, or moves it into sftp.download_archive_dir when that is set. A
// crash between the two fetches the file again next time; that copy is
// not placed, since its content is in the inbox, in work/ or in the store
// already. A file larger than limits.max_reply_size is not downloaded (see
// tooLargeOnServer).
func (d *Daemon) download(ctx context.Context) {
	if d.cfg.SFTP.Address == "" || d.cfg.SFTP.DownloadDir == "" || d.leading() != nil {
		return
	}
	log := d.log.With().Str(obs.FieldComponent, "inbound").Str(obs.FieldStage, "download").Logger()
	failed := func(err error) {
		r := obs.ResultTransient
		if sftpx.IsPermanent(err) {
			r = obs.ResultPermanent
		}
		d.downloaded(r)
		d.sftpState(err)
		log.Error().Err(err).Str("result", string(r)).Msg("download failed; tried again at the next scheduled download")
	}
	c, err := d.client(ctx)
	if err != nil {
		failed(err)
		return
	}
	files, err := c.List(ctx, d.cfg.SFTP.DownloadDir, "")
	if err != nil {
		failed(err)
		return
	}
	for _, fi := range files {
		if spool.Ignored(fi.Name()) {
			continue
		}
		d.beat()
		if d.leading() != nil {
			return
		}
		remote := path.Join(d.cfg.SFTP.DownloadDir, fi.Name())
		name := localName(fi.Name())
		if limit := d.cfg.Limits.MaxReplyBytes(); fi.Size() > limit {
			if err := d.tooLargeOnServer(name, reply.TooLarge(remote, fi.Size(), limit), log); err != nil {
				failed(err)
				return
			}
			continue
		}
		tmp := filepath.Join(d.inbox.Dir(), "."+name+".download")
		if err := os.Remove(tmp); err != nil && !errors.Is(err, fs.ErrNotExist) {
			failed(err)
			return
		}
		n, err := c.Get(ctx, remote, tmp)
		if errors.Is(err, sftpx.ErrTooLarge) {
			// It grew past the limit since it was listed; Get read
			// nothing of it.
			if err := d.tooLargeOnServer(name, fmt.Errorf("%w (limits.max_reply_size)", err), log); err != nil {
				failed(err)
				return
			}
			continue
		}
		if fileProblem(err) {
			// This file alone: the others are still downloaded.
			log.Error().Err(err).Str(obs.FieldFile, remote).Msg("reply on the server cannot be downloaded; the others are, and it is tried again at the next download")
			continue
		}
		if err != nil {
			failed(err)
			return
		}
		failpoint.Hit(failpoint.AfterDownload)
		// A file downloaded before (its removal on the server failed, or a
		// run stopped before it) is not placed again, whether it was taken
		// or still waits in the inbox or in work/: a second copy would only
		// be refused as a duplicate.
		if known, err := d.knownContent(ctx, tmp, name); err != nil {
			failed(err)
			return
		} else if known {
			if err := os.Remove(tmp); err != nil {
				failed(err)
				return
			}
			where, err := d.takeAway(ctx, c, remote)
			if fileProblem(err) {
				log.Error().Err(err).Str(obs.FieldFile, remote).Msg("reply taken before cannot be taken away on the server; the others are downloaded")
				continue
			}
			if err != nil {
				failed(err)
				return
			}
			log.Info().Str(obs.FieldFile, remote).Func(archivedAt(where)).Msg("reply downloaded before; taken away on the server")
			continue
		}
		local, err := d.inbox.Place(tmp, name)
		if err != nil {
			failed(err)
			return
		}
		failpoint.Hit(failpoint.AfterPlace)
		where, err := d.takeAway(ctx, c, remote)
		if fileProblem(err) {
			// Placed in the inbox; taken as a duplicate at the next round.
			log.Error().Err(err).Str(obs.FieldFile, remote).Str("local", filepath.Base(local)).
				Msg("reply downloaded but cannot be taken away on the server; the others are downloaded")
			continue
		}
		if err != nil {
			failed(err)
			return
		}
		log.Info().Str(obs.FieldFile, remote).Str("local", filepath.Base(local)).Func(archivedAt(where)).
			Int64(obs.FieldBytes, n).Msg("reply downloaded")
	}
	d.downloaded(obs.ResultOK)
	d.sftpState(nil)
}

// tooLargeOnServer reports a reply on the server larger than
// limits.max_reply_size, which is not downloaded: it stays on the server
// and is downloaded once the limit is raised. The reason goes into
// <name>.err in the inbox's failed/, where the operator looks for refused
// replies (written again at each round), and into the log.
func (d *Daemon) tooLargeOnServer(name string, reason error, log zerolog.Logger) error {
	report, err := d.inbox.Report(name, []string{reason.Error() + "; it stays on the server and is downloaded once the limit is raised"})
	if err != nil {
		return err
	}
	log.Error().Err(reason).Str(obs.FieldFile, name).Str("report", report).
		Msg("reply on the server larger than limits.max_reply_size: not downloaded; it stays there until the limit is raised")
	return nil
}

// takeAway takes a downloaded reply away from the remote download folder:
// it moves it into sftp.download_archive_dir when that is set (under a
// new name when its own is taken there; nothing is overwritten) and
// returns its new path, or else removes it and returns "".
func (d *Daemon) takeAway(ctx context.Context, c *sftpx.Client, remote string) (string, error) {
	if err := d.leading(); err != nil {
		return "", err
	}
	if d.cfg.SFTP.DownloadArchiveDir == "" {
		return "", c.Remove(ctx, remote)
	}
	return c.Move(ctx, remote, d.cfg.SFTP.DownloadArchiveDir)
}

// archivedAt logs where on the server a reply was moved, if it was.
func archivedAt(where string) func(*zerolog.Event) {
	return func(e *zerolog.Event) {
		if where != "" {
			e.Str("remote_archive", where)
		}
	}
}

// fileProblem reports whether err is about one remote file (refused to
// refundd, or gone since the listing) rather than the connection, so that
// the other files are still downloaded.
func fileProblem(err error) bool {
	return errors.Is(err, fs.ErrPermission) || errors.Is(err, fs.ErrNotExist)
}

// knownContent reports whether the content of the local file path was
// taken before (the store has it) or waits to be taken under name, the
// inbox name of the reply: this very file was placed by a run that stopped
// before it took it away on the server, and is still in the inbox or in
// work/. (The same content under another name on the server is placed,
// and refused as a duplicate.)
func (d *Daemon) knownContent(ctx context.Context, path, name string) (bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return false, err
	}
	defer f.Close()
	h := sha256.New()
	size, err := io.Copy(h, f) // streamed: a reply may be as large as limits.max_reply_size
	if err != nil {
		return false, err
	}
	sum := hex.EncodeToString(h.Sum(nil))
	_, err = d.store.File(ctx, sum)
	if !errors.Is(err, store.ErrNotFound) {
		return err == nil, err
	}
	waiting, err := d.inbox.Waiting(name, size, sum)
	return waiting != "", err
}

// maxLocalName is the longest name a downloaded reply gets in the inbox:
// with the suffixes of its done marker, its temporary names and its .err
// report it stays within the 255 bytes of a folder entry.
const maxLocalName = 200

// localName returns the inbox name of a reply downloaded as name: name
// itself, or when it is longer than maxLocalName, spool.ShortName of it.
// The same remote name gives the same local name every time.
func localName(name string) string { return spool.ShortName(name, maxLocalName) }
