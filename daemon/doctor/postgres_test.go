package doctor

import (
	"errors"
	"strings"
	"testing"
	"time"

	"refundd/daemon/config"
	"refundd/daemon/store"
	"refundd/internal/pgtest"
)

// TestDoctorPostgres runs the doctor on a configuration with the
// PostgreSQL store: the store's checks pass against the test server (its
// sessions get both timeouts) and the shared folders are checked.
func TestDoctorPostgres(t *testing.T) {
	e := newDoctorEnv(t, nil)
	c, err := config.Load(e.Config)
	if err != nil {
		t.Fatal(err)
	}
	url, schema := pgtest.Schema(t)
	c.Store = config.Store{Driver: config.DriverPostgres, URL: url, Schema: schema,
		StatementTimeout: 10 * time.Second, IdleInTransactionTimeout: 5 * time.Second}
	c.Paths.Spool = t.TempDir()

	// Before the first run: the schema is not there, and the doctor does
	// not create it.
	var first []string
	for _, ch := range Run(t.Context(), c) {
		if !ch.OK() {
			t.Errorf("%s: %v", ch.Name, ch.Err)
		}
		if strings.HasPrefix(ch.Name, "store ") {
			first = append(first, ch.Detail)
		}
	}
	if len(first) != 1 || !strings.Contains(first[0], "does not exist yet") {
		t.Errorf("store checks before the first run: %q", first)
	}
	s, err := store.OpenPostgres(t.Context(), store.PostgresConfig{URL: url, Schema: schema, Existing: true})
	if !errors.Is(err, store.ErrNoSchema) {
		t.Fatalf("the doctor created the schema: %v", err)
	}
	if s, err = store.OpenPostgres(t.Context(), store.PostgresConfig{URL: url, Schema: schema}); err != nil { // as refundd run does
		t.Fatal(err)
	}
	s.Close()

	seen := map[string]bool{}
	for _, ch := range Run(t.Context(), c) {
		if !ch.OK() {
			t.Errorf("%s: %v", ch.Name, ch.Err)
		}
		seen[strings.Join(strings.Fields(ch.Name)[:min(2, len(strings.Fields(ch.Name)))], " ")] = true
		if strings.HasSuffix(ch.Name, " settings") && !strings.Contains(ch.Detail, "idle_in_transaction_session_timeout 5s") {
			t.Errorf("settings: %s", ch.Detail)
		}
	}
	for _, want := range []string{"store postgres", "shared folder"} {
		if !seen[want] {
			t.Errorf("no %q check", want)
		}
	}
}

func TestCheckSettings(t *testing.T) {
	good := map[string]string{"statement_timeout": "10s", "idle_in_transaction_session_timeout": "5s",
		"synchronous_commit": "on", "fsync": "on", "server_version": "15.18"}
	for _, tc := range []struct {
		name, key, value, want string
	}{
		{"good", "", "", ""},
		{"idle off", "idle_in_transaction_session_timeout", "0", "would block every takeover"},
		{"idle too long", "idle_in_transaction_session_timeout", "1min", "not shorter than ha.lease"},
		{"statement off", "statement_timeout", "0", "statement_timeout is 0"},
		{"fsync off", "fsync", "off", "fsync is off"},
		{"async commit", "synchronous_commit", "off", "synchronous_commit is off"},
		{"unreadable", "statement_timeout", "ten", "not a duration"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			set := map[string]string{}
			for k, v := range good {
				set[k] = v
			}
			if tc.key != "" {
				set[tc.key] = tc.value
			}
			_, err := checkSettings(set, 15*time.Second)
			switch {
			case tc.want == "" && err != nil:
				t.Fatal(err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("error %v; want it to say %q", err, tc.want)
			}
		})
	}
}
