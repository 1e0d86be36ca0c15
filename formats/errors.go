package formats

import (
	"errors"

	"refundd/formats/internal/xmlin"
)

// Options bounds what the readers accept from an untrusted document:
// MaxBytes (default 64 MiB, enforced while reading), MaxDepth (default 64),
// MaxTokenBytes (default 1 MiB, the longest single text, tag or comment)
// and MaxItems (default 100 000 repeated elements, such as transactions,
// in one camt.054 entry or one pain.002 report). A zero field means its
// default.
type Options = xmlin.Options

// DefaultMaxBytes is the size limit of Options that leave MaxBytes zero:
// the largest document the readers accept, in bytes as stored.
const DefaultMaxBytes = xmlin.DefaultMaxBytes

// Error is a problem at a line of a document. Its Err is one of the
// sentinel errors below; errors.Is sees through it.
type Error = xmlin.Error

// The classes of error the readers return. Each error wraps exactly one.
var (
	// ErrMalformed: the document is not well-formed XML.
	ErrMalformed = xmlin.ErrMalformed
	// ErrDoctype: the document has a DOCTYPE, which no ISO 20022 message
	// has and which is refused to rule out entity attacks.
	ErrDoctype = xmlin.ErrDoctype
	// ErrTrailing: something other than white space, comments or
	// processing instructions follows the root element (a second root,
	// text).
	ErrTrailing = xmlin.ErrTrailing
	// ErrTruncated: the document ends before its root element is closed,
	// or is empty. A partly written file looks like this.
	ErrTruncated = xmlin.ErrTruncated
	// ErrTooLarge: the document is larger than Options.MaxBytes.
	ErrTooLarge = xmlin.ErrTooLarge
	// ErrEncoding: the document is in an encoding that is not supported
	// (UTF-16, UTF-32, an unknown label) or has bytes that are not valid in
	// its encoding.
	ErrEncoding = xmlin.ErrEncoding
	// ErrLimit: elements nest deeper than Options.MaxDepth, a token is
	// longer than Options.MaxTokenBytes, or an entry or report has more
	// than Options.MaxItems repeated elements.
	ErrLimit = xmlin.ErrLimit
	// ErrInvalid: the document is well-formed but its content is not a
	// valid message: an element in a foreign namespace, a required element
	// missing or repeated, a bad amount, date or code.
	ErrInvalid = xmlin.ErrInvalid
	// ErrUnknownMessage: the root element's namespace is not one of the
	// supported message versions (see Lookup).
	ErrUnknownMessage = errors.New("unknown message type or version")
	// ErrWrongMessage: the document is a supported message, but not one the
	// reader it was given to reads.
	ErrWrongMessage = errors.New("wrong message type")
)
