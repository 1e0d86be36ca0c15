package sandbox

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"
	"golang.org/x/crypto/ssh"

	"refundd/sftpx"
)

// The files and folders of a sandbox working folder.
const (
	ConfigFile    = "refundd.yaml"
	ClientKeyFile = "keys/id_ed25519"
	HostKeyFile   = "keys/host_ed25519"
	KnownHosts    = "keys/known_hosts"
	ExampleBatch  = "example-batch.csv"
	// AutoPayDir is the folder the SFTP stand-in serves as "/", with the
	// upload folder inbound/ and the download folder outbound/.
	AutoPayDir = "autopay"
	// BankStateFile lists the uploads the bank has answered in full.
	BankStateFile = "bank-answered.txt"
	// BankTakenDir is where the bank keeps the files it took away from
	// the upload folder, outside AutoPayDir.
	BankTakenDir = "bank-taken"
)

// The example batch's number and its refunds' reference numbers.
const (
	ExampleBatchNumber = "SBX-0001"
	ExampleRejected    = "PP20003" // to AccountClosed
	ExampleReturned    = "CN20004" // to AccountReturned
	ExamplePending     = "CN20005" // to AccountPending
)

const user = "refundd"

// DefaultSandboxTakeAfter is the time the sandbox's bank leaves a
// complete upload in the upload folder before it takes it away.
const DefaultSandboxTakeAfter = time.Second

// Config configures a sandbox.
type Config struct {
	// Dir is the working folder; it is created with everything in it
	// when it does not hold a sandbox yet.
	Dir string
	// Delay is the bank's time between steps; 0 means DefaultDelay.
	Delay time.Duration
	// TakeAfter is the time a complete upload stays in the upload folder
	// before the bank takes it away; 0 means DefaultSandboxTakeAfter, a
	// negative value (TakeAtOnce) at once.
	TakeAfter time.Duration
	// Now is the clock of the example batch's dates and the bank's
	// replies; nil means time.Now.
	Now func() time.Time
	// Logger receives the bank's lines.
	Logger zerolog.Logger
	// Postings is the format of the postings written for the ERP
	// (ledger.format): "" or "refundd", "visma-csv" or "visma-json".
	Postings string
}

// Sandbox is an AutoPay stand-in at work: an SFTP server on 127.0.0.1 and
// a simulated bank, with a working folder that has a configuration for
// refundd pointing at them.
type Sandbox struct {
	// Dir is the working folder and Config its refundd configuration file.
	Dir, Config string
	// Created is true when Start created the working folder, and with it
	// the example batch in the export folder.
	Created bool
	// Bank is the simulated bank.
	Bank *Bank

	srv    *sftpx.Server
	cancel context.CancelFunc
	wg     sync.WaitGroup
	errMu  sync.Mutex
	err    error
}

// Start prepares the working folder (keys, configuration, folders, and on
// first use the example batch) and starts the SFTP server and the bank.
// The configuration is written again on every start, with the server's
// address. Close stops them.
func Start(cfg Config) (*Sandbox, error) {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	dir, err := filepath.Abs(cfg.Dir)
	if err != nil {
		return nil, fmt.Errorf("start sandbox %s: %w", cfg.Dir, err)
	}
	sb := &Sandbox{Dir: dir, Config: filepath.Join(dir, ConfigFile)}
	if _, err := os.Stat(sb.Config); errors.Is(err, fs.ErrNotExist) {
		sb.Created = true
	}
	for _, d := range []string{"keys", "export", "inbox", "import", "state", BankTakenDir,
		filepath.Join(AutoPayDir, "inbound"), filepath.Join(AutoPayDir, "outbound")} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o700); err != nil {
			return nil, fmt.Errorf("start sandbox: %w", err)
		}
	}
	client, err := loadOrCreateKey(filepath.Join(dir, ClientKeyFile))
	if err != nil {
		return nil, fmt.Errorf("start sandbox: client key: %w", err)
	}
	host, err := loadOrCreateKey(filepath.Join(dir, HostKeyFile))
	if err != nil {
		return nil, fmt.Errorf("start sandbox: host key: %w", err)
	}
	srv, err := sftpx.StartServer("127.0.0.1:0", sftpx.ServerConfig{Root: filepath.Join(dir, AutoPayDir),
		HostKey: host, AuthorizedKeys: []ssh.PublicKey{client.PublicKey()}, User: user})
	if err != nil {
		return nil, fmt.Errorf("start sandbox: %w", err)
	}
	sb.srv = srv
	if err := sb.writeConfig(host.PublicKey(), cfg.Postings); err != nil {
		srv.Close()
		return nil, err
	}
	if sb.Created {
		if err := writeExampleBatch(dir, cfg.Now()); err != nil {
			srv.Close()
			return nil, err
		}
	}
	if cfg.TakeAfter == 0 {
		cfg.TakeAfter = DefaultSandboxTakeAfter
	}
	sb.Bank = NewBank(BankConfig{UploadDir: filepath.Join(dir, AutoPayDir, "inbound"),
		DownloadDir: filepath.Join(dir, AutoPayDir, "outbound"), TakenDir: filepath.Join(dir, BankTakenDir),
		TakeAfter: cfg.TakeAfter, Delay: cfg.Delay, Now: cfg.Now, Logger: cfg.Logger,
		StateFile: filepath.Join(dir, BankStateFile)})
	ctx, cancel := context.WithCancel(context.Background())
	sb.cancel = cancel
	sb.wg.Go(func() {
		if err := sb.Bank.Run(ctx); err != nil {
			cfg.Logger.Error().Err(err).Str("component", "bank").Msg("the simulated bank stopped")
			sb.errMu.Lock()
			sb.err = err
			sb.errMu.Unlock()
		}
	})
	return sb, nil
}

// Addr returns the address of the SFTP server.
func (sb *Sandbox) Addr() string { return sb.srv.Addr() }

// Err returns the error that stopped the bank, nil while it works.
func (sb *Sandbox) Err() error {
	sb.errMu.Lock()
	defer sb.errMu.Unlock()
	return sb.err
}

// Close stops the bank and the SFTP server.
func (sb *Sandbox) Close() error {
	sb.cancel()
	sb.wg.Wait()
	return sb.srv.Close()
}

// Path returns the path of name in the working folder.
func (sb *Sandbox) Path(name string) string { return filepath.Join(sb.Dir, name) }

// loadOrCreateKey reads the ed25519 private key at path, creating it
// first when there is none.
func loadOrCreateKey(path string) (ssh.Signer, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		_, k, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return nil, err
		}
		block, err := ssh.MarshalPrivateKey(k, "refundd sandbox")
		if err != nil {
			return nil, err
		}
		data = pem.EncodeToMemory(block)
		if err := os.WriteFile(path, data, 0o600); err != nil {
			return nil, err
		}
	} else if err != nil {
		return nil, err
	}
	return ssh.ParsePrivateKey(data)
}

// knownHostsLine formats a known_hosts line for addr.
func knownHostsLine(addr string, k ssh.PublicKey) string {
	host, port, _ := net.SplitHostPort(addr)
	if port != "22" {
		host = "[" + host + "]:" + port
	}
	return host + " " + strings.TrimSpace(string(ssh.MarshalAuthorizedKey(k)))
}

// configTemplate is the sandbox's refundd configuration; the %s are the
// SFTP server's address and the ledger's format (ledgerFormat).
const configTemplate = `# refundd configuration of the sandbox (refundd sandbox writes it again on
# every start, with the address of its AutoPay stand-in).
company: {name: "Sandbox Handel AS", org_number: "987654325"}
debtor_accounts:
  - {id: main, account: "86011117947", bic: DNBANOKK, currency: NOK, ledger_account: "1920"}
payment_methods:
  - {id: AUTOPAY, batch_payment: true, account_types: [BBAN, IBAN], debtor_account: main}
message: {prefix: "Refusjon"}
pain001: {version: "001.001.03", past_dates: next-banking-day, batch_booking: true}
paths: {export: export, inbox: inbox, import: import, state: state}
watch: {rescan: "@every 1s", stable_for: 200ms}
sftp:
  address: "%s"
  user: ` + user + `
  private_key: ` + ClientKeyFile + `
  known_hosts: ` + KnownHosts + `
  upload_dir: /inbound
  download_dir: /outbound
  download_schedule: "@every 1s"
  timeout: 10s
ledger: {receivables_account: "1500", charges_account: "7770"%s}
log: {level: info, format: console}
`

// ledgerFormat is the part of the sandbox's ledger section that selects
// the postings format: none for refundd's own, and for Visma.net's a
// branch, a ledger and subaccounts.
func ledgerFormat(format string) string {
	switch format {
	case "", "refundd":
		return ""
	}
	return fmt.Sprintf(`, format: %s, branch: "1", ledger: "1", subaccounts: {"1500": "0", "1920": "0", "7770": "0"}`, format)
}

// writeConfig writes known_hosts and the configuration for the server's
// address and the postings format.
func (sb *Sandbox) writeConfig(host ssh.PublicKey, postings string) error {
	addr := sb.srv.Addr()
	kh := knownHostsLine(addr, host) + "\n"
	if err := os.WriteFile(filepath.Join(sb.Dir, KnownHosts), []byte(kh), 0o600); err != nil {
		return fmt.Errorf("start sandbox: %w", err)
	}
	if err := os.WriteFile(sb.Config, fmt.Appendf(nil, configTemplate, addr, ledgerFormat(postings)), 0o600); err != nil {
		return fmt.Errorf("start sandbox: %w", err)
	}
	return nil
}

// writeExampleBatch writes the example batch into the export folder, and
// a copy into the working folder to drop again.
func writeExampleBatch(dir string, now time.Time) error {
	date := now.Format("2006-01-02")
	rows := []string{
		"Batch;DocType;RefNbr;CustomerID;CustomerName;PaymentMethod;AccountType;Account;BIC;Country;Amount;Currency;PaymentDate;CustomerOrderNbr;PaymentRef",
		"SBX-0001;CreditNote;CN20001;C2001;Kari Nordmann;AUTOPAY;BBAN;1234 56 78903;;NO;499,00;NOK;" + date + ";SO-7001;",
		"SBX-0001;CreditNote;CN20002;C2002;Ola Hansen;AUTOPAY;BBAN;1503 12 34562;;NO;1 250,00;NOK;" + date + ";SO-7002;",
		"SBX-0001;Prepayment;PP20003;C2003;Stengt Konto AS;AUTOPAY;BBAN;9710.00.00044;;NO;300,00;NOK;" + date + ";;INV-7003",
		"SBX-0001;CreditNote;CN20004;C2004;Retur Hansen;AUTOPAY;BBAN;9710.00.00052;;NO;780,50;NOK;" + date + ";SO-7004;",
		"SBX-0001;CreditNote;CN20005;C2005;Venter Berg;AUTOPAY;BBAN;9710.00.00060;;NO;95,00;NOK;" + date + ";SO-7005;",
	}
	data := []byte(strings.Join(rows, "\n") + "\n")
	if err := os.WriteFile(filepath.Join(dir, ExampleBatch), data, 0o644); err != nil {
		return fmt.Errorf("write example batch: %w", err)
	}
	tmp := filepath.Join(dir, "export", "."+ExampleBatch+".tmp")
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return fmt.Errorf("write example batch: %w", err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, "export", ExampleBatch)); err != nil {
		return fmt.Errorf("write example batch: %w", err)
	}
	return nil
}
