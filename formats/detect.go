package formats

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"refundd/formats/internal/xmlin"
)

// Type is an ISO 20022 message type.
type Type string

// The message types refundd writes or reads.
const (
	Pain001 Type = "pain.001" // CustomerCreditTransferInitiation
	Pain002 Type = "pain.002" // CustomerPaymentStatusReport
	Camt053 Type = "camt.053" // BankToCustomerStatement
	Camt054 Type = "camt.054" // BankToCustomerDebitCreditNotification
)

// Message identifies a message type and version by its XML namespace.
type Message struct {
	Type Type
	// Version is the rest of the message identifier: the variant and
	// version numbers, e.g. "001.03" for pain.002.001.03.
	Version string
	// Variant names a national flavour that uses its own namespace for the
	// ISO schema, e.g. "ch.02" for the Swiss SIX pain.001/pain.002
	// .001.03.ch.02; "" for the ISO namespace.
	Variant   string
	Namespace string
}

// String returns the message identifier, e.g. "pain.002.001.03".
func (m Message) String() string {
	s := string(m.Type) + "." + m.Version
	if m.Variant != "" {
		s += "." + m.Variant
	}
	return s
}

// IsZero reports whether m is the zero Message.
func (m Message) IsZero() bool { return m == Message{} }

const isoNS = "urn:iso:std:iso:20022:tech:xsd:"

// six is the namespace prefix of the Swiss SIX flavours, which use the ISO
// schema's structure under their own namespace.
const six = "http://www.six-interbank-clearing.com/de/"

var messages = func() map[string]Message {
	m := map[string]Message{}
	for _, x := range []Message{
		{Type: Pain001, Version: "001.03"},
		{Type: Pain001, Version: "001.09"},
		{Type: Pain002, Version: "001.03"},
		{Type: Pain002, Version: "001.10"},
		{Type: Camt053, Version: "001.02"},
		{Type: Camt054, Version: "001.02"},
		{Type: Camt054, Version: "001.04"},
		{Type: Camt054, Version: "001.08"},
	} {
		x.Namespace = isoNS + string(x.Type) + "." + x.Version
		m[x.Namespace] = x
	}
	for _, t := range []Type{Pain001, Pain002} {
		x := Message{Type: t, Version: "001.03", Variant: "ch.02", Namespace: six + string(t) + ".001.03.ch.02.xsd"}
		m[x.Namespace] = x
	}
	return m
}()

// Lookup returns the message whose namespace is ns: pain.001.001.03 and
// .09, pain.002.001.03 and .10, camt.053.001.02, camt.054.001.02, .04 and
// .08, and the Swiss SIX pain.001 and pain.002 .001.03.ch.02.
func Lookup(ns string) (Message, bool) {
	m, ok := messages[ns]
	return m, ok
}

// Messages returns the supported messages of the given types (see
// Lookup), sorted by their identifiers, e.g. "camt.054.001.02".
func Messages(types ...Type) []Message {
	var out []Message
	for _, m := range messages {
		if slices.Contains(types, m.Type) {
			out = append(out, m)
		}
	}
	slices.SortFunc(out, func(a, b Message) int { return strings.Compare(a.String(), b.String()) })
	return out
}

// Detect reads the start of an XML document from r and returns its message
// type and version, taken from the namespace of the root element, which
// must be Document. It reads only the prolog and the root element's start
// tag (and at most 512 bytes beyond), so that a caller can rewind and hand
// the file to the matching reader. A DOCTYPE, an unsupported encoding or
// an unknown namespace is an error; the last wraps ErrUnknownMessage and
// names the namespace.
func Detect(r io.Reader) (Message, error) {
	d := xmlin.NewDecoderSize(r, Options{MaxTokenBytes: 64 << 10}, 512)
	space, local, err := d.Root()
	if err != nil {
		return Message{}, fmt.Errorf("formats: detect: %w", err)
	}
	m, err := root(d, space, local)
	if err != nil {
		return Message{}, fmt.Errorf("formats: detect: %w", err)
	}
	return m, nil
}

// Open reads the prolog and the root element of a document of one of the
// message types want from r and returns the decoder, positioned inside the
// root, and the message version. It is the common start of the readers in
// the sub-packages of formats.
func Open(r io.Reader, o Options, want ...Type) (*xmlin.Decoder, Message, error) {
	d := xmlin.NewDecoder(r, o)
	space, local, err := d.Root()
	if err != nil {
		return nil, Message{}, err
	}
	m, err := root(d, space, local)
	if err != nil {
		return nil, Message{}, err
	}
	for _, t := range want {
		if m.Type == t {
			return d, m, nil
		}
	}
	return nil, Message{}, fmt.Errorf("the document is a %s, not one of %v: %w", m, want, ErrWrongMessage)
}

// root returns the message of the root element read by d.
func root(d *xmlin.Decoder, space, local string) (Message, error) {
	if local != "Document" {
		return Message{}, fmt.Errorf("root element is <%s>, not <Document>: %w", local, ErrUnknownMessage)
	}
	if m, ok := Lookup(space); ok {
		return m, nil
	}
	if space == "" {
		hint := ""
		if name, ok := d.AttrFold("xmlns"); ok {
			hint = fmt.Sprintf(" (its attribute %q is not a namespace declaration: xmlns is lower case)", name)
		}
		return Message{}, fmt.Errorf("root element <Document> has no namespace%s: %w", hint, ErrUnknownMessage)
	}
	return Message{}, fmt.Errorf("namespace %q: %w", space, ErrUnknownMessage)
}
