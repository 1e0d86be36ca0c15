// Package refund is the domain of refundd: refunds, batches, money, bank
// account numbers, payment messages and Norwegian banking days.
//
// It does no I/O and has no logger, so every rule here can be tested with
// tables and fuzzing. Validation functions return *FieldError values that
// name the field at fault; callers add the file and line.
package refund
