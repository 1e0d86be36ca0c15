package spool

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

func TestRecordEnd(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, data string
		want       bool
	}{
		{"csv rows ending in a line break", "Batch;RefNbr\nB1;CN1\n", true},
		{"csv with CRLF", "Batch;RefNbr\r\nB1;CN1\r\n", true},
		{"csv with a byte order mark", "\xef\xbb\xbfBatch;RefNbr\nB1;CN1\n", true},
		{"csv mid-line", "Batch;RefNbr\nB1;CN", false},
		{"csv header only", "Batch;RefNbr\n", false},
		{"csv header and blank line", "Batch;RefNbr\n\n", false},
		{"csv without a final line break", "Batch;RefNbr\nB1;CN1", false},
		{"csv with quotes", "Batch;Name\nB1;\"Nordmann; Kari\"\n", true},
		{"csv inside a quoted field over lines", "Batch;Name\nB1;\"Nordmann\n", false},
		{"csv with a quoted line break, closed", "Batch;Name\nB1;\"Nord\nmann\"\n", true},
		{"empty", "", false},
		{"white space", " \n\n", false},
		{"json object", `{"batch": "B1", "refunds": [{"refNbr": "CN1"}]}`, true},
		{"json object and a line break", "{\"batch\": \"B1\"}\n", true},
		{"json array", `[{"refNbr": "CN1"}]`, true},
		{"json cut", `{"batch": "B1", "refunds": [{"refNbr": "CN1"}`, false},
		{"json cut after a value", `{"batch": "B1"`, false},
		{"json two values", `{"a":1}{"b":2}`, false},
		{"xml closed", "<?xml version=\"1.0\"?>\n<Document><A>1</A></Document>\n", true},
		{"xml closed with a comment after", "<Document><A>1</A></Document><!-- end -->", true},
		{"xml cut", "<?xml version=\"1.0\"?>\n<Document><A>1</A>", false},
		{"xml cut in a tag", "<Document><A>1</A></Docu", false},
		{"xml only the declaration", "<?xml version=\"1.0\"?>\n", false},
		{"xml text after the root", "<Document/>trailing", false},
		{"xml two roots", "<Document/><Document/>", false},
	} {
		if got := recordEnd([]byte(tc.data)); got != tc.want {
			t.Errorf("%s: recordEnd(%q) = %v, want %v", tc.name, tc.data, got, tc.want)
		}
	}
}

// TestNote plays sequences of file events on a file and checks whether a
// scan after CloseSettle takes it early. StableFor is an hour: nothing
// else can make the file ready.
func TestNote(t *testing.T) {
	t.Parallel()
	const (
		whole = "Batch;RefNbr\nB1;CN1\n"
		half  = "Batch;RefNbr\nB1;C"
	)
	type step struct {
		op      FileOp
		content string // written before the event, when not ""
		appendS string // appended before the event, when not ""
	}
	for _, tc := range []struct {
		name  string
		steps []step
		want  bool
	}{
		{"closed complete", []step{{op: FileCreated, content: whole}, {op: FileWritten}, {op: FileClosed}}, true},
		{"closed without a create seen", []step{{op: FileClosed, content: whole}}, true},
		{"closed mid-line", []step{{op: FileCreated, content: half}, {op: FileWritten}, {op: FileClosed}}, false},
		{"written, not closed", []step{{op: FileCreated, content: whole}, {op: FileWritten}}, false},
		{"written after the close", []step{{op: FileClosed, content: whole}, {op: FileWritten, appendS: "B1;CN2\n"}}, false},
		{"closed again after a write after the close", []step{
			{op: FileClosed, content: whole}, {op: FileWritten, appendS: "B1;CN2\n"}, {op: FileClosed}}, false},
		{"closed mid-line, written and closed at a line end", []step{
			{op: FileClosed, content: half}, {op: FileWritten, appendS: "N1\n"}, {op: FileClosed}}, false},
		{"events lost after the close", []step{{op: FileClosed, content: whole}, {op: EventsLost}}, false},
		{"events lost, then closed again", []step{{op: FileClosed, content: whole}, {op: EventsLost}, {op: FileClosed}}, false},
		{"a new file after a doubtful one", []step{
			{op: FileClosed, content: half}, {op: FileWritten, appendS: "N1\n"}, {op: FileGone},
			{op: FileCreated, content: whole}, {op: FileWritten}, {op: FileClosed}}, true},
		{"renamed in, any contents", []step{{op: FileMovedIn, content: half}}, true},
		{"renamed in, then written", []step{{op: FileMovedIn, content: whole}, {op: FileWritten, appendS: "B1;CN2\n"}}, false},
		{"times set after the close", []step{{op: FileClosed, content: whole}, {op: FileAttrib}}, true},
		{"changed without an event after the close", []step{{op: FileClosed, content: whole}, {op: 0, appendS: "B1;CN2\n"}}, false},
		{"gone", []step{{op: FileClosed, content: whole}, {op: FileGone}}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFolder(t, Config{StableFor: time.Hour})
			path := filepath.Join(f.Dir(), "refunds.csv")
			var last time.Time
			for _, s := range tc.steps {
				if s.content != "" {
					writeFile(t, path, s.content)
				}
				if s.appendS != "" {
					appendFile(t, path, s.appendS)
				}
				if s.op == 0 {
					continue
				}
				last = time.Now()
				ev := FileEvent{Dir: f.Dir(), Name: "refunds.csv", Op: s.op, At: last}
				if s.op == EventsLost {
					ev.Name = ""
				}
				f.Note(ev)
			}
			now := last.Add(f.closeSettle)
			if names := scan(t, f, last); len(names) > 0 {
				t.Fatalf("taken before CloseSettle: %v", names)
			}
			got := slices.Contains(scan(t, f, now), "refunds.csv")
			if got != tc.want {
				t.Errorf("taken at CloseSettle = %v, want %v", got, tc.want)
			}
		})
	}
}

func appendFile(t *testing.T, path, s string) {
	t.Helper()
	fh, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fh.WriteString(s); err != nil {
		t.Fatal(err)
	}
	if err := fh.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestNoteRescanOnly: a file that no file event told of (a share, events
// off) keeps the stability rules: not taken before StableFor.
func TestNoteRescanOnly(t *testing.T) {
	t.Parallel()
	f := newFolder(t, Config{StableFor: 2 * time.Second})
	writeFile(t, filepath.Join(f.Dir(), "refunds.csv"), "Batch;RefNbr\nB1;CN1\n")
	t0 := time.Now()
	for _, at := range []time.Duration{0, DefaultCloseSettle, time.Second, 1500 * time.Millisecond} {
		if names := scan(t, f, t0.Add(at)); len(names) > 0 {
			t.Fatalf("taken %v after the first sight: %v", at, names)
		}
	}
	if names := scan(t, f, t0.Add(3*time.Second)); !slices.Equal(names, []string{"refunds.csv"}) {
		t.Fatalf("at StableFor: %v", names)
	}
}

// TestPutBackNotEarly: a file that changed while it was being claimed is
// put back; the kernel reports that rename as a rename-in, which must not
// make the file look complete: it waits for StableFor.
func TestPutBackNotEarly(t *testing.T) {
	t.Parallel()
	f := newFolder(t, Config{StableFor: time.Hour})
	p := filepath.Join(f.Dir(), "slow.csv")
	writeFile(t, p, "Batch;RefNbr\nB1;CN1\n")
	f.Note(FileEvent{Dir: f.Dir(), Name: "slow.csv", Op: FileClosed, At: time.Now()})
	f.afterRename = func(path string) {
		appendFile(t, path, "B1;CN2\n") // the writer came back, in work/
	}
	cs := scanCands(t, f, time.Now().Add(f.closeSettle))
	if len(cs) != 1 || !cs[0].Early {
		t.Fatalf("candidates %+v; want slow.csv taken early", cs)
	}
	if _, err := f.Claim(cs[0]); !errors.Is(err, ErrSkipped) {
		t.Fatalf("Claim = %v; want ErrSkipped (put back)", err)
	}
	at := time.Now()
	f.Note(FileEvent{Dir: f.Dir(), Name: "slow.csv", Op: FileMovedIn, At: at}) // the put-back's own rename
	if got := scanCands(t, f, at.Add(time.Second)); len(got) != 0 {
		t.Fatalf("taken a second after it was put back: %+v", got)
	}
	if got := scanCands(t, f, at.Add(2*time.Hour)); len(got) != 1 {
		t.Fatalf("not taken after StableFor: %+v", got)
	}
}

func scanCands(t *testing.T, f *Folder, now time.Time) []Candidate {
	t.Helper()
	cs, err := f.Scan(now)
	if err != nil {
		t.Fatal(err)
	}
	return cs
}
