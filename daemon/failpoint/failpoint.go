// Package failpoint holds the crash points of refundd: named places at the
// step boundaries of the pipelines where a test can have the process
// killed on the spot (SIGKILL to itself: no deferred function, no flush,
// no clean-up runs), to prove that a restart finds a consistent state.
//
// The points are armed only by the environment, read once when the
// program starts; that registry is the package's only global state:
//
//	REFUNDD_FAILPOINTS="name[,name…]"        kill at the first hit of any named point
//	REFUNDD_FAILPOINTS="random:SEED:PERCENT" kill at any point with PERCENT % chance
//	REFUNDD_FAILPOINTS="stop:name"           stop (SIGSTOP) at the first hit of the point, once
//
// PERCENT may have a fraction ("0.5"). Without the variable every Hit is a
// nil check and nothing else.
//
// A mutation is a deliberately broken variant of the daemon compiled in
// for the test that proves the crash test can see a bug. It is honoured
// only when REFUNDD_TEST_MUTATIONS=1 is set as well:
//
//	REFUNDD_MUTATION="name[,name…]"
package failpoint

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// Name names a crash point.
type Name string

// The crash points, in the order a batch and a reply meet them.
const (
	// BeforeIntent: a batch file is claimed and recorded, its pain.001 not
	// yet rendered nor the upload intent committed.
	BeforeIntent Name = "before-intent"
	// IntentRendered: the pain.001 is durable in the outbox, the intent not
	// yet committed.
	IntentRendered Name = "intent-rendered"
	// AfterIntent: the upload intent is committed, the batch file not yet
	// archived.
	AfterIntent Name = "after-intent"
	// BatchFileFinished: the batch file is recorded done, not yet archived.
	BatchFileFinished Name = "batch-file-finished"
	// BeforeUpload: the remote folder was looked at, no upload attempt
	// recorded and no byte sent yet.
	BeforeUpload Name = "before-upload"
	// AttemptRecorded: the upload attempt is recorded, no SFTP call of it
	// made yet.
	AttemptRecorded Name = "attempt-recorded"
	// BeforeRename: the pain.001 is complete in the attempt's temporary
	// file on the server, the rename to its final name not yet sent.
	BeforeRename Name = "before-rename"
	// DuringUpload: part of the pain.001 has been handed to the SFTP
	// client; the remote holds at most a temporary file.
	DuringUpload Name = "during-upload"
	// AfterRemoteRename: the upload is complete under its final remote
	// name; the outcome is not recorded.
	AfterRemoteRename Name = "after-remote-rename"
	// BeforeBatchStatus and AfterBatchStatus surround the commit of a
	// batch's status (sent, in doubt).
	BeforeBatchStatus Name = "before-batch-status"
	AfterBatchStatus  Name = "after-batch-status"
	// AfterDownload: a reply is fetched into a hidden local file, not yet
	// placed in the inbox.
	AfterDownload Name = "after-download"
	// AfterPlace: a reply is placed in the inbox, not yet taken away on
	// the server.
	AfterPlace Name = "after-place"
	// ReplyClaimed: a reply is claimed into work/, nothing recorded for it
	// yet.
	ReplyClaimed Name = "reply-claimed"
	// ReplyParsed: a reply is read and checked to its end, no file for
	// the ERP written yet.
	ReplyParsed Name = "reply-parsed"
	// DuringLedgerWrite: part of a file for the ERP is in its temporary
	// file.
	DuringLedgerWrite Name = "during-ledger-write"
	// PostingsFenced: a postings file is complete in its temporary file
	// and the lease was checked; it is not yet under its final name.
	PostingsFenced Name = "postings-fenced"
	// AfterLedgerWrite: a file for the ERP is durable under its final
	// name; the next one (or the store) not yet written.
	AfterLedgerWrite Name = "after-ledger-write"
	// BeforeApply and AfterApply surround the transaction that applies a
	// reply to the store; after it the reply is not yet archived.
	BeforeApply Name = "before-apply"
	AfterApply  Name = "after-apply"
	// InWriteTx: a write transaction of the state store has locked the
	// lease row (PostgreSQL) and changed nothing yet.
	InWriteTx Name = "in-write-tx"
)

// Names returns every crash point.
func Names() []Name {
	return []Name{BeforeIntent, IntentRendered, AfterIntent, BatchFileFinished, BeforeUpload, AttemptRecorded, DuringUpload,
		BeforeRename, AfterRemoteRename, BeforeBatchStatus, AfterBatchStatus, AfterDownload, AfterPlace, ReplyClaimed, ReplyParsed,
		DuringLedgerWrite, PostingsFenced, AfterLedgerWrite, BeforeApply, AfterApply, InWriteTx}
}

// Mutation names a deliberately broken variant.
type Mutation string

// The mutations.
const (
	// OutcomeBeforeUpload records a batch as sent before its pain.001 is
	// uploaded: a crash in between loses the payment.
	OutcomeBeforeUpload Mutation = "outcome-before-upload"
	// MissingIsNotUploaded settles an interrupted upload attempt whose
	// file is on the server neither under its final nor its temporary
	// name as never uploaded, and uploads it again: a server that takes
	// files away (as AutoPay does) then receives the batch twice.
	MissingIsNotUploaded Mutation = "missing-is-not-uploaded"
)

// Mutations returns every mutation.
func Mutations() []Mutation { return []Mutation{OutcomeBeforeUpload, MissingIsNotUploaded} }

// The environment variables.
const (
	EnvFailpoints    = "REFUNDD_FAILPOINTS"
	EnvMutation      = "REFUNDD_MUTATION"
	EnvTestMutations = "REFUNDD_TEST_MUTATIONS"
)

// registry is what the environment armed.
type registry struct {
	names     map[Name]bool
	stops     map[Name]bool // stop rather than kill, at the first hit
	mu        sync.Mutex
	rnd       *rand.Rand // random mode when not nil
	percent   float64
	mutations map[Mutation]bool
}

// armed is the registry read from the environment at start; nil when
// nothing is armed. loadErr is the error of a variable that could not be
// read.
var armed, loadErr = load(os.Getenv)

// ErrSpec is wrapped by the error of a variable that cannot be read.
var ErrSpec = errors.New("invalid failpoint setting")

// Check returns the error of an environment variable of this package that
// could not be read; a program calls it at start and refuses to run on
// one.
func Check() error { return loadErr }

// Hit kills the process when the point n is armed. Disarmed, it costs a
// nil check.
func Hit(n Name) {
	if armed == nil {
		return
	}
	armed.hit(n)
}

// Mutated reports whether the mutation m is on (see the package comment).
func Mutated(m Mutation) bool {
	return armed != nil && armed.mutations[m]
}

func (r *registry) hit(n Name) {
	if r.names[n] {
		kill(n)
	}
	r.mu.Lock()
	stop := r.stops[n]
	delete(r.stops, n)
	r.mu.Unlock()
	if stop {
		fmt.Fprintf(os.Stderr, "failpoint %s: stopping the process\n", n)
		stopSelf()
	}
	if r.rnd == nil {
		return
	}
	r.mu.Lock()
	x := r.rnd.Float64() * 100
	r.mu.Unlock()
	if x < r.percent {
		kill(n)
	}
}

// kill writes the point to stderr and kills the process with SIGKILL.
func kill(n Name) {
	fmt.Fprintf(os.Stderr, "failpoint %s: killing the process\n", n)
	killSelf()
}

// load reads the registry from the environment through getenv.
func load(getenv func(string) string) (*registry, error) {
	r := &registry{names: map[Name]bool{}, stops: map[Name]bool{}, mutations: map[Mutation]bool{}}
	used := false
	if spec := strings.TrimSpace(getenv(EnvFailpoints)); spec != "" {
		used = true
		if rest, ok := strings.CutPrefix(spec, "random:"); ok {
			seed, pct, ok := strings.Cut(rest, ":")
			s, err1 := strconv.ParseUint(seed, 10, 64)
			p, err2 := strconv.ParseFloat(pct, 64)
			if !ok || err1 != nil || err2 != nil || p < 0 || p > 100 {
				return nil, fmt.Errorf("read %s %q: %w: want random:SEED:PERCENT", EnvFailpoints, spec, ErrSpec)
			}
			r.rnd, r.percent = rand.New(rand.NewPCG(s, s^0x9e3779b97f4a7c15)), p
		} else {
			for f := range strings.SplitSeq(spec, ",") {
				f, stop := strings.CutPrefix(strings.TrimSpace(f), "stop:")
				n := Name(f)
				if !slices.Contains(Names(), n) {
					return nil, fmt.Errorf("read %s %q: %w: no point %q", EnvFailpoints, spec, ErrSpec, n)
				}
				if stop {
					r.stops[n] = true
				} else {
					r.names[n] = true
				}
			}
		}
	}
	if spec := strings.TrimSpace(getenv(EnvMutation)); spec != "" && getenv(EnvTestMutations) == "1" {
		used = true
		for f := range strings.SplitSeq(spec, ",") {
			m := Mutation(strings.TrimSpace(f))
			if !slices.Contains(Mutations(), m) {
				return nil, fmt.Errorf("read %s %q: %w: no mutation %q", EnvMutation, spec, ErrSpec, m)
			}
			r.mutations[m] = true
		}
	}
	if !used {
		return nil, nil
	}
	return r, nil
}
