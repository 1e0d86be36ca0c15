package daemon

import (
	"errors"
	"strings"
	"testing"
)

// TestStartNeedsLedgerAccounts: a daemon without the ledger accounts that
// bookings are posted to does not start (it would refuse every camt.054
// later, one file at a time), and says which keys are missing.
func TestStartNeedsLedgerAccounts(t *testing.T) {
	for _, tc := range []struct {
		name string
		set  func(*Config)
	}{
		{"receivables", func(c *Config) { c.Ledger.ReceivablesAccount = "" }},
		{"charges", func(c *Config) { c.Ledger.ChargesAccount = "" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newDaemonEnv(t)
			tc.set(e.cfg)
			d, err := New(e.cfg, e.options(t))
			if err == nil {
				d.Close()
				t.Fatal("started without the ledger accounts")
			}
			if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), "ledger.receivables_account and ledger.charges_account") {
				t.Errorf("error %q does not name the missing keys", err)
			}
		})
	}
}
