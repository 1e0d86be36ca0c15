package daemon

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"refundd/daemon/config"
	"refundd/daemon/obs"
	"refundd/daemon/store"
	"refundd/daemon/webhook"
)

// startWebhooks records the configured webhooks in the store and starts
// their delivery on wg, until ctx ends; nothing with no webhook.
func (d *Daemon) startWebhooks(ctx context.Context, wg *sync.WaitGroup) error {
	hooks := d.Hooks()
	d.hooks = nil
	d.webhookHealth(hooks)
	if len(hooks) == 0 {
		return nil
	}
	w := webhook.New(webhook.Options{
		Hooks:     hooks,
		Company:   webhook.Company{Name: d.cfg.Company.Name, OrgNumber: d.cfg.Company.OrgNumber},
		StatusURL: d.cfg.Notify.StatusURL,
		Store:     d.store,
		Metrics:   d.metrics,
		Logger:    d.log,
		OnState:   d.webhookState,
	})
	if err := w.Start(ctx); err != nil {
		if errors.Is(err, store.ErrNotLeader) {
			return d.stop(err)
		}
		return fmt.Errorf("run: %w", err)
	}
	d.hooks = w
	wg.Go(func() { w.Run(ctx) })
	d.log.Debug().Str(obs.FieldComponent, "webhook").Int("webhooks", len(hooks)).Msg("webhook delivery started")
	return nil
}

// webhookHooks returns the receivers of cfg.
func webhookHooks(cfg *config.Config) []webhook.Hook {
	var hooks []webhook.Hook
	for _, w := range cfg.Notify.Webhooks {
		h := webhook.Hook{Name: w.Name, URL: w.URL, Secret: w.Secret, Timeout: w.Timeout, RetryMin: w.RetryMin, RetryMax: w.RetryMax}
		for _, e := range w.Events {
			h.Notices = append(h.Notices, store.Notice(e))
		}
		hooks = append(hooks, h)
	}
	return hooks
}

// Hooks returns the webhooks of the running configuration (of the last
// one loaded before Run). It is safe to call from any goroutine.
func (d *Daemon) Hooks() []webhook.Hook {
	if p := d.webhooks.Load(); p != nil {
		return *p
	}
	return nil
}
