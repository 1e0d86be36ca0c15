package sftpx

import (
	"context"
	"fmt"
	"io"
	"path"
	"slices"
	"sync"
)

// Upload is one file of PutAll: its content R goes to the remote file
// Name through the temporary name Tmp, with Check, when not nil, called
// just before the rename (see PutChecked).
type Upload struct {
	Name, Tmp string
	R         io.Reader
	Check     func() error
}

// PutAll uploads several files at once over the one connection, each as
// PutChecked does it: up to parallel of them are in flight together, so
// that the round trips of small files overlap instead of adding up. It
// returns one error per upload, nil for each file that is in place under
// its name. The whole call is bounded by Config.TransferTimeout. The
// Check functions and the readers of uploads in flight together are
// called at the same time, from several goroutines.
//
// Each upload keeps the guarantees of Put: the file is written to its
// temporary name, flushed, its size checked, and renamed only when Name
// does not exist. When the connection breaks, every upload that had not
// finished fails, one whose rename was sent with an error wrapping
// ErrInDoubt. The call is tried again on a new connection only when the
// connection it reused turns out to be gone before any upload created a
// file.
func (c *Client) PutAll(ctx context.Context, ups []Upload, parallel int) []error {
	errs := make([]error, len(ups))
	bad := make([]bool, len(ups)) // refused before any call
	for i, u := range ups {
		if path.Dir(u.Tmp) != path.Dir(u.Name) || path.Base(u.Tmp) == path.Base(u.Name) {
			errs[i] = fmt.Errorf("put %s: %w: temporary name %q is not another name in the same folder", u.Name, ErrConfig, u.Tmp)
			bad[i] = true
		}
	}
	parallel = max(parallel, 1)
	ctx, cancel := c.transfer(ctx)
	defer cancel()
	created := make([]bool, len(ups))
	var mu sync.Mutex // guards created while uploads run
	err := c.do(ctx, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return !slices.Contains(created, true)
	}, func(s *session) error {
		for i := range errs {
			if !bad[i] {
				errs[i] = nil // of a try on a connection that was gone
			}
		}
		slots := make(chan struct{}, parallel)
		var wg sync.WaitGroup
		for i, u := range ups {
			if bad[i] {
				continue
			}
			wg.Go(func() {
				slots <- struct{}{}
				defer func() { <-slots }()
				var made bool
				errs[i] = c.put(ctx, s, u.Name, u.Tmp, u.R, &made, u.Check)
				mu.Lock()
				created[i] = created[i] || made
				mu.Unlock()
			})
		}
		wg.Wait()
		// The connection broke when an upload failed otherwise than by
		// the server's answer; run then drops it and says why.
		for i, e := range errs {
			if !bad[i] && e != nil && !isServerReply(e) {
				return e
			}
		}
		return nil
	})
	for i, u := range ups {
		switch {
		case bad[i]:
		case errs[i] == nil && err != nil && !created[i]:
			// The connection could not be had, or broke before this
			// upload began.
			errs[i] = fmt.Errorf("put %s: %w", u.Name, err)
		case errs[i] == nil:
		case isServerReply(errs[i]):
			errs[i] = fmt.Errorf("put %s: %w", u.Name, serverErr(errs[i]))
		case err != nil:
			errs[i] = fmt.Errorf("put %s: %w (%w)", u.Name, errs[i], err)
		default:
			errs[i] = fmt.Errorf("put %s: %w", u.Name, errs[i])
		}
	}
	return errs
}
