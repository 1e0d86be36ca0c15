package sftpx

import (
	"bytes"
	"encoding/binary"
	"slices"
	"strings"
	"testing"
)

// extendedPacket is an SSH_FXP_EXTENDED request body for name with data.
func extendedPacket(id uint32, name, data string) string {
	b := []byte{200}
	b = binary.BigEndian.AppendUint32(b, id)
	b = binary.BigEndian.AppendUint32(b, uint32(len(name)))
	b = append(b, name...)
	return string(append(b, data...))
}

// TestExtendedSniffer feeds a stream of requests in every split: the
// extended ones are reported once each, with their names, the others not
// at all.
func TestExtendedSniffer(t *testing.T) {
	handle := "\x00\x00\x00\x011"
	stream := bytes.Join([][]byte{
		packet("\x01\x00\x00\x00\x03"), // SSH_FXP_INIT
		packet(extendedPacket(1, "fsync@openssh.com", handle)),
		packet("\x06" + string(make([]byte, 300))), // SSH_FXP_WRITE
		packet(""),
		packet(extendedPacket(2, "posix-rename@openssh.com", "\x00\x00\x00\x01a\x00\x00\x00\x01b")),
		packet(extendedPacket(3, strings.Repeat("x", 300), "")), // name too long to keep
		packet("\xc8\x00\x00"), // truncated: never reported
		packet(extendedPacket(4, "statvfs@openssh.com", "\x00\x00\x00\x01/")),
	}, nil)
	want := []string{"fsync@openssh.com", "posix-rename@openssh.com", "", "statvfs@openssh.com"}
	for chunk := 1; chunk <= len(stream); chunk++ {
		var seen []string
		s := &extendedSniffer{seen: func(name string) { seen = append(seen, name) }}
		for b := stream; len(b) > 0; {
			n := min(chunk, len(b))
			s.feed(b[:n])
			b = b[n:]
		}
		if !slices.Equal(seen, want) {
			t.Fatalf("chunk %d: reported %q; want %q", chunk, seen, want)
		}
	}
}
