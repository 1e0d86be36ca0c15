// Package obs is what an operator sees of a running refundd: its log lines,
// its Prometheus metrics, and the small HTTP server for health, readiness
// and metrics.
//
// Nothing here is global. NewLogger returns the one logger that main hands
// down, NewMetrics returns a private Prometheus registry with refundd's
// metrics (no global default registry), and HTTPServer serves them on the
// address from the configuration.
package obs
