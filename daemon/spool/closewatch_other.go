//go:build !linux

package spool

import "errors"

// startFileEvents is not available: without file events of closes and
// renames, every file waits for StableFor (or its done marker).
func startFileEvents(dirs []string, fn func(FileEvent), onError func(error)) (stop func(), rewatch func(), err error) {
	return nil, nil, errors.New("file events: only on Linux")
}
