package doctor

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"refundd/daemon/config"
	"refundd/daemon/store"
)

// doctorPostgres checks the PostgreSQL store of a company: that it opens
// (and migrates) its schema, who leads, and the server settings that
// exactly-once depends on; then the folders that both hosts share.
func doctorPostgres(ctx context.Context, c *config.Config, add func(name, detail string, err error) bool) {
	name := "store postgres schema " + c.Store.Schema
	defer checkSharedFolders(c, add)
	s, err := store.OpenPostgres(ctx, store.PostgresConfig{URL: c.Store.URL, Schema: c.Store.Schema,
		StatementTimeout: c.Store.StatementTimeout, IdleInTransactionTimeout: c.Store.IdleInTransactionTimeout, Existing: true})
	if errors.Is(err, store.ErrNoSchema) {
		// Not created by the doctor: a schema made here would let a first
		// run over an outbox with payments start afresh.
		add(name, "does not exist yet; refundd run creates it at its first start (run doctor again then, for the lease and the settings)", nil)
		return
	}
	if !add(name, "opens", err) {
		return
	}
	defer s.Close()
	v, err := s.Version(ctx)
	if err == nil {
		err = s.IntegrityCheck(ctx)
	}
	add(name+" schema", fmt.Sprintf("version %d, integrity check passed", v), err)
	l, err := s.Leader(ctx)
	detail := "no instance has led yet"
	if err == nil && l.Holder != "" {
		state := "lease expired"
		if l.Left > 0 {
			state = fmt.Sprintf("lease runs %s more", l.Left.Round(time.Second))
		}
		detail = fmt.Sprintf("%s leads at epoch %d (%s)", l.Holder, l.Epoch, state)
	}
	add(name+" lease", detail, err)
	set, err := s.ServerSettings(ctx)
	if err != nil {
		add(name+" settings", "", err)
		return
	}
	detail, err = checkSettings(set, c.HA.Lease)
	add(name+" settings", detail, err)
}

// checkSharedFolders checks the folders both hosts share (CheckShared).
func checkSharedFolders(c *config.Config, add func(name, detail string, err error) bool) {
	for _, f := range []struct{ key, path string }{
		{"paths.export", c.Paths.Export}, {"paths.inbox", c.Paths.Inbox}, {"paths.import", c.Paths.Import}, {"paths.spool", c.SpoolDir()},
	} {
		detail, err := CheckShared(f.path)
		add("shared folder "+f.key+" "+f.path, detail, err)
	}
}

// checkSettings checks the server settings: both timeouts set (the idle
// one shorter than the lease, so that a leader stopped inside a
// transaction loses its lock on the lease row before a standby gives up
// waiting), and commits durable.
func checkSettings(set map[string]string, lease time.Duration) (string, error) {
	var errs []error
	idle, err := pgDuration(set["idle_in_transaction_session_timeout"])
	switch {
	case err != nil:
		errs = append(errs, fmt.Errorf("idle_in_transaction_session_timeout: %w", err))
	case idle == 0:
		errs = append(errs, errors.New("idle_in_transaction_session_timeout is 0 (off): a leader stopped inside a transaction would block every takeover; set store.idle_in_transaction_timeout or ALTER ROLE … SET it"))
	case idle >= lease:
		errs = append(errs, fmt.Errorf("idle_in_transaction_session_timeout %s is not shorter than ha.lease %s", idle, lease))
	}
	stmt, err := pgDuration(set["statement_timeout"])
	switch {
	case err != nil:
		errs = append(errs, fmt.Errorf("statement_timeout: %w", err))
	case stmt == 0:
		errs = append(errs, errors.New("statement_timeout is 0 (off): a statement could wait without end; set store.statement_timeout"))
	}
	if set["fsync"] != "on" {
		errs = append(errs, fmt.Errorf("fsync is %s: a commit may be lost in a crash, and a lost commit can move the lease's epoch backwards", set["fsync"]))
	}
	switch set["synchronous_commit"] {
	case "on", "remote_apply", "remote_write":
	default:
		errs = append(errs, fmt.Errorf("synchronous_commit is %s: a commit reported to refundd may be lost in a crash; set it to on", set["synchronous_commit"]))
	}
	if err := errors.Join(errs...); err != nil {
		return "", err
	}
	return fmt.Sprintf("PostgreSQL %s; statement_timeout %s, idle_in_transaction_session_timeout %s, fsync on, synchronous_commit %s",
		set["server_version"], stmt, idle, set["synchronous_commit"]), nil
}

// pgDuration reads a duration as PostgreSQL shows one: "0", "500ms",
// "10s", "1min", "2h", "1d".
func pgDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	i := strings.IndexFunc(s, func(r rune) bool { return r < '0' || r > '9' })
	num, unit := s, ""
	if i >= 0 {
		num, unit = s[:i], s[i:]
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%q is not a duration", s)
	}
	per := map[string]time.Duration{"": time.Millisecond, "us": time.Microsecond, "ms": time.Millisecond, "s": time.Second,
		"min": time.Minute, "h": time.Hour, "d": 24 * time.Hour}[unit]
	if per == 0 {
		return 0, fmt.Errorf("%q has an unknown unit", s)
	}
	return time.Duration(n) * per, nil
}
