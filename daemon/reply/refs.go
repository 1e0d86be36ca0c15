package reply

import (
	"fmt"
	"io"
	"os"

	"refundd/formats"
	"refundd/formats/camt054"
)

// Refs returns the references (message ids, EndToEndIds and
// InstrIds) that the entries of the camt file at path name, read within
// the limits of o. The error is that of a file that is not a camt.054 or
// camt.053 or cannot be read.
func Refs(path string, o formats.Options) (map[string]bool, error) {
	refs, err := readRefs(path, o)
	if err != nil {
		return nil, fmt.Errorf("references of %s: %w", path, err)
	}
	return refs, nil
}

func readRefs(path string, o formats.Options) (map[string]bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	m, err := formats.Detect(f)
	if err != nil {
		return nil, err
	}
	if m.Type != formats.Camt054 && m.Type != formats.Camt053 {
		return nil, fmt.Errorf("%w: a %s is not a camt.054 or camt.053", ErrBadReply, m)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	rd, err := camt054.NewReader(f, o)
	if err != nil {
		return nil, err
	}
	refs := map[string]bool{}
	add := func(s string) {
		if s != "" {
			refs[s] = true
		}
	}
	for {
		e, err := rd.Next()
		if err == io.EOF {
			return refs, nil
		}
		if err != nil {
			return nil, err
		}
		for _, dt := range e.Details {
			if dt.Batch != nil {
				add(dt.Batch.MsgID)
			}
			for _, t := range dt.Transactions {
				add(t.Refs.MsgID)
				add(t.Refs.EndToEndID)
				add(t.Refs.InstrID)
			}
		}
	}
}
