package xmlin

import "io"

// limitReader returns ErrTooLarge as soon as more than max bytes are read
// from r. It never reads more than max+1 bytes.
type limitReader struct {
	r    io.Reader
	left int64 // bytes that may still be read
	max  int64
}

// Read reads from l.r, failing once more than l.max bytes are read.
func (l *limitReader) Read(p []byte) (int, error) {
	if l.left <= 0 {
		// max bytes read: one more byte means the document is too large.
		var one [1]byte
		n, err := l.r.Read(one[:])
		if n > 0 {
			return 0, tooLarge(l.max)
		}
		return 0, err
	}
	if int64(len(p)) > l.left {
		p = p[:l.left]
	}
	n, err := l.r.Read(p)
	l.left -= int64(n)
	return n, err
}

func tooLarge(max int64) error {
	return &Error{Msg: "document is larger than the limit of " + itoa(max) + " bytes", Err: ErrTooLarge}
}

func itoa(n int64) string {
	if n == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	return string(b[i:])
}
