package refund

import (
	"crypto/sha256"
	"encoding/base32"
	"strconv"
	"strings"
)

// MaxID is the longest ISO 20022 identifier (Max35Text).
const MaxID = 35

// idEncoding writes hashes with upper-case letters and digits only.
var idEncoding = base32.NewEncoding("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567").WithPadding(base32.NoPadding)

// digest returns n characters of a hash of parts, in the id alphabet.
func digest(n int, parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return idEncoding.EncodeToString(h.Sum(nil))[:n]
}

// safe keeps the letters, digits and single '-' of s, at most n of them, so
// that an id survives every leg of a payment (no spaces, no slashes). The
// result neither starts nor ends with '-' and has no "--".
func safe(s string, n int) string {
	var b strings.Builder
	var last byte
	for i := 0; i < len(s) && b.Len() < n; i++ {
		c := s[i]
		if isUpper(c) || isDigit(c) || c >= 'a' && c <= 'z' || c == '-' && b.Len() > 0 && last != '-' {
			b.WriteByte(c)
			last = c
		}
	}
	return strings.TrimRight(b.String(), "-")
}

// join joins the non-empty parts of an id with '-'.
func join(parts ...string) string {
	var b strings.Builder
	for _, p := range parts {
		if p == "" {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('-')
		}
		b.WriteString(p)
	}
	return b.String()
}

// MsgID returns the message id of the pain.001 for an ERP refund batch: the
// same batch always gets the same id, so a resent file is identical and the
// bank's duplicate check (DU01) protects against paying twice. attempt is 0
// for the batch as exported; an operator's re-release of rejected refunds
// as a new batch uses 1, 2, …. The id is "RFD-<batch>-<hash>" with at most
// 14 characters of the batch number and at most 27 characters in all (31 for
// a re-release).
func MsgID(orgNumber, batch string, attempt int) string {
	suffix := ""
	if attempt > 0 {
		suffix = "R" + strconv.Itoa(attempt)
	}
	return join("RFD", safe(batch, 14), suffix, digest(8, "msg", orgNumber, batch, strconv.Itoa(attempt)))
}

// PmtInfID returns the id of the n-th (from 1) payment-information block of
// a message: "<msgID>-<n>".
func PmtInfID(msgID string, n int) string {
	return msgID + "-" + strconv.Itoa(n)
}

// EndToEndID returns the id that travels with a refund to the payee and
// comes back in every bank reply: "<CN|PP|PY>-<RefNbr>-<hash>" with at most
// 17 characters of the RefNbr, at most 29 characters in all (33 for a
// re-release up to R99). It depends on the document type, the RefNbr and the release
// (0 for the first payment, 1, 2, … when an operator re-releases a refund
// that the bank rejected), never on the batch.
func EndToEndID(t DocType, refNbr string, release int) string {
	suffix := ""
	if release > 0 {
		suffix = "R" + strconv.Itoa(release)
	}
	return join(t.code(), safe(refNbr, 17), suffix, digest(8, "e2e", string(t), refNbr, strconv.Itoa(release)))
}

// IsSafeID reports whether id is a valid identifier for pain.001: 1 to 35
// characters of A-Z a-z 0-9 / - ? : ( ) . , ' +, not starting or ending with
// '/', and without "//".
func IsSafeID(id string) bool {
	if id == "" || len(id) > MaxID || id[0] == '/' || id[len(id)-1] == '/' || strings.Contains(id, "//") {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(isUpper(c) || isDigit(c) || c >= 'a' && c <= 'z' || strings.IndexByte("/-?:().,'+", c) >= 0) {
			return false
		}
	}
	return true
}
