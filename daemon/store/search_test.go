package store

import (
	"context"
	"errors"
	"testing"
)

// TestFindRefundsByAccountTail: a search by an account's last digits
// matches on the digits a masked account shows and no more, so that
// searching cannot tell which digits stand behind the mask: a longer tail
// that is wrong before its last four finds the refund as the right one
// does.
func TestFindRefundsByAccountTail(t *testing.T) {
	s := openTest(t)
	b, rs := newBatch("B-SEARCH", 0, 2)
	mustCreate(t, s, b, rs)
	tail := creditorOne[len(creditorOne)-AccountTailMin:]
	wrong := "9" + tail
	if creditorOne[len(creditorOne)-AccountTailMin-1] == '9' {
		wrong = "8" + tail
	}
	for _, tc := range []struct {
		typed string
		want  int
	}{
		{tail, 2},
		{creditorOne[len(creditorOne)-AccountTailMin-1:], 2},
		{wrong, 2},
		{"0000", 0},
	} {
		value, ok := AccountTail(tc.typed)
		if !ok {
			t.Fatalf("AccountTail(%q) is not a tail", tc.typed)
		}
		got, err := s.FindRefunds(context.Background(), ByAccountTail, value, 10)
		if err != nil || len(got) != tc.want {
			t.Errorf("FindRefunds(account tail %q) = %d refunds, %v; want %d", tc.typed, len(got), err, tc.want)
		}
	}
	if _, err := s.FindRefunds(context.Background(), ByAccountTail, "123", 10); !errors.Is(err, ErrInvalid) {
		t.Errorf("a tail of 3 digits: %v, want ErrInvalid", err)
	}
}
