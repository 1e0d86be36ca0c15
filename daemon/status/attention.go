package status

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"refundd/daemon/obs"
	"refundd/daemon/refund"
	"refundd/daemon/store"
)

// Options are what the status page shows beside the store's content.
type Options struct {
	// Self, when not nil, names the instance that serves the page and its
	// role; the page's header shows them beside the leader.
	Self Self
	// Health, when not nil, is the daemon's health (the health strip and
	// the overdue alarms of "needs attention").
	Health func() obs.Health
	// Failed are the failed/ folders whose files "needs attention" lists.
	Failed []FailedDir
	// Config is the configuration file that the commands shown to the
	// operator name ("refundd rerelease -config FILE …"); "" shows FILE.
	Config string
}

// FailedDir is a folder of files that refundd refused.
type FailedDir struct {
	// Kind says which files they are: "export" (ERP batch files) or
	// "inbox" (bank replies).
	Kind string
	Dir  string
}

// AttentionStore is what a Store also offers for "needs attention"
// (*store.Store does).
type AttentionStore interface {
	NotPaidAgain(ctx context.Context, limit int) ([]store.Refund, error)
	ExceptionsSince(ctx context.Context, since time.Time, limit int) ([]store.ExceptionEntry, error)
	BatchesByStatus(ctx context.Context, statuses ...store.BatchStatus) ([]store.Batch, error)
}

// Limits of "needs attention": the most items of each kind it lists, and
// how far back it lists the exceptions written for the ERP.
const (
	attentionMax     = 200
	exceptionsWithin = 7 * 24 * time.Hour
)

// Attention is what needs an operator now.
type Attention struct {
	// Refunds are refunds the bank rejected or returned that were not
	// paid again, each with the command that re-releases it.
	Refunds []Unpaid `json:"refunds"`
	// MoreRefunds reports that there are more than those listed.
	MoreRefunds bool `json:"moreRefunds,omitempty"`
	// InDoubt are the batches whose upload's outcome is unknown.
	InDoubt []InDoubt `json:"inDoubt"`
	// Exceptions are the entries of the bank written to an exceptions
	// file for the ERP in the last week.
	Exceptions []Exception `json:"exceptions"`
	// Failed are the files refundd refused, in its failed/ folders.
	Failed []FailedFile `json:"failed"`
	// Overdue are the answers from the bank that are overdue (alarms).
	Overdue []obs.Overdue `json:"overdue"`
	// Webhooks are the webhooks whose last delivery failed while events
	// wait for them.
	Webhooks []obs.WebhookHealth `json:"webhooks"`
}

// Empty reports whether nothing needs attention.
func (a *Attention) Empty() bool {
	return len(a.Refunds) == 0 && len(a.InDoubt) == 0 && len(a.Exceptions) == 0 && len(a.Failed) == 0 && len(a.Overdue) == 0 &&
		len(a.Webhooks) == 0
}

// Unpaid is a refund that the bank rejected or returned and that was not
// re-released.
type Unpaid struct {
	Refund
	// Words is the bank's reason in words.
	Words string `json:"reasonWords"`
	// Command re-releases the refund in a new batch.
	Command string `json:"command"`
}

// InDoubt is a batch whose upload's outcome is unknown.
type InDoubt struct {
	Batch      string `json:"batch"`
	MsgID      string `json:"msgId"`
	RemoteName string `json:"remoteName"`
	Reason     string `json:"reason"`
	// Check says what the operator checks; Sent and Release are the
	// commands for each answer.
	Check   string `json:"check"`
	Sent    string `json:"sent"`
	Release string `json:"release"`
}

// Exception is an entry written to an exceptions file for the ERP.
type Exception struct {
	File string `json:"file"`
	// Account is the bank account of the entry, masked ("pain.002" for
	// a line of a status report).
	Account    string    `json:"account"`
	BankRef    string    `json:"bankRef"`
	Tx         string    `json:"tx"`
	EndToEndID string    `json:"endToEndId,omitempty"`
	Applied    time.Time `json:"applied"`
}

// FailedFile is a file in a failed/ folder.
type FailedFile struct {
	Kind string `json:"kind"`
	Name string `json:"name"`
	// Reason is the first line of its .err file.
	Reason   string    `json:"reason"`
	Modified time.Time `json:"modified"`
}

// command writes an operator's command with the configuration file of o.
func (o Options) command(verb string, args ...string) string {
	cfg := o.Config
	if cfg == "" {
		cfg = "FILE"
	}
	return strings.Join(append([]string{"refundd", verb, "-config", shellWord(cfg)}, args...), " ")
}

// shellWord quotes s for a POSIX shell when it needs it.
func shellWord(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("/._-+=:@,", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// NeedsAttention reads what needs an operator now: from the store when it
// offers it, from the failed/ folders of o, and the overdue alarms of the
// daemon's health h (nil for none).
func NeedsAttention(ctx context.Context, s Store, o Options, h *obs.Health, now time.Time) (*Attention, error) {
	a := &Attention{Refunds: []Unpaid{}, InDoubt: []InDoubt{}, Exceptions: []Exception{}, Failed: []FailedFile{}, Overdue: []obs.Overdue{},
		Webhooks: []obs.WebhookHealth{}}
	if as, ok := s.(AttentionStore); ok {
		rs, err := as.NotPaidAgain(ctx, attentionMax+1)
		if err != nil {
			return nil, fmt.Errorf("status: %w", err)
		}
		if len(rs) > attentionMax {
			rs, a.MoreRefunds = rs[:attentionMax], true
		}
		for _, r := range rs {
			a.Refunds = append(a.Refunds, Unpaid{Refund: refundOf(r, nil), Words: ReasonWords(r.ReasonCode, r.ReasonText),
				Command: o.command("rerelease", r.EndToEndID)})
		}
		slices.SortFunc(a.Refunds, func(x, y Unpaid) int { return y.Updated.Compare(x.Updated) })
		bs, err := as.BatchesByStatus(ctx, store.BatchInDoubt)
		if err != nil {
			return nil, fmt.Errorf("status: %w", err)
		}
		for _, b := range bs {
			a.InDoubt = append(a.InDoubt, InDoubt{Batch: b.Number, MsgID: b.MsgID, RemoteName: b.RemoteName, Reason: b.Reason,
				Check: "Look in AutoPay (or ask the bank) whether the file " + b.RemoteName + " with MsgId " + b.MsgID +
					" arrived. refundd never uploads it again by itself.",
				Sent: o.command("resolve", "-sent", b.MsgID), Release: o.command("resolve", "-release", b.MsgID)})
		}
		xs, err := as.ExceptionsSince(ctx, now.Add(-exceptionsWithin), attentionMax)
		if err != nil {
			return nil, fmt.Errorf("status: %w", err)
		}
		for _, x := range xs {
			acct := x.Account
			if acct != "pain.002" {
				acct = refund.MaskAccount(acct)
			}
			a.Exceptions = append(a.Exceptions, Exception{File: x.File, Account: acct, BankRef: x.Entry, Tx: x.Tx,
				EndToEndID: x.EndToEndID, Applied: x.Applied})
		}
	}
	for _, d := range o.Failed {
		fs, err := failedFiles(d)
		if err != nil {
			return nil, fmt.Errorf("status: %w", err)
		}
		a.Failed = append(a.Failed, fs...)
	}
	slices.SortFunc(a.Failed, func(x, y FailedFile) int { return y.Modified.Compare(x.Modified) })
	if len(a.Failed) > attentionMax {
		a.Failed = a.Failed[:attentionMax]
	}
	if h != nil && h.Daemon != nil {
		a.Overdue = append(a.Overdue, h.Daemon.Overdue...)
		for _, w := range h.Daemon.Webhooks {
			if w.Failing && w.Pending > 0 {
				a.Webhooks = append(a.Webhooks, w)
			}
		}
	}
	return a, nil
}

// failedFiles lists the files refused into d, each with the first line of
// its .err file; an .err without its file (a reply refused on the
// server) is listed by the name it explains.
func failedFiles(d FailedDir) ([]FailedFile, error) {
	es, err := os.ReadDir(d.Dir)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	names := map[string]bool{}
	for _, e := range es {
		if e.Type().IsRegular() && !strings.HasPrefix(e.Name(), ".") {
			names[e.Name()] = true
		}
	}
	var out []FailedFile
	for name := range names {
		base, isErr := strings.CutSuffix(name, ".err")
		if isErr && names[base] {
			continue // listed with its file
		}
		if isErr {
			name = base
		}
		f := FailedFile{Kind: d.Kind, Name: name, Reason: firstLine(filepath.Join(d.Dir, name+".err"))}
		if fi, err := os.Stat(filepath.Join(d.Dir, name)); err == nil {
			f.Modified = fi.ModTime()
		} else if fi, err := os.Stat(filepath.Join(d.Dir, name+".err")); err == nil {
			f.Modified = fi.ModTime()
		}
		out = append(out, f)
	}
	return out, nil
}

// firstLine returns the first line of the file at path, "" when it cannot
// be read.
func firstLine(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 4096), 4096)
	if sc.Scan() {
		return strings.TrimSpace(sc.Text())
	}
	return ""
}

// reasonWords are the meanings of the ISO 20022 external status and
// return reason codes that banks give most often for credit transfers.
var reasonWords = map[string]string{
	"AC01": "account number invalid or missing",
	"AC03": "creditor account invalid",
	"AC04": "account closed",
	"AC06": "account blocked",
	"AG01": "transaction forbidden on this account",
	"AM04": "insufficient funds",
	"AM05": "duplicate payment",
	"AM09": "wrong amount",
	"AM10": "control sum wrong",
	"AM18": "number of transactions wrong",
	"BE01": "name does not match the account",
	"BE04": "creditor address missing",
	"CH03": "execution date too far ahead",
	"DT01": "invalid date",
	"DU01": "MsgId not unique (file sent before)",
	"DU02": "payment block not unique",
	"DU03": "transaction not unique",
	"DU04": "EndToEndId not unique",
	"DU05": "InstrId not unique",
	"FF01": "file format invalid",
	"MD06": "refund requested by the end customer",
	"MD07": "end customer deceased",
	"MS02": "reason not specified by the customer",
	"MS03": "reason not specified by the bank",
	"NARR": "see the bank's text",
	"RC01": "BIC invalid",
	"TM01": "received after the cut-off time",
}

// ReasonWords returns a bank's reason in words: the meaning of its code
// with the bank's own text when it says more.
func ReasonWords(code, text string) string {
	w := reasonWords[code]
	switch {
	case w == "" && text == "":
		return "no reason given"
	case w == "":
		return text
	case text == "" || strings.EqualFold(strings.TrimSpace(text), w):
		return w
	}
	return w + " (bank: " + text + ")"
}
