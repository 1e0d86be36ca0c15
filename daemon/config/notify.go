package config

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Notify is what refundd announces unprompted, and to whom.
type Notify struct {
	// Webhooks are the receivers of the business events, each with the
	// events it takes.
	Webhooks []Webhook `yaml:"webhooks"`
	// StatusURL is the status page (its /status) as a receiver's reader
	// reaches it; each announcement then links to its batch there. ""
	// leaves the link out.
	StatusURL string `yaml:"status_url"`
}

// Webhook is one receiver of announcements: a JSON POST to URL for each
// event of Events, signed with the secret in SecretFile.
type Webhook struct {
	// Name names the receiver in logs and metrics (default: the URL's
	// host name).
	Name string `yaml:"name"`
	// URL is https, or http to a loopback address only.
	URL string `yaml:"url"`
	// SecretFile holds the signing secret: not readable by others, and
	// read again on every reload.
	SecretFile string `yaml:"secret_file"`
	// Events lists the events the receiver takes (WebhookEvents).
	Events []string `yaml:"events"`
	// Timeout bounds each request (default 10s).
	Timeout time.Duration `yaml:"timeout"`
	// RetryMin and RetryMax bound the wait before a failed delivery is
	// tried again; it doubles from RetryMin (defaults 5s and 10m).
	RetryMin time.Duration `yaml:"retry_min"`
	RetryMax time.Duration `yaml:"retry_max"`

	// Secret is the content of SecretFile, without a final line end.
	Secret []byte `yaml:"-"`
}

// WebhookEvents are the events a webhook may take, as notify.webhooks[].events
// names them: a refund rejected or returned by the bank, a batch rejected
// (by refundd's checks or by the bank), a batch in doubt, an alarm raised
// or cleared.
var WebhookEvents = []string{"refund-rejected", "refund-returned", "batch-rejected", "batch-in-doubt", "alarm"}

// Defaults of a webhook's timeout and retries.
const (
	DefaultWebhookTimeout  = 10 * time.Second
	DefaultWebhookRetryMin = 5 * time.Second
	DefaultWebhookRetryMax = 10 * time.Minute
)

// maxSecret bounds the size of a webhook secret file.
const maxSecret = 4096

// webhookName is what a webhook's name may be: it is a metric label.
var webhookName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$`)

// validateNotify checks the notify section, filling in its defaults and
// reading each webhook's secret.
func (c *Config) validateNotify(bad func(key, format string, args ...any)) {
	n := &c.Notify
	if n.StatusURL != "" {
		if u, err := url.Parse(n.StatusURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			bad("notify.status_url", "%q is not an http or https URL", n.StatusURL)
		}
	}
	urls, names := map[string]string{}, map[string]string{}
	for i := range n.Webhooks {
		w := &n.Webhooks[i]
		key := fmt.Sprintf("notify.webhooks[%d]", i)
		u, err := checkWebhookURL(w.URL)
		if err != nil {
			bad(key+".url", "%v", err)
		} else {
			if first, ok := urls[u.String()]; ok {
				bad(key+".url", "%q is also %s; give each receiver once, with all its events", w.URL, first)
			}
			urls[u.String()] = key
			if w.Name == "" {
				w.Name = u.Hostname()
			}
		}
		if w.Name != "" {
			if !webhookName.MatchString(w.Name) {
				bad(key+".name", "%q: letters, digits, '.', '_' and '-' only, at most 63", w.Name)
			} else if first, ok := names[w.Name]; ok {
				bad(key+".name", "%q is also the name of %s; give each webhook a name of its own", w.Name, first)
			}
			names[w.Name] = key
		}
		if w.SecretFile == "" {
			bad(key+".secret_file", "required: every request is signed")
		} else if secret, err := readSecret(w.SecretFile); err != nil {
			bad(key+".secret_file", "%v", err)
		} else {
			w.Secret = secret
		}
		if len(w.Events) == 0 {
			bad(key+".events", "list at least one of %s", strings.Join(WebhookEvents, ", "))
		}
		for j, e := range w.Events {
			switch {
			case !slices.Contains(WebhookEvents, e):
				bad(fmt.Sprintf("%s.events[%d]", key, j), "%q is not one of %s", e, strings.Join(WebhookEvents, ", "))
			case slices.Index(w.Events, e) != j:
				bad(fmt.Sprintf("%s.events[%d]", key, j), "%q is listed twice", e)
			}
		}
		if w.Timeout == 0 {
			w.Timeout = DefaultWebhookTimeout
		}
		if w.RetryMin == 0 {
			w.RetryMin = DefaultWebhookRetryMin
		}
		if w.RetryMax == 0 {
			w.RetryMax = max(DefaultWebhookRetryMax, w.RetryMin)
		}
		if w.Timeout < 100*time.Millisecond || w.Timeout > 5*time.Minute {
			bad(key+".timeout", "%s: from 100ms to 5m", w.Timeout)
		}
		if w.RetryMin < 10*time.Millisecond {
			bad(key+".retry_min", "%s is too short: at least 10ms", w.RetryMin)
		}
		if w.RetryMax < w.RetryMin {
			bad(key+".retry_max", "%s is shorter than retry_min (%s)", w.RetryMax, w.RetryMin)
		}
	}
}

// checkWebhookURL parses a webhook's URL: https, or http to a loopback
// address only (the body and its signature would cross the network in
// clear), with a host and without a user or password (the URL is logged).
func checkWebhookURL(s string) (*url.URL, error) {
	if s == "" {
		return nil, fmt.Errorf("required")
	}
	u, err := url.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("%q: %v", s, err)
	}
	switch {
	case u.Host == "" || u.Hostname() == "":
		return nil, fmt.Errorf("%q has no host", s)
	case u.User != nil:
		return nil, fmt.Errorf("%q carries a user or password; authenticate with the signature (secret_file)", redact(u))
	case u.Fragment != "":
		return nil, fmt.Errorf("%q has a fragment (#…)", s)
	case u.Scheme == "https":
	case u.Scheme == "http" && loopback(u.Hostname()):
	case u.Scheme == "http":
		return nil, fmt.Errorf("%q: http only to a loopback address (localhost, 127.0.0.1, ::1); use https", s)
	default:
		return nil, fmt.Errorf("%q: the scheme must be https", s)
	}
	return u, nil
}

func redact(u *url.URL) string {
	c := *u
	c.User = nil
	return c.String()
}

// loopback reports whether host is localhost or a loopback address.
func loopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// readSecret reads a webhook secret file: a regular file that others
// cannot read, not empty; one final line end is not part of the secret.
func readSecret(name string) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	switch {
	case !fi.Mode().IsRegular():
		return nil, fmt.Errorf("%s is not a regular file", name)
	case fi.Mode().Perm()&0o007 != 0:
		return nil, fmt.Errorf("%s is readable or writable by every user (mode %04o); chmod o-rwx it", name, fi.Mode().Perm())
	}
	data, err := io.ReadAll(io.LimitReader(f, maxSecret+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	if len(data) > maxSecret {
		return nil, fmt.Errorf("%s is larger than %d bytes; is it the secret?", name, maxSecret)
	}
	data = bytes.TrimSuffix(bytes.TrimSuffix(data, []byte("\n")), []byte("\r"))
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, fmt.Errorf("%s is empty", name)
	}
	return data, nil
}
