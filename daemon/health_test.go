package daemon

import (
	"testing"
	"time"

	"refundd/daemon/store"
	"refundd/daemon/webhook"
)

// TestWebhookHealth: the health lists each webhook of the running
// configuration, nothing known at first, then as its delivery reports it
// (failing while its last attempt failed); a state for a webhook no
// longer configured is dropped.
func TestWebhookHealth(t *testing.T) {
	var d Daemon
	d.webhookHealth([]webhook.Hook{{Name: "erp"}, {Name: "chat"}})
	if ws := d.DaemonHealth().Webhooks; len(ws) != 2 || ws[0].Name != "erp" || ws[1].Name != "chat" || ws[0].Pending != 0 || ws[0].Failing {
		t.Fatalf("at start: %+v", ws)
	}
	now := time.Now()
	d.webhookState(webhook.Hook{Name: "erp"}, store.WebhookState{Pending: 3, Oldest: now.Add(-time.Hour),
		LastSuccess: now.Add(-2 * time.Hour), LastError: "POST: 503", LastErrorAt: now})
	d.webhookState(webhook.Hook{Name: "gone"}, store.WebhookState{Pending: 9})
	ws := d.DaemonHealth().Webhooks
	if len(ws) != 2 || ws[0].Pending != 3 || !ws[0].Failing || ws[0].LastError != "POST: 503" || ws[1].Pending != 0 {
		t.Fatalf("after a failure: %+v", ws)
	}
	d.webhookState(webhook.Hook{Name: "erp"}, store.WebhookState{LastSuccess: now.Add(time.Second), LastError: "POST: 503", LastErrorAt: now})
	if ws := d.DaemonHealth().Webhooks; ws[0].Failing || ws[0].Pending != 0 {
		t.Errorf("after a success: %+v", ws[0])
	}
	d.webhookHealth(nil)
	if ws := d.DaemonHealth().Webhooks; len(ws) != 0 {
		t.Errorf("without webhooks: %+v", ws)
	}
}
