package sftpx

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"strings"

	"github.com/pkg/sftp"
)

// Errors that callers branch on. They are wrapped with the operation and
// the object, so test them with errors.Is.
var (
	// ErrConfig marks an unusable Config.
	ErrConfig = errors.New("invalid sftp configuration")
	// ErrKey marks a private key that cannot be used: missing, unparsable,
	// weak, or encrypted without a usable passphrase.
	ErrKey = errors.New("unusable private key")
	// ErrKeyPermissions marks a private key file that group or others may
	// access; like ssh, Dial refuses it.
	ErrKeyPermissions = errors.New("private key file is accessible by group or others")
	// ErrAuth marks a server that refused the login.
	ErrAuth = errors.New("authentication failed")
	// ErrHostKeyMismatch marks a server whose host key is not the pinned
	// one. It can mean an attack.
	ErrHostKeyMismatch = errors.New("host key mismatch")
	// ErrUnknownHost marks a server for which no host key is known.
	ErrUnknownHost = errors.New("unknown host")
	// ErrHostKeyRevoked marks a server whose host key is marked @revoked.
	ErrHostKeyRevoked = errors.New("host key revoked")
	// ErrTargetExists marks an upload or download whose final name is
	// already taken. Nothing was overwritten or deleted.
	ErrTargetExists = errors.New("target exists")
	// ErrSizeMismatch marks an upload whose remote size differs from the
	// bytes sent, or a download whose length differs from the remote size.
	// It is transient: Put renamed nothing and removed its temporary file,
	// so trying again is safe.
	ErrSizeMismatch = errors.New("size mismatch")
	// ErrTooLarge marks a download larger than Config.MaxDownload.
	ErrTooLarge = errors.New("file too large")
	// ErrNoSpace marks a server that is out of disk space or quota.
	ErrNoSpace = errors.New("no space left on the server")
	// ErrInDoubt marks an upload whose rename was sent but whose outcome is
	// unknown because the connection was lost: the file may be in place (and
	// may already have been picked up). Do not upload it again blindly.
	ErrInDoubt = errors.New("outcome unknown")
	// ErrTimeout marks a server that did not answer within Config.Timeout.
	ErrTimeout = errors.New("timeout")
	// ErrConnectionLost marks a connection that broke during an operation.
	ErrConnectionLost = errors.New("connection to the server lost")
	// ErrClosed marks a call on a closed Client.
	ErrClosed = errors.New("client closed")
)

// IsPermanent reports whether err is a failure that trying again will not
// fix: a refused login, a host key that is unknown, wrong or revoked, an
// unusable key or configuration, permission denied, no space, an existing
// target, or an upload whose outcome is unknown (ErrInDoubt: trying again
// could deliver the file twice). Network errors, timeouts, lost connections
// and a cancelled context are transient, and so is anything unrecognised.
func IsPermanent(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, ErrInDoubt) {
		return true
	}
	if isTransient(err) {
		return false
	}
	for _, target := range []error{ErrConfig, ErrKey, ErrKeyPermissions, ErrAuth,
		ErrHostKeyMismatch, ErrUnknownHost, ErrHostKeyRevoked, ErrTargetExists,
		ErrTooLarge, ErrNoSpace, fs.ErrPermission} {
		if errors.Is(err, target) {
			return true
		}
	}
	var se *sftp.StatusError
	if errors.As(err, &se) {
		switch se.FxCode() {
		case sftp.ErrSSHFxPermissionDenied, sftp.ErrSSHFxOpUnsupported:
			return true
		}
		return isNoSpace(se)
	}
	return false
}

// isTransient reports the marks of a passing failure: the connection, the
// network or the context.
func isTransient(err error) bool {
	if errors.Is(err, ErrTimeout) || errors.Is(err, ErrConnectionLost) ||
		errors.Is(err, sftp.ErrSSHFxConnectionLost) || errors.Is(err, sftp.ErrSSHFxNoConnection) ||
		errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, io.ErrUnexpectedEOF) {
		return true
	}
	var oe *net.OpError
	if errors.As(err, &oe) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// serverErr adds ErrNoSpace to an SFTP status that reports a full disk or
// quota. SFTP v3 has no code for it: servers answer SSH_FX_FAILURE with the
// reason in the message, or the codes of later drafts (14, 15).
func serverErr(err error) error {
	var se *sftp.StatusError
	if errors.As(err, &se) && isNoSpace(se) {
		return fmt.Errorf("%w: %w", ErrNoSpace, err)
	}
	return err
}

func isNoSpace(se *sftp.StatusError) bool {
	const noSpaceOnFilesystem, quotaExceeded = 14, 15
	if se.Code == noSpaceOnFilesystem || se.Code == quotaExceeded {
		return true
	}
	msg := strings.ToLower(se.Error())
	return strings.Contains(msg, "no space left") || strings.Contains(msg, "quota")
}

// isServerReply reports whether err is an answer of a working server (a
// status, or one of this package's verdicts), as opposed to a sign that the
// connection is broken.
func isServerReply(err error) bool {
	if errors.Is(err, sftp.ErrSSHFxConnectionLost) || errors.Is(err, sftp.ErrSSHFxNoConnection) {
		return false
	}
	var se *sftp.StatusError
	var le localError
	if errors.As(err, &se) || errors.As(err, &le) {
		return true
	}
	for _, target := range []error{fs.ErrNotExist, fs.ErrPermission, fs.ErrExist, fs.ErrInvalid,
		ErrTargetExists, ErrSizeMismatch, ErrTooLarge, ErrNoSpace} {
		if errors.Is(err, target) {
			return true
		}
	}
	return false
}

// localError is a failure on this side (the source of an upload, the
// local file of a download); the connection is not to blame.
type localError struct{ err error }

func (e localError) Error() string { return e.err.Error() }
func (e localError) Unwrap() error { return e.err }

// localReader marks the errors of r as local.
type localReader struct{ r io.Reader }

func (r localReader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	if err != nil && err != io.EOF {
		err = localError{err}
	}
	return n, err
}

// localWriter marks the errors of w as local.
type localWriter struct{ w io.Writer }

func (w localWriter) Write(p []byte) (int, error) {
	n, err := w.w.Write(p)
	if err != nil {
		err = localError{err}
	}
	return n, err
}
