// Package xmlin reads XML documents from untrusted sources, strictly and
// fast, for the ISO 20022 readers in formats.
//
// It is a hand-written tokenizer, not encoding/xml: it accepts a subset of
// XML 1.0 with namespaces that covers every ISO 20022 message and refuses
// everything else. It never expands entities other than the five predefined
// ones and character references; it refuses a DOCTYPE, content after the
// root element, undeclared namespace prefixes, element and attribute names
// outside ASCII, duplicate attributes, text that is not valid in its
// encoding, and documents, tokens or nesting over the configured limits. A
// document that ends before its root element is closed is an error, never a
// short read.
//
// The caller walks the tree with Root, Child, Text, Skip and End; every
// element met must be in the root element's namespace.
package xmlin
