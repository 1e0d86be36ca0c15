package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	_ "time/tzdata" // execution dates follow the Norwegian calendar wherever refundd runs

	"go.yaml.in/yaml/v3"

	"refundd/daemon/refund"
	"refundd/formats/pain001"
	"refundd/sftpx"
)

// DefaultConfigPath is where refundd looks for its configuration when no
// -config flag is given.
const DefaultConfigPath = "/etc/refundd/refundd.yaml"

// DefaultMaxBatchFileSize is the default of watch.max_file_size: the
// largest batch file that is read.
const DefaultMaxBatchFileSize = 64 << 20

// Config is refundd's configuration file. configs/refundd.example.yaml
// documents every key.
type Config struct {
	Company        Company         `yaml:"company"`
	DebtorAccounts []DebtorAccount `yaml:"debtor_accounts"`
	PaymentMethods []PaymentMethod `yaml:"payment_methods"`
	Message        Message         `yaml:"message"`
	Pain001        Pain001         `yaml:"pain001"`
	Paths          Paths           `yaml:"paths"`
	Watch          Watch           `yaml:"watch"`
	SFTP           SFTP            `yaml:"sftp"`
	Ledger         Ledger          `yaml:"ledger"`
	Batches        Batches         `yaml:"batches"`
	Calendar       Calendar        `yaml:"calendar"`
	Alarms         Alarms          `yaml:"alarms"`
	Log            Log             `yaml:"log"`
	HTTP           HTTP            `yaml:"http"`
	Store          Store           `yaml:"store"`
	HA             HA              `yaml:"ha"`
	Limits         Limits          `yaml:"limits"`
	Retention      Retention       `yaml:"retention"`
	Notify         Notify          `yaml:"notify"`

	// File is the path the configuration was loaded from.
	File string `yaml:"-"`
	// rules and version are derived from the above by Validate.
	rules   refund.Rules
	version pain001.Version
	debtors map[string]*refund.DebtorAccount
}

// Company is the paying company, the initiating party of every payment.
type Company struct {
	Name      string `yaml:"name"`
	OrgNumber string `yaml:"org_number"`
}

// DebtorAccount is a company bank account that refunds are paid from.
type DebtorAccount struct {
	ID            string `yaml:"id"`
	Account       string `yaml:"account"` // BBAN or IBAN
	BIC           string `yaml:"bic"`
	Currency      string `yaml:"currency"`
	LedgerAccount string `yaml:"ledger_account"`
}

// PaymentMethod mirrors the ERP's payment method settings for AR refunds.
type PaymentMethod struct {
	ID            string   `yaml:"id"`
	BatchPayment  bool     `yaml:"batch_payment"`
	AccountTypes  []string `yaml:"account_types"`
	DebtorAccount string   `yaml:"debtor_account"`
	ChargeBearer  string   `yaml:"charge_bearer"`
}

// Message holds the payment-message settings.
type Message struct {
	Prefix string `yaml:"prefix"`
}

// Pain001 holds the settings of the payment files refundd writes.
type Pain001 struct {
	Version         string `yaml:"version"`
	PastDates       string `yaml:"past_dates"`
	BatchBooking    bool   `yaml:"batch_booking"`
	InitiatorScheme string `yaml:"initiator_scheme"`
	CategoryPurpose string `yaml:"category_purpose"`
	Timezone        string `yaml:"timezone"`
}

// Paths are the folders refundd works in.
type Paths struct {
	Export string `yaml:"export"`
	Inbox  string `yaml:"inbox"`
	Import string `yaml:"import"`
	State  string `yaml:"state"`
	// Spool holds work/ and archive/, the files refundd has claimed and
	// done with (default: State). With two hosts it is on the shared
	// folder, beside export, inbox and import.
	Spool string `yaml:"spool"`
}

// The state store's engines.
const (
	DriverSQLite   = "sqlite"
	DriverPostgres = "postgres"
)

// Store is where refundd keeps its state: a SQLite file in paths.state,
// or a PostgreSQL schema per company.
type Store struct {
	Driver string `yaml:"driver"`
	URL    string `yaml:"url"`
	Schema string `yaml:"schema"`
	// StatementTimeout and IdleInTransactionTimeout are set on every
	// PostgreSQL connection (defaults 10s and 5s).
	StatementTimeout         time.Duration `yaml:"statement_timeout"`
	IdleInTransactionTimeout time.Duration `yaml:"idle_in_transaction_timeout"`
}

// HA is the leadership of a company's instances on PostgreSQL: one leads,
// the others stand by.
type HA struct {
	// Instance names this process as the lease holder (default: the host
	// name).
	Instance string `yaml:"instance"`
	// Lease is how long a leader's lease runs without a renewal.
	Lease time.Duration `yaml:"lease"`
	// Poll is how often a standby looks whether the lease has expired.
	Poll time.Duration `yaml:"poll"`
}

// Renew is how often the leader renews its lease (a fifth of it), and
// Deadline how long after a renewal was sent the leader still acts without
// a newer one (two thirds of it): well before the lease can expire on the
// database's clock, so that a leader that cannot renew stops before a
// standby may take over.
func (h HA) Renew() time.Duration    { return h.Lease / 5 }
func (h HA) Deadline() time.Duration { return h.Lease * 2 / 3 }

// Watch controls how the export and inbox folders are watched.
type Watch struct {
	Rescan    string        `yaml:"rescan"`
	StableFor time.Duration `yaml:"stable_for"`
	// MaxFileSize is the largest batch file taken from the export folder,
	// in bytes; a larger one is refused whole. 0 means
	// DefaultMaxBatchFileSize.
	MaxFileSize int64 `yaml:"max_file_size"`
}

// SFTP is the connection to AutoPay.
type SFTP struct {
	Address              string        `yaml:"address"`
	User                 string        `yaml:"user"`
	PrivateKey           string        `yaml:"private_key"`
	PassphraseEnv        string        `yaml:"passphrase_env"`
	PassphraseFile       string        `yaml:"passphrase_file"`
	PassphraseCredential string        `yaml:"passphrase_credential"`
	KnownHosts           string        `yaml:"known_hosts"`
	HostKeyFingerprints  []string      `yaml:"host_key_fingerprints"`
	UploadDir            string        `yaml:"upload_dir"`
	DownloadDir          string        `yaml:"download_dir"`
	DownloadArchiveDir   string        `yaml:"download_archive_dir"`
	DownloadSchedule     string        `yaml:"download_schedule"`
	Timeout              time.Duration `yaml:"timeout"`
	TransferTimeout      time.Duration `yaml:"transfer_timeout"` // one upload or download as a whole
	KeepAlive            time.Duration `yaml:"keepalive"`
	TempPattern          string        `yaml:"temp_pattern"`
}

// Ledger names the general-ledger accounts of the postings refundd writes,
// who posts the refund itself, and the file format of the postings.
type Ledger struct {
	ReceivablesAccount string `yaml:"receivables_account"`
	ChargesAccount     string `yaml:"charges_account"`
	// CurrencyGainAccount and CurrencyLossAccount, both or neither: with
	// them refundd posts the currency difference of a refund paid in
	// another currency than its bank account, between the bank's amount
	// and the refund's BaseAmount (its amount at the ERP document's rate),
	// and then needs BaseAmount on such refunds. Without them the ERP
	// accounts for the difference.
	CurrencyGainAccount string `yaml:"currency_gain_account"`
	CurrencyLossAccount string `yaml:"currency_loss_account"`
	// Post is PostJournal (refundd posts the whole refund; the default)
	// or PostRelease (the ERP releases the refund document, which posts
	// the payment; refundd posts charges and returns).
	Post string `yaml:"post"`
	// Format is the postings file format: FormatRefundd (the default),
	// FormatVismaCSV or FormatVismaJSON.
	Format string `yaml:"format"`
	// Branch and Ledger are Visma.net's branch and ledger of the journal
	// transactions ("" leaves them to Visma.net's defaults).
	Branch   string `yaml:"branch"`
	LedgerID string `yaml:"ledger"`
	// Subaccounts gives the subaccount of each ledger account, for a
	// company that uses subaccounts; then every account refundd posts to
	// must have one.
	Subaccounts map[string]string `yaml:"subaccounts"`
}

// The values of ledger.post and ledger.format.
const (
	PostJournal     = "journal"
	PostRelease     = "release"
	FormatRefundd   = "refundd"
	FormatVismaCSV  = "visma-csv"
	FormatVismaJSON = "visma-json"
)

// Batches says how refundd treats the batches the ERP exports.
type Batches struct {
	// OnInvalid is OnInvalidReject (a batch with any invalid refund is
	// refused whole; the default) or OnInvalidSendValid (the valid
	// refunds are sent, the invalid ones reported to the ERP).
	OnInvalid string `yaml:"on_invalid"`
	// AccountGuard is GuardOff, GuardWarn (the default) or GuardHold: what
	// happens to a refund to another account than the same customer's
	// last booked refund.
	AccountGuard string `yaml:"account_guard"`
	// Encoding is the character encoding of CSV batch files: EncodingUTF8
	// (the default), EncodingWindows1252 or EncodingISO88591.
	Encoding string `yaml:"encoding"`
}

// The values of batches.on_invalid, batches.account_guard and
// batches.encoding.
const (
	OnInvalidReject     = "reject"
	OnInvalidSendValid  = "send-valid"
	GuardOff            = "off"
	GuardWarn           = "warn"
	GuardHold           = "hold"
	EncodingUTF8        = "utf-8"
	EncodingWindows1252 = "windows-1252"
	EncodingISO88591    = "iso-8859-1"
)

// Calendar corrects the built-in Norwegian banking calendar: Closed are
// extra days without banking, Open are days to treat as banking days
// although the built-in calendar closes them (YYYY-MM-DD each).
type Calendar struct {
	Closed []string `yaml:"closed"`
	Open   []string `yaml:"open"`
}

// Alarms are the waiting times after which refundd warns.
type Alarms struct {
	StatusWithin      time.Duration `yaml:"status_within"`
	BookingWithinDays int           `yaml:"booking_within_days"`
}

// Log selects the log level and format.
type Log struct {
	Level  string `yaml:"level"`
	Format string `yaml:"format"`
}

// HTTP is the listener for health, metrics and the status page: on
// loopback, or on another address with TLS and authentication.
type HTTP struct {
	Listen string `yaml:"listen"`
	// WebConfigFile is a web configuration file of the Prometheus
	// exporter toolkit (TLS, basic authentication); "" for none.
	WebConfigFile string `yaml:"web_config_file"`
}

// ErrInvalid marks an invalid configuration.
var ErrInvalid = errors.New("invalid configuration")

// Load reads, checks and completes the configuration file at path.
// Unknown keys are errors; relative paths are resolved against the folder
// of the file.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load config: %w", err)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("load config %s: %w", path, err)
	}
	c, err := Parse(bytes.NewReader(data), filepath.Dir(abs))
	if err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	c.File = abs
	return c, nil
}

// Parse reads and checks a configuration; relative paths are resolved
// against dir.
func Parse(r io.Reader, dir string) (*Config, error) {
	dec := yaml.NewDecoder(r)
	dec.KnownFields(true)
	var c Config
	if err := dec.Decode(&c); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%w: the file is empty", ErrInvalid)
		}
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%w: more than one YAML document", ErrInvalid)
	}
	c.setDefaults()
	c.resolvePaths(dir)
	if err := c.validate(); err != nil {
		return nil, err
	}
	return &c, nil
}

func (c *Config) setDefaults() {
	def := func(s *string, v string) {
		if *s == "" {
			*s = v
		}
	}
	def(&c.Pain001.Version, string(pain001.V03))
	def(&c.Pain001.PastDates, string(refund.NextBankingDayPolicy))
	def(&c.Pain001.InitiatorScheme, "CUST")
	def(&c.Pain001.Timezone, "Europe/Oslo")
	def(&c.Watch.Rescan, "@every 30s")
	def(&c.SFTP.DownloadSchedule, "@every 1m")
	def(&c.SFTP.TempPattern, ".{name}.part")
	def(&c.Log.Level, "info")
	def(&c.Log.Format, "json")
	def(&c.Store.Driver, DriverSQLite)
	def(&c.HA.Instance, hostname())
	if c.HA.Lease == 0 {
		c.HA.Lease = 15 * time.Second
	}
	if c.HA.Poll == 0 {
		c.HA.Poll = 2 * time.Second
	}
	if c.Store.StatementTimeout == 0 {
		c.Store.StatementTimeout = 10 * time.Second
	}
	if c.Store.IdleInTransactionTimeout == 0 {
		c.Store.IdleInTransactionTimeout = 5 * time.Second
	}
	if c.Watch.StableFor == 0 {
		c.Watch.StableFor = 2 * time.Second
	}
	if c.Watch.MaxFileSize == 0 {
		c.Watch.MaxFileSize = DefaultMaxBatchFileSize
	}
	if c.SFTP.Timeout == 0 {
		c.SFTP.Timeout = 30 * time.Second
	}
	if c.SFTP.KeepAlive == 0 {
		c.SFTP.KeepAlive = c.SFTP.Timeout / 3
	}
	if c.SFTP.TransferTimeout == 0 {
		c.SFTP.TransferTimeout = sftpx.DefaultTransferTimeout
	}
	if c.Alarms.StatusWithin == 0 {
		c.Alarms.StatusWithin = 2 * time.Hour
	}
	if c.Alarms.BookingWithinDays == 0 {
		c.Alarms.BookingWithinDays = 3
	}
	for i := range c.DebtorAccounts {
		def(&c.DebtorAccounts[i].Currency, "NOK")
	}
}

// hostname is the default ha.instance.
func hostname() string {
	h, err := os.Hostname()
	if err != nil || h == "" {
		return "refundd"
	}
	return h
}

// SpoolDir is the folder of work/ and archive/: paths.spool, or
// paths.state.
func (c *Config) SpoolDir() string {
	if c.Paths.Spool != "" {
		return c.Paths.Spool
	}
	return c.Paths.State
}

// Postgres reports whether the state is on PostgreSQL.
func (c *Config) Postgres() bool { return c.Store.Driver == DriverPostgres }

func (c *Config) resolvePaths(dir string) {
	for _, p := range []*string{&c.Paths.Export, &c.Paths.Inbox, &c.Paths.Import, &c.Paths.State, &c.Paths.Spool,
		&c.SFTP.PrivateKey, &c.SFTP.KnownHosts, &c.SFTP.PassphraseFile, &c.HTTP.WebConfigFile} {
		if *p != "" && !filepath.IsAbs(*p) {
			*p = filepath.Join(dir, *p)
		}
	}
	for i := range c.Notify.Webhooks {
		if p := &c.Notify.Webhooks[i].SecretFile; *p != "" && !filepath.IsAbs(*p) {
			*p = filepath.Join(dir, *p)
		}
	}
}

// validate checks every key and reports every problem at once, each
// naming its key.
func (c *Config) validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", key, fmt.Sprintf(format, args...)))
	}
	if strings.TrimSpace(c.Company.Name) == "" {
		bad("company.name", "required")
	} else if _, changes, err := refund.Text(c.Company.Name, true, 140); err != nil {
		bad("company.name", "%v", err)
	} else if changes != "" {
		// The name goes into every payment file as written.
		bad("company.name", "has characters outside the bank's set; write it with them replaced (%s)", changes)
	}
	if org, err := refund.ParseOrgNumber(c.Company.OrgNumber); err != nil {
		bad("company.org_number", "%v", err)
	} else {
		c.Company.OrgNumber = org
	}

	c.debtors = map[string]*refund.DebtorAccount{}
	if len(c.DebtorAccounts) == 0 {
		bad("debtor_accounts", "at least one is required")
	}
	for i, d := range c.DebtorAccounts {
		key := fmt.Sprintf("debtor_accounts[%d]", i)
		da := &refund.DebtorAccount{ID: d.ID, LedgerAccount: d.LedgerAccount}
		if d.ID == "" {
			bad(key+".id", "required")
		} else if c.debtors[d.ID] != nil {
			bad(key+".id", "%q is used twice", d.ID)
		}
		acct := strings.TrimSpace(d.Account)
		if acct != "" && acct[0] >= '0' && acct[0] <= '9' {
			da.Type = refund.BBAN
			n, err := refund.ParseBBAN(acct)
			if err != nil {
				bad(key+".account", "%v", err)
			}
			da.Account = n
		} else {
			da.Type = refund.IBAN
			n, err := refund.ParseIBAN(acct)
			if err != nil {
				bad(key+".account", "%v", err)
			}
			da.Account = n
		}
		if bic, err := refund.ParseBIC(d.BIC); err != nil {
			bad(key+".bic", "%v", err)
		} else {
			da.BIC = bic
		}
		if cur, err := refund.ParseCurrency(d.Currency); err != nil {
			bad(key+".currency", "%v", err)
		} else {
			da.Currency = cur
		}
		if d.LedgerAccount == "" {
			bad(key+".ledger_account", "required (the ledger account the bank account is booked on)")
		}
		c.debtors[d.ID] = da
	}

	methods := map[string]*refund.PaymentMethod{}
	if len(c.PaymentMethods) == 0 {
		bad("payment_methods", "at least one is required")
	}
	for i, m := range c.PaymentMethods {
		key := fmt.Sprintf("payment_methods[%d]", i)
		pm := &refund.PaymentMethod{ID: m.ID, BatchPayment: m.BatchPayment}
		if m.ID == "" {
			bad(key+".id", "required")
		} else if methods[m.ID] != nil {
			bad(key+".id", "%q is used twice", m.ID)
		}
		if len(m.AccountTypes) == 0 {
			bad(key+".account_types", "at least one of BBAN, IBAN is required")
		}
		for _, t := range m.AccountTypes {
			at, err := refund.ParseAccountType(t)
			if err != nil {
				bad(key+".account_types", "%v", err)
			}
			pm.AccountTypes = append(pm.AccountTypes, at)
		}
		if pm.Debtor = c.debtors[m.DebtorAccount]; pm.Debtor == nil {
			bad(key+".debtor_account", "%q is not the id of a debtor account", m.DebtorAccount)
		}
		switch cb := strings.ToUpper(m.ChargeBearer); cb {
		case "", refund.ChargeShared, refund.ChargeFollowSL, refund.ChargeDebtor, refund.ChargeCreditor:
			pm.ChargeBearer = cb
		default:
			bad(key+".charge_bearer", "%q is not DEBT, CRED, SHAR or SLEV", m.ChargeBearer)
		}
		methods[m.ID] = pm
	}
	if _, changes, err := refund.Text(c.Message.Prefix, true, 100); err != nil {
		bad("message.prefix", "%v", err)
	} else if changes != "" {
		bad("message.prefix", "has characters outside the bank's set; write it with them replaced (%s)", changes)
	}

	v, err := pain001.ParseVersion(c.Pain001.Version)
	if err != nil {
		bad("pain001.version", "%v", err)
	}
	c.version = v
	policy, err := refund.ParseDatePolicy(c.Pain001.PastDates)
	if err != nil {
		bad("pain001.past_dates", "%v", err)
	}
	if !isCode(c.Pain001.InitiatorScheme) {
		bad("pain001.initiator_scheme", "%q is not an ISO code (1 to 4 capital letters), e.g. CUST or BANK", c.Pain001.InitiatorScheme)
	}
	if c.Pain001.CategoryPurpose != "" && !isCode(c.Pain001.CategoryPurpose) {
		bad("pain001.category_purpose", "%q is not an ISO code (1 to 4 capital letters), e.g. SUPP", c.Pain001.CategoryPurpose)
	}
	if _, err := time.LoadLocation(c.Pain001.Timezone); err != nil {
		bad("pain001.timezone", "%v", err)
	}

	switch c.Log.Level {
	case "trace", "debug", "info", "warn", "error":
	default:
		bad("log.level", "%q is not trace, debug, info, warn or error", c.Log.Level)
	}
	switch c.Log.Format {
	case "json", "console":
	default:
		bad("log.format", "%q is not json or console", c.Log.Format)
	}
	if c.HTTP.WebConfigFile != "" && c.HTTP.Listen == "" {
		bad("http.web_config_file", "needs http.listen")
	}
	if c.Watch.StableFor < 0 {
		bad("watch.stable_for", "must not be negative")
	}
	if c.Watch.MaxFileSize < 0 {
		bad("watch.max_file_size", "must not be negative")
	}
	c.validateSFTP(bad)
	c.validateStore(bad)
	c.validateLedger(bad)
	c.validateBatches(bad)
	c.validateLimits(bad)
	c.validateRetention(bad)
	c.validateNotify(bad)
	cal := c.validateCalendar(bad)
	if c.Alarms.BookingWithinDays < 0 {
		bad("alarms.booking_within_days", "must not be negative")
	}
	if len(errs) > 0 {
		return fmt.Errorf("%w:\n  %w", ErrInvalid, indentJoin(errs))
	}
	c.rules = refund.Rules{Methods: methods, MessagePrefix: c.Message.Prefix, PastDates: policy,
		CurrencyDifferences: c.Ledger.CurrencyGainAccount != "", Calendar: cal}
	return nil
}

// validateBatches checks the batches section, filling in its defaults.
func (c *Config) validateBatches(bad func(key, format string, args ...any)) {
	b := &c.Batches
	b.OnInvalid = strings.ToLower(strings.TrimSpace(b.OnInvalid))
	switch b.OnInvalid {
	case "":
		b.OnInvalid = OnInvalidReject
	case OnInvalidReject, OnInvalidSendValid:
	default:
		bad("batches.on_invalid", "%q is not %s or %s", b.OnInvalid, OnInvalidReject, OnInvalidSendValid)
	}
	b.AccountGuard = strings.ToLower(strings.TrimSpace(b.AccountGuard))
	switch b.AccountGuard {
	case "":
		b.AccountGuard = GuardWarn
	case GuardOff, GuardWarn, GuardHold:
	default:
		bad("batches.account_guard", "%q is not %s, %s or %s", b.AccountGuard, GuardOff, GuardWarn, GuardHold)
	}
	switch e := strings.ToLower(strings.TrimSpace(b.Encoding)); e {
	case "", "utf8", EncodingUTF8:
		b.Encoding = EncodingUTF8
	case "cp1252", "windows1252", EncodingWindows1252:
		b.Encoding = EncodingWindows1252
	case "latin1", "latin-1", "iso8859-1", EncodingISO88591:
		b.Encoding = EncodingISO88591
	default:
		bad("batches.encoding", "%q is not %s, %s or %s", b.Encoding, EncodingUTF8, EncodingWindows1252, EncodingISO88591)
	}
}

// validateCalendar checks calendar.closed and calendar.open: each a date
// (YYYY-MM-DD), listed once, and in one of the two lists only. It returns
// the banking calendar they make.
func (c *Config) validateCalendar(bad func(key, format string, args ...any)) refund.Calendar {
	keys := map[refund.Date]string{} // the key of each day listed
	days := func(list string, in []string) []refund.Date {
		var out []refund.Date
		for i, s := range in {
			key := fmt.Sprintf("calendar.%s[%d]", list, i)
			t, err := time.Parse(time.DateOnly, strings.TrimSpace(s))
			if err != nil {
				bad(key, "%q: not a date (YYYY-MM-DD)", s)
				continue
			}
			d := refund.DateOf(t)
			if first, ok := keys[d]; ok {
				if strings.HasPrefix(first, "calendar."+list+"[") {
					bad(key, "%q: listed twice (also %s)", s, first)
				} else {
					bad(key, "%q: both closed and open (also %s)", s, first)
				}
				continue
			}
			keys[d] = key
			out = append(out, d)
		}
		return out
	}
	closed := days("closed", c.Calendar.Closed)
	open := days("open", c.Calendar.Open)
	cal, err := refund.NewCalendar(closed, open) // a day in both lists is reported above, and left out
	if err != nil {
		bad("calendar", "%v", err)
	}
	return cal
}

// validateLedger checks how postings are made and written: the mode, the
// format, and with subaccounts one for every account posted to.
func (c *Config) validateLedger(bad func(key, format string, args ...any)) {
	l := &c.Ledger
	switch l.Post {
	case "":
		l.Post = PostJournal
	case PostJournal, PostRelease:
	default:
		bad("ledger.post", "%q is not %s or %s", l.Post, PostJournal, PostRelease)
	}
	switch l.Format {
	case "":
		l.Format = FormatRefundd
	case FormatRefundd, FormatVismaCSV, FormatVismaJSON:
	default:
		bad("ledger.format", "%q is not %s, %s or %s", l.Format, FormatRefundd, FormatVismaCSV, FormatVismaJSON)
	}
	if (l.CurrencyGainAccount == "") != (l.CurrencyLossAccount == "") {
		bad("ledger.currency_gain_account", "give both currency accounts (ledger.currency_gain_account and ledger.currency_loss_account) or neither")
	}
	if len(l.Subaccounts) == 0 {
		return
	}
	if l.Format == FormatRefundd {
		bad("ledger.subaccounts", "only the Visma.net formats (ledger.format: %s or %s) carry subaccounts", FormatVismaCSV, FormatVismaJSON)
	}
	need := map[string]string{l.ReceivablesAccount: "ledger.receivables_account", l.ChargesAccount: "ledger.charges_account",
		l.CurrencyGainAccount: "ledger.currency_gain_account", l.CurrencyLossAccount: "ledger.currency_loss_account"}
	for i, d := range c.DebtorAccounts {
		need[d.LedgerAccount] = fmt.Sprintf("debtor_accounts[%d].ledger_account", i)
	}
	for _, acct := range slices.Sorted(maps.Keys(need)) {
		if acct != "" && strings.TrimSpace(l.Subaccounts[acct]) == "" {
			bad("ledger.subaccounts", "no subaccount for account %s (%s); with subaccounts every account refundd posts to needs one", acct, need[acct])
		}
	}
}

// validateSFTP checks the sftp section. With an address, everything a
// connection needs is required, the host key above all: there is no way
// to connect without checking it.
// schemaName is what store.schema may be: a lower-case identifier.
var schemaName = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`)

func (c *Config) validateStore(bad func(key, format string, args ...any)) {
	st := &c.Store
	switch st.Driver {
	case DriverSQLite:
		if st.URL != "" || st.Schema != "" {
			bad("store", "url and schema are for driver: postgres; the SQLite store is the file in paths.state")
		}
	case DriverPostgres:
		if st.URL == "" {
			bad("store.url", "required with driver: postgres, e.g. postgres://refundd@db.example:5432/refundd?sslmode=verify-full")
		}
		if !schemaName.MatchString(st.Schema) {
			bad("store.schema", "%q must be a lower-case identifier (a-z, 0-9, _), one per company, e.g. acme", st.Schema)
		}
		if c.Paths.Spool == "" {
			bad("paths.spool", "required with driver: postgres: work/ and archive/ must be on the folder both hosts share, not in paths.state")
		}
	default:
		bad("store.driver", "%q is not sqlite or postgres", st.Driver)
	}
	if st.StatementTimeout < 0 || st.IdleInTransactionTimeout < 0 {
		bad("store", "timeouts must not be negative")
	}
	if c.HA.Lease < time.Second {
		bad("ha.lease", "%v is too short: at least 1s (default 15s)", c.HA.Lease)
	}
	if c.HA.Poll <= 0 || c.HA.Poll >= c.HA.Lease {
		bad("ha.poll", "%v must be positive and shorter than ha.lease", c.HA.Poll)
	}
	if c.HA.Instance == "" || len(c.HA.Instance) > 200 {
		bad("ha.instance", "must name this instance (1 to 200 characters)")
	}
}

func (c *Config) validateSFTP(bad func(key, format string, args ...any)) {
	s := &c.SFTP
	if s.Address != "" {
		if err := sftpx.CheckAddress(s.Address); err != nil {
			bad("sftp.address", "%v", err)
		}
		if s.User == "" {
			bad("sftp.user", "required")
		}
		if s.PrivateKey == "" {
			bad("sftp.private_key", "required")
		}
		if s.KnownHosts == "" && len(s.HostKeyFingerprints) == 0 {
			bad("sftp.known_hosts", "known_hosts or host_key_fingerprints is required: the server's host key is always checked")
		}
		if s.UploadDir == "" {
			bad("sftp.upload_dir", "required")
		}
	}
	if s.DownloadArchiveDir != "" {
		switch {
		case s.DownloadDir == "":
			bad("sftp.download_archive_dir", "needs sftp.download_dir: there is nothing to archive without it")
		case path.Clean(s.DownloadArchiveDir) == path.Clean(s.DownloadDir):
			bad("sftp.download_archive_dir", "%q is sftp.download_dir itself; replies moved there would be fetched again", s.DownloadArchiveDir)
		}
	}
	if s.KnownHosts != "" && len(s.HostKeyFingerprints) > 0 {
		bad("sftp.host_key_fingerprints", "give known_hosts or host_key_fingerprints, not both")
	}
	for i, fp := range s.HostKeyFingerprints {
		if _, _, err := sftpx.ParseFingerprint(fp); err != nil {
			bad(fmt.Sprintf("sftp.host_key_fingerprints[%d]", i), "%v", err)
		}
	}
	n := 0
	for _, v := range []string{s.PassphraseEnv, s.PassphraseFile, s.PassphraseCredential} {
		if v != "" {
			n++
		}
	}
	if n > 1 {
		bad("sftp.passphrase_env", "give at most one of passphrase_env, passphrase_file and passphrase_credential")
	}
	if strings.Contains(s.PassphraseCredential, "/") {
		bad("sftp.passphrase_credential", "%q is the name of a systemd credential, not a path", s.PassphraseCredential)
	}
	if s.Timeout < time.Second {
		bad("sftp.timeout", "%s is too short: at least 1s", s.Timeout)
	}
	if s.TransferTimeout < time.Second {
		bad("sftp.transfer_timeout", "%s is too short: at least 1s", s.TransferTimeout)
	}
	if s.KeepAlive <= 0 || s.KeepAlive >= s.Timeout {
		bad("sftp.keepalive", "%s must be positive and shorter than sftp.timeout (%s)", s.KeepAlive, s.Timeout)
	}
	if err := sftpx.CheckTempPattern(s.TempPattern); err != nil {
		bad("sftp.temp_pattern", "%v", err)
	}
}

// indentJoin joins errs one per line, indented, for a readable report.
func indentJoin(errs []error) error {
	s := make([]string, len(errs))
	for i, e := range errs {
		s[i] = e.Error()
	}
	return errors.New(strings.Join(s, "\n  "))
}

func isCode(s string) bool {
	if len(s) < 1 || len(s) > 4 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 'A' || s[i] > 'Z' {
			return false
		}
	}
	return true
}

// Location returns the time zone whose calendar decides "today" for
// execution dates.
func (c *Config) Location() *time.Location {
	loc, err := time.LoadLocation(c.Pain001.Timezone)
	if err != nil {
		return time.UTC
	}
	return loc
}

// LedgerAccounts returns the general-ledger accounts of the postings
// refundd writes (ledger.receivables_account, ledger.charges_account).
func (c *Config) LedgerAccounts() refund.Ledger {
	return refund.Ledger{Receivables: c.Ledger.ReceivablesAccount, Charges: c.Ledger.ChargesAccount, Release: c.Ledger.Post == PostRelease,
		CurrencyGain: c.Ledger.CurrencyGainAccount, CurrencyLoss: c.Ledger.CurrencyLossAccount}
}

// BankingCalendar returns the banking calendar execution dates follow:
// the built-in one corrected by calendar.closed and calendar.open.
func (c *Config) BankingCalendar() refund.Calendar { return c.rules.Calendar }

// Rules returns the ERP's rules for refunds as configured, with today's date
// taken from now in the configured time zone.
func (c *Config) Rules(now time.Time) *refund.Rules {
	r := c.rules
	r.Today = refund.DateOf(now.In(c.Location()))
	return &r
}

// SFTPConfig returns the configuration of the connection to AutoPay.
func (c *Config) SFTPConfig() sftpx.Config {
	s := c.SFTP
	return sftpx.Config{
		Address:              s.Address,
		User:                 s.User,
		PrivateKeyFile:       s.PrivateKey,
		PassphraseEnv:        s.PassphraseEnv,
		PassphraseFile:       s.PassphraseFile,
		PassphraseCredential: s.PassphraseCredential,
		KnownHostsFile:       s.KnownHosts,
		HostKeyFingerprints:  s.HostKeyFingerprints,
		Timeout:              s.Timeout,
		TransferTimeout:      s.TransferTimeout,
		KeepAlive:            s.KeepAlive,
		TempPattern:          s.TempPattern,
		MaxDownload:          c.Limits.MaxReplyBytes(),
	}
}

// Pain001Version is the pain.001 version refundd writes (pain001.version).
func (c *Config) Pain001Version() pain001.Version { return c.version }
