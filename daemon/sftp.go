package daemon

import (
	"context"
	"errors"
	"fmt"
	"time"

	"refundd/daemon/config"

	"refundd/daemon/obs"
	"refundd/sftpx"
)

// client returns the SFTP client, dialling when there is none. After the
// server was refused for good (its host key, or the login), it is not
// dialled again before the backoff of d.refused has passed: the error of
// the refused dial is returned meanwhile.
func (d *Daemon) client(ctx context.Context) (*sftpx.Client, error) {
	if d.warming {
		// A warm-up is dialling: its connection, or its failure, is this
		// call's; a failed server is not dialled twice in a row.
		r := <-d.warmCh
		d.warmed(r)
		if r.err != nil {
			return nil, r.err
		}
	}
	if d.sftp != nil {
		return d.sftp, nil
	}
	if d.cfg.SFTP.Address == "" {
		return nil, fmt.Errorf("sftp: %w: sftp.address is not set", config.ErrInvalid)
	}
	if d.refused.err != nil && time.Now().Before(d.refused.until) {
		return nil, fmt.Errorf("%w (not dialled again before %s)", d.refused.err, d.refused.until.Format(time.RFC3339))
	}
	c, err := sftpx.Dial(ctx, d.cfg.SFTPConfig())
	d.sftpState(err)
	if err != nil {
		if refusedDial(err) {
			d.refusedAlarm(err)
		}
		return nil, err
	}
	d.refused = dialHold{}
	d.sftp = c
	return c, nil
}

// dialHold is the backoff after the SFTP server was refused for good.
type dialHold struct {
	err   error
	wait  time.Duration
	until time.Time
}

// refusedDial reports whether a dial failed for a reason that only a
// person can fix: a host key that is wrong, unknown or revoked, a refused
// login, an unusable key.
func refusedDial(err error) bool {
	for _, target := range []error{sftpx.ErrHostKeyMismatch, sftpx.ErrUnknownHost, sftpx.ErrHostKeyRevoked,
		sftpx.ErrAuth, sftpx.ErrKey, sftpx.ErrKeyPermissions} {
		if errors.Is(err, target) {
			return true
		}
	}
	return false
}

// refusedAlarm holds dialling back (doubling from Options.RetryMin to
// RetryMax) and raises the alarm: a warning naming the server and the host
// key it presented, and the sftp_refused count.
func (d *Daemon) refusedAlarm(err error) {
	h := &d.refused
	switch {
	case h.wait == 0:
		h.wait = d.opts.RetryMin
	default:
		h.wait = min(2*h.wait, d.opts.RetryMax)
	}
	h.err, h.until = err, time.Now().Add(h.wait)
	d.metrics.Raise(obs.AlarmSFTPRefused)
	ev := d.log.Warn().Err(err).Bool("alarm", true).Str("alarm_kind", string(obs.AlarmSFTPRefused)).
		Str(obs.FieldComponent, "sftp").Str("host", d.cfg.SFTP.Address).Str("user", d.cfg.SFTP.User).Time("next_try", h.until)
	var hke *sftpx.HostKeyError
	if errors.As(err, &hke) {
		ev = ev.Str("presented_host_key", hke.Presented)
	}
	ev.Msg("SFTP server refused: nothing is sent to it until the configuration is fixed (refundd doctor); batches wait")
}

// sftpState tells the readiness whether the last SFTP call worked.
func (d *Daemon) sftpState(err error) {
	d.sftpHealth(err)
	if d.opts.Readiness != nil {
		d.opts.Readiness.Set("sftp", err)
	}
}

// warmResult is the end of a warm-up: a Client dialled afresh (nil when an
// existing one was warmed), or why it failed.
type warmResult struct {
	c   *sftpx.Client
	err error
}

// warm keeps the SFTP connection open between uploads, so that an upload
// does not pay the login: when there is no working connection it dials, in
// the background, and the result comes on d.warmCh (see warmed). At most one
// warm-up runs at a time; none runs while dialling is held back after a
// refusal, nor within Options.RetryMin of a failed one. A working
// connection costs nothing here: its keepalives run in sftpx.
func (d *Daemon) warm(ctx context.Context) {
	if d.warming || d.cfg.SFTP.Address == "" || time.Now().Before(d.warmAfter) ||
		(d.refused.err != nil && time.Now().Before(d.refused.until)) {
		return
	}
	if c := d.sftp; c != nil {
		if c.Live() {
			return
		}
		d.warming = true
		go func() { d.warmCh <- warmResult{err: c.Warm(ctx)} }()
		return
	}
	d.warming = true
	cfg := d.cfg.SFTPConfig()
	go func() {
		c, err := sftpx.Dial(ctx, cfg)
		d.warmCh <- warmResult{c: c, err: err}
	}()
}

// warmed takes the result of a warm-up: a new Client becomes the daemon's
// (unless one was dialled meanwhile); a failure is handled as a failed
// dial is, and the next warm-up waits for Options.RetryMin.
func (d *Daemon) warmed(r warmResult) {
	d.warming = false
	if r.err != nil {
		d.warmAfter = time.Now().Add(d.opts.RetryMin)
		d.sftpState(r.err)
		if refusedDial(r.err) && (d.refused.err == nil || !time.Now().Before(d.refused.until)) {
			d.refusedAlarm(r.err)
		}
		d.log.Debug().Err(r.err).Str(obs.FieldComponent, "sftp").Msg("keeping the SFTP connection open failed; tried again later")
		return
	}
	d.sftpState(nil)
	if r.c == nil {
		return
	}
	if d.sftp != nil {
		r.c.Close()
		return
	}
	d.refused = dialHold{}
	d.sftp = r.c
}
