// Package status is the operator's view of refundd's state: the batches
// with their status, refunds, totals and times, and for one batch its
// refunds with the bank's reasons and references. List reads it from the
// state store; Write prints it as a table (the status command) or JSON;
// Handle serves it as a page that refreshes itself (/status) and as JSON
// (/api/batches). Batches in doubt are listed with the reason and what to
// do.
//
// HandleWith adds what an operator acts from: what needs attention now
// (NeedsAttention: refunds rejected or returned and not paid again, with
// the command that pays them again; batches in doubt; exceptions written
// for the ERP; refused files; overdue alarms), the daemon's health, a
// search (Search) and the timeline of one refund (RefundTimeline).
// Account numbers are shown masked.
//
// (The statuses themselves are defined by package store; what a pain.002
// status means for a refund is package reply's.)
package status
