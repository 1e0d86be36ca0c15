package config

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestNotifyWebhooks: the documented keys load, with their defaults and
// the secret read; each mistake is reported naming its key.
func TestNotifyWebhooks(t *testing.T) {
	base, err := os.ReadFile("../testdata/refundd.yaml")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	secret := filepath.Join(dir, "webhook.secret")
	if err := os.WriteFile(secret, []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	open := filepath.Join(dir, "open.secret")
	if err := os.WriteFile(open, []byte("s3cret"), 0o644); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "empty.secret")
	if err := os.WriteFile(empty, []byte("\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	parse := func(notify string) (*Config, error) {
		return Parse(bytes.NewReader(append(bytes.Clone(base), notify...)), dir)
	}

	c, err := parse(`notify:
  webhooks:
    - url: "https://erp.example/hooks/refundd"
      secret_file: webhook.secret
      events: [refund-rejected, refund-returned, batch-rejected, batch-in-doubt, alarm]
`)
	if err != nil {
		t.Fatal(err)
	}
	w := c.Notify.Webhooks[0]
	if w.Name != "erp.example" || string(w.Secret) != "s3cret" || w.SecretFile != secret || len(w.Events) != 5 ||
		w.Timeout != DefaultWebhookTimeout || w.RetryMin != DefaultWebhookRetryMin || w.RetryMax != DefaultWebhookRetryMax {
		t.Errorf("webhook = %+v", w)
	}
	c, err = parse(`notify: {status_url: "http://127.0.0.1:9464/status", webhooks: [{name: local, url: "http://127.0.0.1:8080/h", secret_file: webhook.secret, events: [alarm], timeout: 2s, retry_min: 100ms, retry_max: 1s}]}
`)
	if err != nil {
		t.Fatal(err)
	}
	if w := c.Notify.Webhooks[0]; w.Name != "local" || w.Timeout != 2*time.Second || w.RetryMin != 100*time.Millisecond || w.RetryMax != time.Second {
		t.Errorf("webhook = %+v", w)
	}

	for _, tc := range []struct {
		name, notify string
		want         []string
	}{
		{"http off loopback", `{url: "http://erp.example/h", secret_file: webhook.secret, events: [alarm]}`,
			[]string{`notify.webhooks[0].url: "http://erp.example/h": http only to a loopback address`}},
		{"another scheme", `{url: "ftp://erp.example/h", secret_file: webhook.secret, events: [alarm]}`,
			[]string{`notify.webhooks[0].url: "ftp://erp.example/h": the scheme must be https`}},
		{"no url", `{secret_file: webhook.secret, events: [alarm]}`, []string{`notify.webhooks[0].url: required`}},
		{"a password in the url", `{url: "https://u:p@erp.example/h", secret_file: webhook.secret, events: [alarm]}`,
			[]string{`notify.webhooks[0].url: "https://erp.example/h" carries a user or password`}},
		{"no secret", `{url: "https://erp.example/h", events: [alarm]}`, []string{`notify.webhooks[0].secret_file: required`}},
		{"a missing secret", `{url: "https://erp.example/h", secret_file: nope.secret, events: [alarm]}`,
			[]string{`notify.webhooks[0].secret_file: open ` + filepath.Join(dir, "nope.secret") + `: no such file`}},
		{"a secret others read", `{url: "https://erp.example/h", secret_file: open.secret, events: [alarm]}`,
			[]string{`notify.webhooks[0].secret_file: ` + open + ` is readable or writable by every user (mode 0644)`}},
		{"an empty secret", `{url: "https://erp.example/h", secret_file: empty.secret, events: [alarm]}`,
			[]string{`notify.webhooks[0].secret_file: ` + empty + ` is empty`}},
		{"a folder as secret", `{url: "https://erp.example/h", secret_file: ., events: [alarm]}`,
			[]string{`notify.webhooks[0].secret_file: ` + dir + ` is not a regular file`}},
		{"no events", `{url: "https://erp.example/h", secret_file: webhook.secret}`,
			[]string{`notify.webhooks[0].events: list at least one of refund-rejected`}},
		{"an unknown event", `{url: "https://erp.example/h", secret_file: webhook.secret, events: [alarm, refund-booked, alarm]}`,
			[]string{`notify.webhooks[0].events[1]: "refund-booked" is not one of refund-rejected, refund-returned, batch-rejected, batch-in-doubt, alarm`,
				`notify.webhooks[0].events[2]: "alarm" is listed twice`}},
		{"one receiver twice", `{url: "https://erp.example/h", secret_file: webhook.secret, events: [alarm]}, {name: b, url: "https://erp.example/h", secret_file: webhook.secret, events: [batch-rejected]}`,
			[]string{`notify.webhooks[1].url: "https://erp.example/h" is also notify.webhooks[0]`}},
		{"a name twice", `{url: "https://erp.example/a", secret_file: webhook.secret, events: [alarm]}, {url: "https://erp.example/b", secret_file: webhook.secret, events: [alarm]}`,
			[]string{`notify.webhooks[1].name: "erp.example" is also the name of notify.webhooks[0]`}},
		{"bad times", `{name: "a b", url: "https://erp.example/h", secret_file: webhook.secret, events: [alarm], timeout: 1ms, retry_min: 1s, retry_max: 500ms}`,
			[]string{`notify.webhooks[0].name: "a b"`, `notify.webhooks[0].timeout: 1ms: from 100ms to 5m`, `notify.webhooks[0].retry_max: 500ms is shorter than retry_min (1s)`}},
		{"unknown key", `{url: "https://erp.example/h", secret: x, secret_file: webhook.secret, events: [alarm]}`,
			[]string{`field secret not found`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parse("notify:\n  webhooks: [" + tc.notify + "]\n")
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q\ndoes not say %q", err, w)
				}
			}
		})
	}
	if _, err := parse("notify: {status_url: \"erp.example/status\"}\n"); err == nil || !strings.Contains(err.Error(), "notify.status_url") {
		t.Errorf("a status_url without scheme: %v", err)
	}
}
