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
	if n <= 8 {
		return string(appendDigest(nil, n, parts...))
	}
	sum := hashParts(parts)
	return idEncoding.EncodeToString(sum[:])[:n]
}

// appendDigest appends digest(n, parts...), n at most 8, to b.
func appendDigest(b []byte, n int, parts ...string) []byte {
	var out [8]byte
	sum := hashParts(parts)
	idEncoding.Encode(out[:], sum[:5]) // 5 bytes are 8 characters
	return append(b, out[:n]...)
}

// hashParts returns the SHA-256 of parts, each followed by a zero byte.
func hashParts(parts []string) [sha256.Size]byte {
	var buf [128]byte
	b := buf[:0]
	for _, p := range parts {
		b = append(b, p...)
		b = append(b, 0)
	}
	return sha256.Sum256(b)
}

// safe keeps the letters, digits and single '-' of s, at most n of them, so
// that an id survives every leg of a payment (no spaces, no slashes). The
// result neither starts nor ends with '-' and has no "--".
func safe(s string, n int) string {
	return string(appendSafe(nil, s, n))
}

// appendSafe appends safe(s, n) to b.
func appendSafe(b []byte, s string, n int) []byte {
	start := len(b)
	var last byte
	for i := 0; i < len(s) && len(b)-start < n; i++ {
		c := s[i]
		if isUpper(c) || isDigit(c) || c >= 'a' && c <= 'z' || c == '-' && len(b) > start && last != '-' {
			b = append(b, c)
			last = c
		}
	}
	for len(b) > start && b[len(b)-1] == '-' {
		b = b[:len(b)-1]
	}
	return b
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
	// join(code, safe(refNbr, 17), suffix, digest(…)), in one buffer.
	var buf [48]byte
	b := append(buf[:0], t.code()...)
	n := len(b) + 1
	if b = appendSafe(append(b, '-'), refNbr, 17); len(b) == n {
		b = b[:n-1] // nothing of the RefNbr is safe: join leaves it out
	}
	if release > 0 {
		b = append(b, "-R"...)
		b = strconv.AppendInt(b, int64(release), 10)
	}
	b = append(b, '-')
	b = appendDigest(b, 8, "e2e", string(t), refNbr, strconv.Itoa(release))
	return string(b)
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
