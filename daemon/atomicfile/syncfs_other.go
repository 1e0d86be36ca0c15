//go:build !linux

package atomicfile

// fsFlusher is not available: each file and the folder are synced.
func (w *Writer) fsFlusher(string) (func() error, bool) { return nil, false }
