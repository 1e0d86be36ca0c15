// Package validate is what the validate command says of a file: File
// tells a refund batch (.csv, .json) from an ISO 20022 file (.xml, by its
// root namespace) and checks it — a batch against every rule of the ERP
// (package render), a pain.001 for what its schema cannot express (counts
// and control sums at both levels, unique ids, amounts in the currency's
// minor units, account check digits), a pain.002, camt.054 or camt.053
// for its type, version, counts, totals, statuses and reasons, and for
// entries refundd could not book. The Verdict names each problem with its
// file and line; nothing is recorded.
package validate
