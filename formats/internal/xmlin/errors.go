package xmlin

import (
	"errors"
	"fmt"
)

// The classes of error a Decoder reports. Every error it returns wraps
// exactly one of them; package formats exports the same values.
var (
	ErrMalformed = errors.New("not well-formed XML")
	ErrDoctype   = errors.New("DOCTYPE not allowed")
	ErrTrailing  = errors.New("content after the root element")
	ErrTruncated = errors.New("truncated document")
	ErrTooLarge  = errors.New("document too large")
	ErrEncoding  = errors.New("unsupported character encoding")
	ErrLimit     = errors.New("nesting or token limit exceeded")
	ErrInvalid   = errors.New("invalid content")
)

// Error is a problem found at a line of the document. Err is one of the
// sentinel errors above.
type Error struct {
	Line int    // 1-based line the decoder had reached; 0 when unknown
	Path string // slash-separated local names of the open elements; "" at the top
	Msg  string
	Err  error
}

// Error returns "line N: path: message".
func (e *Error) Error() string {
	switch {
	case e.Line > 0 && e.Path != "":
		return fmt.Sprintf("line %d: %s: %s", e.Line, e.Path, e.Msg)
	case e.Line > 0:
		return fmt.Sprintf("line %d: %s", e.Line, e.Msg)
	}
	return e.Msg
}

// Unwrap returns the sentinel error.
func (e *Error) Unwrap() error { return e.Err }
