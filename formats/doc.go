// Package formats holds the ISO 20022 message formats that refundd writes
// and reads. It and its sub-packages know nothing of refunds or of the ERP:
// they map between Go values and the wire format only.
//
// Detect tells a message's type and version from the namespace of its root
// element: pain.001.001.03 and .09, pain.002.001.03 and .10,
// camt.053.001.02, camt.054.001.02, .04 and .08, and the Swiss SIX
// pain.001 and pain.002 .001.03.ch.02. The sub-packages read and write the
// messages: pain001 (write, and read back for checking), pain002 (read, and
// write .03) and camt054 (read camt.054 and camt.053 entry by entry, and
// write camt.054.001.02).
//
// Replies from the bank are untrusted, and so is a file an operator hands to
// refundd validate. The readers, pain002, camt054 and pain001, enforce
// Options (size, nesting depth, token length) while reading; refuse a
// DOCTYPE (so no entity is ever expanded), content after the root element, a
// truncated document, an element outside the message's namespace, a repeated
// single element, and any encoding but UTF-8, ISO-8859-1, ISO-8859-15 and
// windows-1252 (UTF-16 is refused; a pain.001 must be UTF-8); and read
// amounts as exact decimals (Decimal), never floats. Errors wrap one of the
// Err* values, which callers can branch on with errors.Is, and name the line
// and element. The pain001 reader, which reads the pain.001 files that
// refundd wrote or that an operator checks with refundd validate, has its
// own default size limit (a pain.001 holds a whole batch) and refuses what
// its earlier encoding/xml reader refused.
package formats
