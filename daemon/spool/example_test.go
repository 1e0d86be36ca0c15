package spool_test

import (
	"context"
	"errors"
	"log"
	"time"

	"refundd/daemon/spool"
)

// The daemon's loop for one folder: resume what an earlier run left in
// work/, then scan on every kick, claim what is ready, and ask for a kick
// when the next waiting file can be ready.
func Example() {
	folder, err := spool.Open(spool.Config{
		Dir:       "/srv/refundd/export",
		State:     "/var/lib/refundd",
		Kind:      "export",
		StableFor: 2 * time.Second,
	})
	if err != nil {
		log.Fatal(err)
	}
	watcher, err := spool.NewWatcher(spool.Options{
		Dirs:     []string{folder.Dir()},
		Schedule: "@every 30s",
		OnError:  func(err error) { log.Print(err) },
	})
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	go func() {
		if err := watcher.Run(ctx); err != nil {
			log.Fatal(err)
		}
	}()

	process := func(cl spool.Claimed) {
		// Parse, validate, record cl.SHA256 … then one of:
		if _, err := folder.Done(cl, ""); err != nil {
			log.Fatal(err) // an fsync error is fatal
		}
	}
	pending, err := folder.Pending()
	if err != nil {
		log.Print(err)
	}
	for _, cl := range pending {
		process(cl)
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-watcher.Kicks():
		}
		cands, err := folder.Scan(time.Now())
		if err != nil {
			log.Print(err)
		}
		for _, c := range cands {
			cl, err := folder.Claim(c)
			if errors.Is(err, spool.ErrSkipped) {
				continue
			}
			if err != nil {
				log.Print(err)
				continue
			}
			process(cl)
		}
		if n, at := folder.Unsettled(); n > 0 {
			watcher.KickAt(at)
		}
	}
}
