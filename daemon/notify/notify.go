// Package notify tells systemd how refundd is doing, through the sd_notify
// protocol: ready, reloading, stopping, a status line, and watchdog pings.
// The unit is Type=notify with WatchdogSec= (systemd/refundd.service).
//
// Every function does nothing and returns nil when NOTIFY_SOCKET is unset,
// that is when refundd does not run under systemd (a terminal, tests,
// refundd run -once from cron). Errors are worth a log line, not a stop:
// systemd itself notices a service that never reports ready or stops
// pinging its watchdog.
package notify

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/coreos/go-systemd/v22/daemon"
	"golang.org/x/sys/unix"
)

// Ready tells systemd that refundd has started, or has finished a reload
// (READY=1). systemd holds back units ordered after refundd, and
// systemctl start waits, until it is sent.
func Ready() error {
	return send(daemon.SdNotifyReady)
}

// Reloading tells systemd that refundd is reloading its configuration:
// RELOADING=1 with MONOTONIC_USEC, the current CLOCK_MONOTONIC time, which
// systemd 253 and later expect with it (Type=notify-reload requires it). The
// unit is in state "reloading" until Ready; call Ready when the reload is
// done, also when the new configuration was refused and the old one stays
// in force.
//
// The unit uses Type=notify with ExecReload= sending SIGHUP rather than
// Type=notify-reload, which needs systemd 253 (Debian 12 has 252); the
// messages are the same.
func Reloading() error {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts); err != nil {
		return fmt.Errorf("notify systemd RELOADING=1: read monotonic clock: %w", err)
	}
	usec := ts.Nano() / int64(time.Microsecond)
	return send(daemon.SdNotifyReloading + "\nMONOTONIC_USEC=" + strconv.FormatInt(usec, 10))
}

// Stopping tells systemd that refundd is shutting down (STOPPING=1).
func Stopping() error {
	return send(daemon.SdNotifyStopping)
}

// Status sets the one-line status that systemctl status shows, e.g.
// "idle; last upload 08:00 UTC". Line breaks are replaced by spaces.
func Status(s string) error {
	s = strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ").Replace(s)
	return send("STATUS=" + s)
}

// send sends one message; it is a no-op without NOTIFY_SOCKET.
func send(state string) error {
	if _, err := daemon.SdNotify(false, state); err != nil {
		name, _, _ := strings.Cut(state, "\n")
		return fmt.Errorf("notify systemd %s: %w", name, err)
	}
	return nil
}

// Watchdog pings systemd's watchdog (WATCHDOG=1) every half of
// WATCHDOG_USEC until ctx ends, and only while healthy returns nil: when
// refundd is stuck, the pings stop and systemd kills it (with SIGABRT,
// whose goroutine dump lands in the journal) and restarts it.
//
// healthy must return promptly; it is called once at start and then before
// every ping. A nil healthy counts as always healthy. A failed ping is
// retried at the next tick; Watchdog returns an error only when no ping got
// through for a whole WATCHDOG_USEC, by which time systemd has given up on
// refundd. It returns nil at once when the watchdog is off (no
// NOTIFY_SOCKET, no WATCHDOG_USEC, or WATCHDOG_PID names another process),
// and nil when ctx ends.
func Watchdog(ctx context.Context, healthy func() error) error {
	interval, err := daemon.SdWatchdogEnabled(false)
	if err != nil {
		return fmt.Errorf("systemd watchdog: %w", err)
	}
	if interval <= 0 || os.Getenv("NOTIFY_SOCKET") == "" {
		return nil
	}
	return watchdog(ctx, interval, healthy, send)
}

// watchdog is Watchdog with its interval and its way of sending given.
func watchdog(ctx context.Context, interval time.Duration, healthy func() error, sendf func(string) error) error {
	lastSent := time.Now()
	ping := func() error {
		if healthy != nil && healthy() != nil {
			return nil // no ping: let systemd act if this lasts
		}
		err := sendf(daemon.SdNotifyWatchdog)
		if err == nil {
			lastSent = time.Now()
			return nil
		}
		if time.Since(lastSent) >= interval {
			return fmt.Errorf("systemd watchdog: no ping for %v: %w", interval, err)
		}
		return nil
	}
	if err := ping(); err != nil {
		return err
	}
	tick := time.NewTicker(interval / 2)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
			if err := ping(); err != nil {
				return err
			}
		}
	}
}
