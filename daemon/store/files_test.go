package store

import (
	"errors"
	"testing"
)

func TestRecordFile(t *testing.T) {
	ctx := t.Context()
	s := openTest(t)
	h := hashOf("batch B1")
	if f, err := s.RecordFile(ctx, h, "B1.csv", FileBatch); err != nil || f != nil {
		t.Fatalf("RecordFile() = %v, %v; want nil, nil", f, err)
	}

	// The same content under another name is a duplicate; the earlier
	// record comes back and nothing is written.
	f, err := s.RecordFile(ctx, h, "B1-copy.csv", FileBatch)
	if !errors.Is(err, ErrDuplicate) {
		t.Fatalf("RecordFile(same content) error = %v; want ErrDuplicate", err)
	}
	if f == nil || f.Name != "B1.csv" || f.Outcome != FileProcessing || f.Kind != FileBatch || f.FirstSeen.IsZero() {
		t.Fatalf("RecordFile(same content) = %+v; want the first record, processing", f)
	}
	if n := count(t, s, "events WHERE subject_type = 'file'"); n != 1 {
		t.Errorf("%d file events; want 1", n)
	}

	// Invalid claims.
	for _, c := range []struct {
		hash, name string
		kind       FileKind
	}{
		{"ABC", "x", FileBatch},
		{hashOf("x")[:63] + "G", "x", FileBatch},
		{hashOf("x"), "", FileBatch},
		{hashOf("x"), "x", "statement"},
	} {
		if _, err := s.RecordFile(ctx, c.hash, c.name, c.kind); !errors.Is(err, ErrInvalid) {
			t.Errorf("RecordFile(%q, %q, %q) error = %v; want ErrInvalid", c.hash, c.name, c.kind, err)
		}
	}
}

func TestFinishFile(t *testing.T) {
	tests := []struct {
		name    string
		steps   []FileOutcome
		wantErr error
		events  int // file events in all, the claim included
		final   FileOutcome
	}{
		{"done", []FileOutcome{FileDone}, nil, 2, FileDone},
		{"failed", []FileOutcome{FileFailed}, nil, 2, FileFailed},
		{"duplicate", []FileOutcome{FileDuplicate}, nil, 2, FileDuplicate},
		{"done twice is a no-op", []FileOutcome{FileDone, FileDone}, nil, 2, FileDone},
		{"processing again is a no-op", []FileOutcome{FileProcessing}, nil, 1, FileProcessing},
		{"done, then failed", []FileOutcome{FileDone, FileFailed}, ErrTransition, 2, FileDone},
		{"failed, then done", []FileOutcome{FileFailed, FileDone}, ErrTransition, 2, FileFailed},
		{"done, then processing", []FileOutcome{FileDone, FileProcessing}, ErrTransition, 2, FileDone},
		{"unknown outcome", []FileOutcome{"lost"}, ErrInvalid, 1, FileProcessing},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := t.Context()
			s := openTest(t)
			h := hashOf(tc.name)
			if _, err := s.RecordFile(ctx, h, "reply.xml", FileReply); err != nil {
				t.Fatal(err)
			}
			var err error
			for _, o := range tc.steps {
				if err = s.FinishFile(ctx, h, o, "because "+string(o)); err != nil {
					break
				}
			}
			if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil) != (err == nil) {
				t.Fatalf("error %v; want %v", err, tc.wantErr)
			}
			f, err := s.File(ctx, h)
			if err != nil {
				t.Fatal(err)
			}
			if f.Outcome != tc.final {
				t.Errorf("outcome %s; want %s", f.Outcome, tc.final)
			}
			evs, err := s.Events(ctx, SubjectFile, h)
			if err != nil {
				t.Fatal(err)
			}
			if len(evs) != tc.events {
				t.Errorf("%d events %+v; want %d", len(evs), evs, tc.events)
			}
			if last := evs[len(evs)-1]; last.To != string(tc.final) {
				t.Errorf("last event to %s; want %s", last.To, tc.final)
			}
		})
	}
	ctx := t.Context()
	s := openTest(t)
	if err := s.FinishFile(ctx, hashOf("never"), FileDone, ""); !errors.Is(err, ErrNotFound) {
		t.Errorf("FinishFile(unknown) = %v; want ErrNotFound", err)
	}
}
