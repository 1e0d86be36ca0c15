package store

import (
	"testing"
)

func TestBankRefsEmpty(t *testing.T) {
	s := openTest(t)
	refs, err := s.BankRefs(t.Context(), "RFD-NONE")
	if err != nil || len(refs) != 0 {
		t.Errorf("BankRefs of an unknown batch: %v %v", refs, err)
	}
}
