package main

import (
	"fmt"
	"io"
	"net/url"
	"regexp"
	"strings"

	"refundd/daemon"
	"refundd/daemon/config"
	"refundd/daemon/store"
)

// cmdBackup writes a checked copy of the SQLite state while the daemon
// runs; with the PostgreSQL store it says how to use pg_dump instead.
func cmdBackup(args []string, stdout, stderr io.Writer) int {
	var cf commonFlags
	fs := newFlagSet("backup", stderr, &cf, false)
	if !parse(fs, args, "usage: refundd backup -config FILE DEST\n\n"+
		"Writes a consistent copy of the state database (SQLite) to DEST while refundd\n"+
		"runs, without stopping it: the transactions committed before the copy began,\n"+
		"none after. The copy is written beside DEST under a temporary name, checked\n"+
		"(the integrity check refundd runs at start), synced and then renamed to DEST.\n"+
		"An existing DEST is never replaced. Prints the copy's schema version, number\n"+
		"of batches and size. With the PostgreSQL store it prints how to use pg_dump.\n\n", func() bool { return fs.NArg() == 1 }) {
		return exitUsage
	}
	s, err := cf.open(false)
	if err != nil {
		fmt.Fprintf(stderr, "refundd backup: %v\n", err)
		return exitFailure
	}
	defer s.close()
	if s.cfg.Postgres() {
		fmt.Fprintf(stderr, "refundd backup: %v\n%s", store.ErrBackupPostgres, pgDumpHint(s.cfg.Store))
		return exitFailure
	}
	st, err := daemon.OpenStore(s.ctx, s.cfg)
	if err != nil {
		fmt.Fprintf(stderr, "refundd backup: %v\n", err)
		return exitFailure
	}
	defer st.Close() // read only; the copy has its own file
	info, err := st.Backup(s.ctx, fs.Arg(0))
	if err != nil {
		fmt.Fprintf(stderr, "refundd backup: %v\n", err)
		return exitFailure
	}
	fmt.Fprintf(stdout, "%s: schema version %d, %d batches, %d bytes, integrity check passed\n",
		info.Path, info.Version, info.Batches, info.Size)
	return exitOK
}

// pgDumpHint says how to back up and restore the company's schema with
// PostgreSQL's own tools, with the configured connection (its password
// left out).
func pgDumpHint(st config.Store) string {
	u := withoutPassword(st.URL)
	dump := "refundd-" + st.Schema + ".dump"
	return fmt.Sprintf(`Back up the company's schema with pg_dump, while refundd runs (it reads one snapshot):

  pg_dump --schema=%[1]s --format=custom "%[2]s" > %[3]s

Restore it with pg_restore, refundd stopped on every host:

  pg_restore --clean --if-exists --dbname="%[2]s" %[3]s

Give the password as pg_dump and pg_restore take it (PGPASSWORD, ~/.pgpass); it is not shown here.
`, st.Schema, u, dump)
}

// keyPassword matches a password in a key=value connection string,
// quoted or not.
var keyPassword = regexp.MustCompile(`(^|\s)password\s*=\s*('([^'\\]|\\.)*'|\S*)`)

// withoutPassword returns the connection string s without its password,
// as a URL (postgres://user:secret@host/db?password=secret) or as
// key=value pairs.
func withoutPassword(s string) string {
	if strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://") {
		u, err := url.Parse(s)
		if err != nil {
			return "<the url of store.url>" // unparsable: show none of it
		}
		if u.User != nil {
			u.User = url.User(u.User.Username())
		}
		q := u.Query()
		if q.Has("password") {
			q.Del("password")
			u.RawQuery = q.Encode()
		}
		return u.String()
	}
	return strings.TrimSpace(keyPassword.ReplaceAllString(s, "$1"))
}
