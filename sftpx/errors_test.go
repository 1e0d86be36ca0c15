package sftpx_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"syscall"
	"testing"

	"github.com/pkg/sftp"

	"refundd/sftpx"
)

func TestIsPermanent(t *testing.T) {
	wrap := func(err error) error { return fmt.Errorf("put /in/a.xml: write .a.xml.part: %w", err) }
	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"auth", sftpx.ErrAuth, true},
		{"host key mismatch", &sftpx.HostKeyError{Err: sftpx.ErrHostKeyMismatch}, true},
		{"unknown host", &sftpx.HostKeyError{Err: sftpx.ErrUnknownHost}, true},
		{"revoked host key", &sftpx.HostKeyError{Err: sftpx.ErrHostKeyRevoked}, true},
		{"key permissions", sftpx.ErrKeyPermissions, true},
		{"bad key", sftpx.ErrKey, true},
		{"config", sftpx.ErrConfig, true},
		{"permission denied", os.ErrPermission, true},
		{"permission denied status", &sftp.StatusError{Code: uint32(sftp.ErrSSHFxPermissionDenied)}, true},
		{"no space", sftpx.ErrNoSpace, true},
		{"target exists", sftpx.ErrTargetExists, true},
		{"in doubt after a lost connection", fmt.Errorf("%w: %w", sftpx.ErrInDoubt, sftpx.ErrConnectionLost), true},
		{"timeout", sftpx.ErrTimeout, false},
		{"connection lost", sftpx.ErrConnectionLost, false},
		{"sftp connection lost", sftp.ErrSSHFxConnectionLost, false},
		{"context cancelled", context.Canceled, false},
		{"deadline", context.DeadlineExceeded, false},
		{"refused", &net.OpError{Op: "dial", Err: syscall.ECONNREFUSED}, false},
		{"reset", &net.OpError{Op: "read", Err: syscall.ECONNRESET}, false},
		{"i/o timeout", os.ErrDeadlineExceeded, false},
		{"unexpected EOF", io.ErrUnexpectedEOF, false},
		{"generic failure status", &sftp.StatusError{Code: uint32(sftp.ErrSSHFxFailure)}, false},
		{"size mismatch", sftpx.ErrSizeMismatch, false},
		{"unknown", errors.New("something"), false},
		{"missing local file", &fs.PathError{Op: "open", Path: "/x", Err: syscall.ENOENT}, false},
		// A lost connection outweighs what the failed call said.
		{"permission error on a lost connection", fmt.Errorf("%w: %w", os.ErrPermission, sftpx.ErrConnectionLost), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := sftpx.IsPermanent(tc.err); got != tc.want {
				t.Errorf("IsPermanent(%v) = %v; want %v", tc.err, got, tc.want)
			}
			if tc.err != nil {
				if got := sftpx.IsPermanent(wrap(tc.err)); got != tc.want {
					t.Errorf("IsPermanent(wrapped %v) = %v; want %v", tc.err, got, tc.want)
				}
			}
		})
	}
}
