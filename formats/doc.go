// Package formats holds the ISO 20022 message formats that refundd writes
// and reads. It and its sub-packages know nothing of refunds or of the ERP:
// they map between Go values and the wire format only.
package formats
