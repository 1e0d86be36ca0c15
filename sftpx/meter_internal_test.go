package sftpx

import (
	"bytes"
	"encoding/binary"
	"testing"
	"time"
)

func packet(body string) []byte {
	return append(binary.BigEndian.AppendUint32(nil, uint32(len(body))), body...)
}

// TestFramer feeds SFTP packets in every split.
func TestFramer(t *testing.T) {
	stream := bytes.Join([][]byte{packet("\x01abc"), packet("\x02"), packet("\x03" + string(make([]byte, 300)))}, nil)
	for chunk := 1; chunk <= len(stream); chunk++ {
		var f framer
		var started, done int
		for b := stream; len(b) > 0; {
			n := min(chunk, len(b))
			s, d := f.feed(b[:n])
			started, done = started+s, done+d
			b = b[n:]
		}
		if started != 3 || done != 3 {
			t.Fatalf("chunk %d: %d started, %d done; want 3, 3", chunk, started, done)
		}
	}
}

// TestMeter checks that a request without a reply counts as owed, and
// that a reply clears it.
func TestMeter(t *testing.T) {
	var m meter
	now := time.Now()
	if d := m.stalledFor(now); d != 0 {
		t.Errorf("idle: stalled for %s; want 0", d)
	}
	req := packet("\x11request")
	m.sending(req[:6]) // a request half written counts
	if d := m.stalledFor(time.Now().Add(time.Minute)); d < 59*time.Second {
		t.Errorf("owed a reply: stalled for %s; want about a minute", d)
	}
	m.sending(req[6:])
	reply := packet("\x65status")
	m.receiving(reply[:5])
	if d := m.stalledFor(time.Now()); d > time.Second {
		t.Errorf("reply arriving: stalled for %s; want about 0", d)
	}
	m.receiving(reply[5:])
	if d := m.stalledFor(time.Now().Add(time.Hour)); d != 0 {
		t.Errorf("all answered: stalled for %s; want 0", d)
	}
}

func TestFilterVersion(t *testing.T) {
	str := func(s string) []byte { return append(binary.BigEndian.AppendUint32(nil, uint32(len(s))), s...) }
	body := bytes.Join([][]byte{{2, 0, 0, 0, 3}, str("posix-rename@openssh.com"), str("1"), str("statvfs@openssh.com"), str("2")}, nil)
	got, err := filterVersion(body, []string{"posix-rename@openssh.com"})
	if err != nil {
		t.Fatal(err)
	}
	want := bytes.Join([][]byte{{2, 0, 0, 0, 3}, str("statvfs@openssh.com"), str("2")}, nil)
	if !bytes.Equal(got, want) {
		t.Errorf("got %q; want %q", got, want)
	}
	for _, bad := range [][]byte{{1, 0, 0, 0, 3}, body[:len(body)-1], {2}} {
		if _, err := filterVersion(bad, nil); err == nil {
			t.Errorf("filterVersion(%q) accepted a malformed packet", bad)
		}
	}
}
