// Package daemon is the refundd service: its configuration, the mapping
// between refunds and ISO 20022 messages, and the pipelines that move
// batches to the bank and replies back to the ERP.
package daemon
