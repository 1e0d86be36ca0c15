package config

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"refundd/daemon/refund"
)

// TestExampleConfig loads the documented example, so it cannot go stale.
func TestExampleConfig(t *testing.T) {
	c, err := Load("../../configs/refundd.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if c.Company.OrgNumber != "987654325" || c.SFTP.Timeout != 30*time.Second || c.Watch.StableFor != 2*time.Second {
		t.Errorf("got %+v", c)
	}
	if c.version != "001.001.03" || c.rules.Methods["AUTOPAY"] == nil || c.rules.Methods["AUTOPAY"].Debtor.Account != "86011117947" {
		t.Errorf("derived rules not set: version %q, methods %+v", c.version, c.rules.Methods)
	}
}

// TestExampleDocumentsEveryKey checks that every key of Config appears in
// the example file.
func TestExampleDocumentsEveryKey(t *testing.T) {
	data, err := os.ReadFile("../../configs/refundd.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range yamlKeys(Config{}) {
		if !strings.Contains(string(data), key+":") {
			t.Errorf("configs/refundd.example.yaml does not document %q", key)
		}
	}
}

func TestConfigRelativePaths(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "refundd.yaml")
	src, err := os.ReadFile("../testdata/refundd.yaml")
	if err != nil {
		t.Fatal(err)
	}
	src = append(src, []byte("sftp: {private_key: keys/id_ed25519, known_hosts: /etc/refundd/known_hosts}\nhttp: {listen: \"127.0.0.1:9464\", web_config_file: web.yaml}\n")...)
	if err := os.WriteFile(path, src, 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	for got, want := range map[string]string{
		c.Paths.Export:       filepath.Join(dir, "export"),
		c.Paths.State:        filepath.Join(dir, "state"),
		c.SFTP.PrivateKey:    filepath.Join(dir, "keys/id_ed25519"),
		c.SFTP.KnownHosts:    "/etc/refundd/known_hosts",
		c.HTTP.WebConfigFile: filepath.Join(dir, "web.yaml"),
	} {
		if got != want {
			t.Errorf("got %q; want %q", got, want)
		}
	}
}

func TestConfigErrors(t *testing.T) {
	base, err := os.ReadFile("../testdata/refundd.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, yaml string
		want       []string
	}{
		{"unknown top-level key", string(base) + "colour: blue\n", []string{"line 14", "field colour not found"}},
		{"unknown nested key", strings.Replace(string(base), "prefix:", "prefx:", 1), []string{"field prefx not found"}},
		{"empty", "", []string{"empty"}},
		{"ledger mode and format", strings.Replace(string(base), `ledger: {`, `ledger: {post: both, format: sie, `, 1),
			[]string{`ledger.post: "both" is not journal or release`, `ledger.format: "sie" is not refundd, visma-csv or visma-json`}},
		{"subaccounts with refundd's format", strings.Replace(string(base), `ledger: {`, `ledger: {subaccounts: {"1500": "0"}, `, 1),
			[]string{"ledger.subaccounts: only the Visma.net formats"}},
		{"an account without a subaccount", strings.Replace(string(base), `ledger: {`, `ledger: {format: visma-csv, subaccounts: {"1500": "0", "7770": "0"}, `, 1),
			[]string{"ledger.subaccounts: no subaccount for account 1920 (debtor_accounts[0].ledger_account)"}},
		{"one currency account", strings.Replace(string(base), `ledger: {`, `ledger: {currency_gain_account: "8060", `, 1),
			[]string{"ledger.currency_gain_account: give both currency accounts"}},
		{"a currency account without a subaccount", strings.Replace(string(base), `ledger: {`,
			`ledger: {currency_gain_account: "8060", currency_loss_account: "8160", format: visma-csv, subaccounts: {"1500": "0", "1920": "0", "7770": "0", "8060": "0"}, `, 1),
			[]string{"ledger.subaccounts: no subaccount for account 8160 (ledger.currency_loss_account)"}},
		{"a web configuration file without a listener", string(base) + "http: {web_config_file: web.yaml}\n",
			[]string{"http.web_config_file: needs http.listen"}},
		{"calendar: a bad date", string(base) + "calendar: {closed: [\"2027-12-31\", \"2027-13-01\", \"31.12.2027\"]}\n",
			[]string{`calendar.closed[1]: "2027-13-01": not a date (YYYY-MM-DD)`, `calendar.closed[2]: "31.12.2027": not a date`}},
		{"calendar: a day twice", string(base) + "calendar: {closed: [\"2027-12-31\", \"2027-12-24\", \"2027-12-31\"]}\n",
			[]string{`calendar.closed[2]: "2027-12-31": listed twice (also calendar.closed[0])`}},
		{"calendar: a day in both lists", string(base) + "calendar: {closed: [\"2027-12-31\"], open: [\"2027-12-24\", \"2027-12-31\"]}\n",
			[]string{`calendar.open[1]: "2027-12-31": both closed and open (also calendar.closed[0])`}},
		{"every problem at once", `
company: {name: "", org_number: "987654321"}
debtor_accounts:
  - {id: main, account: "86011117948", bic: DNB, currency: XXX}
  - {id: main, account: "NO9386011117948", bic: DNBANOKK, ledger_account: "1920"}
payment_methods:
  - {id: AUTOPAY, batch_payment: true, account_types: [BBAN, KID], debtor_account: nope, charge_bearer: OUR}
message: {prefix: "Refusjon 😀"}
pain001: {version: "001.001.05", past_dates: later, initiator_scheme: cust}
log: {level: loud, format: xml}
`, []string{
			"company.name: required",
			"company.org_number:",
			"debtor_accounts[0].account:",
			"debtor_accounts[0].bic:",
			"debtor_accounts[0].currency:",
			"debtor_accounts[0].ledger_account: required",
			"debtor_accounts[1].id: \"main\" is used twice",
			"debtor_accounts[1].account:",
			"payment_methods[0].account_types: \"KID\"",
			"payment_methods[0].debtor_account: \"nope\"",
			"payment_methods[0].charge_bearer:",
			"message.prefix:",
			"pain001.version:",
			"pain001.past_dates:",
			"pain001.initiator_scheme:",
			"log.level:",
			"log.format:",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse(strings.NewReader(tc.yaml), t.TempDir())
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("got %v; want ErrInvalid", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not mention %q:\n%v", w, err)
				}
			}
		})
	}
}

// TestConfigLedger: without the keys refundd posts the whole refund in its
// own CSV; a Visma.net configuration with a subaccount for every account
// posted to is taken, and post: release reaches the ledger of the postings.
func TestConfigLedger(t *testing.T) {
	base, err := os.ReadFile("../testdata/refundd.yaml")
	if err != nil {
		t.Fatal(err)
	}
	c, err := Parse(bytes.NewReader(base), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if c.Ledger.Post != PostJournal || c.Ledger.Format != FormatRefundd || c.LedgerAccounts().Release {
		t.Errorf("defaults: post %q, format %q, release %v; want journal, refundd, false", c.Ledger.Post, c.Ledger.Format, c.LedgerAccounts().Release)
	}
	visma := strings.Replace(string(base), `ledger: {`, `ledger: {post: release, format: visma-json, branch: "1", ledger: "1", `+
		`subaccounts: {"1500": "0", "1920": "0", "1921": "0", "7770": "CA-1-T32"}, `, 1)
	c, err = Parse(strings.NewReader(visma), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if !c.LedgerAccounts().Release || c.Ledger.Format != FormatVismaJSON || c.Ledger.Subaccounts["7770"] != "CA-1-T32" {
		t.Errorf("ledger %+v; want release, visma-json and the subaccounts", c.Ledger)
	}
}

// TestConfigCalendar: calendar.closed and calendar.open correct the
// built-in calendar of the rules and of BankingCalendar.
func TestConfigCalendar(t *testing.T) {
	base, err := os.ReadFile("../testdata/refundd.yaml")
	if err != nil {
		t.Fatal(err)
	}
	c, err := Parse(strings.NewReader(string(base)+`calendar: {closed: ["2026-12-30"], open: ["2026-12-24"]}`+"\n"), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	rules := c.Rules(time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC))
	for _, tt := range []struct {
		day  refund.Date
		want bool
	}{
		{refund.NewDate(2026, 12, 30), false},
		{refund.NewDate(2026, 12, 24), true},
		{refund.NewDate(2026, 12, 29), true},
		{refund.NewDate(2026, 12, 25), false},
	} {
		if got := rules.Calendar.IsBankingDay(tt.day); got != tt.want {
			t.Errorf("rules: IsBankingDay(%s) = %v; want %v", tt.day, got, tt.want)
		}
		if got := c.BankingCalendar().IsBankingDay(tt.day); got != tt.want {
			t.Errorf("BankingCalendar().IsBankingDay(%s) = %v; want %v", tt.day, got, tt.want)
		}
	}
}
