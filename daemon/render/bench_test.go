package render_test

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"testing"

	"refundd/daemon/render"

	"refundd/internal/testutil"
)

// BenchmarkRenderBatch measures the daemon's render path: read and check
// the CSV batch once, plan, and render the pain.001 from what planning
// kept (here three blocks, one per execution date).
func BenchmarkRenderBatch(b *testing.B) {
	c := testutil.Config(b, "")
	for _, n := range []int{10_000, 100_000} {
		b.Run(fmt.Sprintf("refunds=%d", n), func(b *testing.B) {
			path := testutil.BenchBatch(b, b.TempDir(), n)
			open := func() (io.ReadCloser, error) { return os.Open(path) }
			b.ReportAllocs()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			for b.Loop() {
				p, err := render.Batch(c, path, open, now)
				if err != nil || !p.Valid() {
					b.Fatalf("%v %v", err, p.Problems[:min(3, len(p.Problems))])
				}
				if err := p.Render(io.Discard); err != nil {
					b.Fatal(err)
				}
				p.Close()
			}
			runtime.ReadMemStats(&after)
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "refunds/s")
			b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/float64(b.N)/float64(n), "allocB/refund")
		})
	}
}

// BenchmarkRenderFile measures the render command's path, render.File:
// check the batch once, report its problems, and write the pain.001.
func BenchmarkRenderFile(b *testing.B) {
	c := testutil.Config(b, "")
	for _, n := range []int{10_000, 100_000} {
		b.Run(fmt.Sprintf("refunds=%d", n), func(b *testing.B) {
			path := testutil.BenchBatch(b, b.TempDir(), n)
			b.ReportAllocs()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			for b.Loop() {
				if err := render.File(c, path, now, io.Discard, io.Discard); err != nil {
					b.Fatal(err)
				}
			}
			runtime.ReadMemStats(&after)
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "refunds/s")
			b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/float64(b.N)/float64(n), "allocB/refund")
		})
	}
}
