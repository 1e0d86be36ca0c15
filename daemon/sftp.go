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
	if d.opts.Readiness != nil {
		d.opts.Readiness.Set("sftp", err)
	}
}
