package erp

import (
	"fmt"
	"testing"
)

// TestRefIndex: a RefNbr given again is found with the line of its first
// refund, also after the table grew and among RefNbrs that share a hash;
// others are new.
func TestRefIndex(t *testing.T) {
	x := newRefIndex(0)
	for i := range 5000 {
		if _, seen := x.add(fmt.Sprintf("R%d", i), i+2); seen {
			t.Fatalf("R%d seen before it was added", i)
		}
	}
	for _, i := range []int{0, 1, 500, 4999} {
		if at, seen := x.add(fmt.Sprintf("R%d", i), 9000); !seen || at != i+2 {
			t.Errorf("R%d again: %d %v; want %d true", i, at, seen, i+2)
		}
	}
	// The same hash for different RefNbrs, and a RefNbr that is the start
	// of another (in a table that does not grow meanwhile: growing hashes
	// the RefNbrs again).
	x = newRefIndex(0)
	for i, ref := range []string{"A", "AB", "", "B", "ABC"} {
		if _, seen := x.addHashed(42, ref, 100+i); seen {
			t.Errorf("%q under a shared hash: seen; want new", ref)
		}
	}
	for i, ref := range []string{"A", "AB", "", "B", "ABC"} {
		if at, seen := x.addHashed(42, ref, 200); !seen || at != 100+i {
			t.Errorf("%q again under a shared hash: %d %v; want %d true", ref, at, seen, 100+i)
		}
	}
	if _, seen := x.addHashed(42, "C", 300); seen {
		t.Error("C under a shared hash: seen; want new")
	}
}
