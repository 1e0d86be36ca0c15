// Package depcheck pins the direction of refundd's imports: its test fails
// when a package imports one of refundd's packages that it may not, so that
// the tree keeps reading as the flow of a refund (the command, the
// service, what it translates, the configuration, the leaves).
package depcheck
