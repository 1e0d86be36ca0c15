package reply

import (
	"errors"
	"strconv"
	"strings"
	"testing"

	"refundd/formats"
	"refundd/internal/testutil"
)

// TestProcessSizeLimit: a reply of exactly Options.MaxBytes is applied; one
// byte more is refused before it is read, with its size, the limit and the
// key that sets it.
func TestProcessSizeLimit(t *testing.T) {
	camt := testutil.Notification(t, newReplyEnv(t).refunds.refunds, "")
	size := int64(len(camt))
	for _, tc := range []struct {
		name  string
		limit int64
		want  []string // parts of the error; none: applied
	}{
		{"at the limit", size, nil},
		{"default limit", 0, nil},
		{"over the limit", size - 1, []string{"camt.xml has " + strconv.FormatInt(size, 10) + " bytes", "larger than the limit of " + strconv.FormatInt(size-1, 10) + " bytes",
			"limits.max_reply_size; raise it to take the file"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newReplyEnv(t)
			path := e.file(t, "camt.xml", camt)
			d := e.deps()
			d.Options.MaxBytes = tc.limit
			res, err := Process(path, d)
			if tc.want == nil {
				if err != nil || res.Counts.Entries == 0 {
					t.Fatalf("Process: %v, %d entries; want it applied", err, res.Counts.Entries)
				}
				return
			}
			if !errors.Is(err, ErrBadReply) || !errors.Is(err, formats.ErrTooLarge) {
				t.Fatalf("Process: %v; want ErrBadReply and formats.ErrTooLarge", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q: %v", w, err)
				}
			}
			if res.Counts.Entries != 0 || len(testutil.Names(t, e.out.Dir)) != 0 {
				t.Errorf("something was read or written: %+v", res.Counts)
			}
		})
	}
}

func TestTooLarge(t *testing.T) {
	err := TooLarge("camt054-20261204.xml", 146_800_640, 64<<20)
	want := "document too large: camt054-20261204.xml has 146800640 bytes (140 MiB), larger than the limit of 67108864 bytes (64 MiB) " +
		"set by limits.max_reply_size; raise it to take the file"
	if err.Error() != want || !errors.Is(err, formats.ErrTooLarge) {
		t.Errorf("TooLarge = %q\nwant       %q", err, want)
	}
	for _, tc := range []struct {
		o    formats.Options
		want int64
	}{
		{formats.Options{}, formats.DefaultMaxBytes},
		{formats.Options{MaxBytes: 200 << 20}, 200 << 20},
	} {
		if got := MaxBytes(tc.o); got != tc.want {
			t.Errorf("MaxBytes(%+v) = %d; want %d", tc.o, got, tc.want)
		}
	}
}

// TestRefsSizeLimit: Refs reads within the limits it is given.
func TestRefsSizeLimit(t *testing.T) {
	e := newReplyEnv(t)
	camt := testutil.Notification(t, e.refunds.refunds, "")
	path := e.file(t, "camt.xml", camt)
	if _, err := Refs(path, formats.Options{MaxBytes: int64(len(camt))}); err != nil {
		t.Errorf("Refs at the limit: %v", err)
	}
	if _, err := Refs(path, formats.Options{MaxBytes: int64(len(camt)) - 1}); !errors.Is(err, formats.ErrTooLarge) {
		t.Errorf("Refs over the limit: %v; want formats.ErrTooLarge", err)
	}
}
