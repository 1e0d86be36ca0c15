package daemon

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"refundd/daemon/refund"
	"refundd/internal/testutil"
)

// BenchmarkDaemonBatch measures a batch through the daemon: claim, check,
// render into the outbox, record the intent with every refund, upload to
// a real sshd, record the upload, archive.
func BenchmarkDaemonBatch(b *testing.B) {
	for _, n := range []int{1_000, 10_000} {
		b.Run(fmt.Sprintf("refunds=%d", n), func(b *testing.B) {
			e := newDaemonEnvTB(b)
			opts := Options{Logger: zerolog.New(os.Stderr).Level(zerolog.ErrorLevel), Now: e.clock}
			d, err := New(e.cfg, opts)
			if err != nil {
				b.Fatal(err)
			}
			defer d.Close()
			export := filepath.Join(e.dir, "export")
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				src := testutil.BenchBatch(b, b.TempDir(), n)
				data := bytes.ReplaceAll(readFile(b, src), []byte("B-BENCH"), fmt.Appendf(nil, "B-BENCH-%d", i))
				data = bytes.ReplaceAll(data, []byte(";R0"), fmt.Appendf(nil, ";I%d-0", i))
				drop(b, export, fmt.Sprintf("bench-%d.csv", i), data)
				b.StartTimer()
				if err := d.RunOnce(b.Context()); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			if got := len(files(b, e.up)); got != b.N {
				b.Fatalf("%d files uploaded, want %d", got, b.N)
			}
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "refunds/s")
		})
	}
}

// figuresEnv is a daemon environment with the watch settings of the
// example configuration (rescan every 30 s; file events on, with the
// default debounce), stable_for as given, and a daemon running in the
// background until the benchmark ends. Logs are JSON at level info, as in
// production, into io.Discard.
func figuresEnv(b *testing.B, stableFor time.Duration) *daemonEnv {
	b.Helper()
	e := newDaemonEnvTB(b)
	e.cfg.Watch.Rescan = "@every 30s"
	e.cfg.Watch.StableFor = stableFor
	d, err := New(e.cfg, Options{Logger: zerolog.New(io.Discard).Level(zerolog.InfoLevel), Now: e.clock})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx, nil) }()
	b.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			b.Errorf("Run: %v", err)
		}
		d.Close()
	})
	return e
}

// smallBatch returns batch number i of a template of n refunds: its own
// batch number and RefNbrs, so that no batch is a duplicate of another.
func smallBatch(template []byte, prefix string, i int) (data []byte, msgID string) {
	number := fmt.Sprintf("B-%s-%d", prefix, i)
	data = bytes.ReplaceAll(template, []byte("B-BENCH"), []byte(number))
	data = bytes.ReplaceAll(data, []byte(";R0"), fmt.Appendf(nil, ";%s%d-0", prefix, i))
	return data, refund.MsgID("987654325", number, 0)
}

// dropRenamed writes data under a temporary name in dir and renames it to
// name, as the ERP should; it returns the time of the rename.
func dropRenamed(tb testing.TB, dir, name string, data []byte) time.Time {
	tb.Helper()
	tmp := filepath.Join(dir, name+".tmp")
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		tb.Fatal(err)
	}
	at := time.Now()
	if err := os.Rename(tmp, filepath.Join(dir, name)); err != nil {
		tb.Fatal(err)
	}
	return at
}

// BenchmarkDropToUpload measures the latency from a batch of 2 refunds
// renamed into export/ to its pain.001 under its final name on the sshd,
// with file events on and the default debounce, one drop at a time into
// an idle daemon. It reports the median, min and max over b.N drops
// (-benchtime=20x for 20), for the test environment's stable_for and for
// the default one.
func BenchmarkDropToUpload(b *testing.B) {
	for _, stable := range []time.Duration{100 * time.Millisecond, 2 * time.Second} {
		b.Run("stable_for="+stable.String(), func(b *testing.B) {
			e := figuresEnv(b, stable)
			export := filepath.Join(e.dir, "export")
			template := readFile(b, testutil.BenchBatch(b, b.TempDir(), 2))
			var lat []time.Duration
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				time.Sleep(500 * time.Millisecond) // let the daemon go idle
				data, msgID := smallBatch(template, "D", i)
				remote := filepath.Join(e.up, msgID+".xml")
				b.StartTimer()
				at := dropRenamed(b, export, fmt.Sprintf("drop-%d.csv", i), data)
				deadline := at.Add(30 * time.Second)
				for {
					if _, err := os.Stat(remote); err == nil {
						break
					}
					if time.Now().After(deadline) {
						b.Fatalf("drop %d: not uploaded within 30s", i)
					}
					time.Sleep(2 * time.Millisecond)
				}
				lat = append(lat, time.Since(at))
			}
			b.StopTimer()
			slices.Sort(lat)
			ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
			b.ReportMetric(ms(lat[len(lat)/2]), "median-ms")
			b.ReportMetric(ms(lat[0]), "min-ms")
			b.ReportMetric(ms(lat[len(lat)-1]), "max-ms")
		})
	}
}

// BenchmarkBurst measures a burst of 1 000 batches of 2 refunds each,
// renamed into export/ at once, until all 1 000 pain.001 files are on the
// sshd, with the default stable_for (2 s, part of the time). Run with
// -benchtime=1x.
func BenchmarkBurst(b *testing.B) {
	const batches = 1000
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		e := figuresEnv(b, 2*time.Second)
		export := filepath.Join(e.dir, "export")
		template := readFile(b, testutil.BenchBatch(b, b.TempDir(), 2))
		names := make([]string, batches)
		for j := range batches {
			data, _ := smallBatch(template, "U", j)
			names[j] = fmt.Sprintf("burst-%d.csv", j)
			if err := os.WriteFile(filepath.Join(export, names[j]+".tmp"), data, 0o644); err != nil {
				b.Fatal(err)
			}
		}
		b.StartTimer()
		start := time.Now()
		for _, n := range names {
			if err := os.Rename(filepath.Join(export, n+".tmp"), filepath.Join(export, n)); err != nil {
				b.Fatal(err)
			}
		}
		deadline := start.Add(10 * time.Minute)
		for len(files(b, e.up)) < batches {
			if time.Now().After(deadline) {
				b.Fatalf("%d of %d batches uploaded after 10 minutes", len(files(b, e.up)), batches)
			}
			time.Sleep(20 * time.Millisecond)
		}
		took := time.Since(start)
		b.StopTimer()
		if got := len(files(b, e.up)); got != batches {
			b.Fatalf("%d files uploaded, want %d", got, batches)
		}
		b.ReportMetric(took.Seconds(), "s/burst")
		b.ReportMetric(batches/took.Seconds(), "batches/s")
	}
}
