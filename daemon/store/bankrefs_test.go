package store

import (
	"path/filepath"
	"testing"
)

func TestBankRefsEmpty(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "refundd.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	refs, err := s.BankRefs(t.Context(), "RFD-NONE")
	if err != nil || len(refs) != 0 {
		t.Errorf("BankRefs of an unknown batch: %v %v", refs, err)
	}
}
