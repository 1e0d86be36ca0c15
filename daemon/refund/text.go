package refund

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// MaxMessage is the longest payment message (RmtInf/Ustrd) in characters.
const MaxMessage = 140

// MaxName is the longest creditor name (Cdtr/Nm) in characters.
const MaxName = 140

// isLatin reports whether r is in the basic Latin set that every bank must
// support: a-z A-Z 0-9 / - ? : ( ) . , ' + and space.
func isLatin(r rune) bool {
	switch {
	case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		return true
	}
	return strings.ContainsRune("/-?:().,'+ ", r)
}

// translit maps the characters that Nordic banks accept for domestic
// payments only to their spelling in the basic Latin set, for foreign
// payments. Characters mapped to "" are allowed domestically but have no
// foreign spelling and are refused there.
var translit = map[rune]string{
	'á': "a", 'ä': "a", 'ç': "c", 'đ': "d", 'é': "e", 'í': "i", 'ó': "o",
	'ö': "o", 'ú': "u", 'ü': "u", 'ý': "y", 'æ': "ae", 'ø': "o", 'å': "aa",
	'Á': "A", 'Ä': "A", 'Ç': "C", 'Ð': "D", 'É': "E", 'Í': "I", 'Ó': "O",
	'Ö': "O", 'Ú': "U", 'Ü': "U", 'Ý': "Y", 'Æ': "Ae", 'Ø': "O", 'Å': "Aa",
	'ß': "ss", '&': "+", '%': "", '=': "", '@': "", '§': "",
}

// Text checks s against the character policy and returns the text to send.
// Domestic payments may use the basic Latin set plus the Nordic letters and
// signs (æ ø å, á ä ç đ é í ó ö ú ü ý, ß % & = @ §). Foreign payments get the
// basic Latin set; Nordic letters are transliterated (æ→ae, ø→o, å→aa, ä→a,
// é→e, ß→ss, &→+) and changed reports that, so the caller can warn. Any other
// character, including control characters, is an error naming it and its
// position. Surrounding spaces are trimmed; the result is never truncated.
func Text(s string, domestic bool, max int) (out string, changed bool, err error) {
	s = strings.TrimSpace(s)
	if !utf8.ValidString(s) {
		return "", false, fmt.Errorf("not valid UTF-8")
	}
	if n := utf8.RuneCountInString(s); n > max {
		return "", false, fmt.Errorf("%d characters, at most %d allowed (never truncated)", n, max)
	}
	if latinOnly(s) {
		return s, false, nil
	}
	var b strings.Builder
	pos := 0
	for _, r := range s {
		pos++
		if isLatin(r) {
			b.WriteRune(r)
			continue
		}
		t, nordic := translit[r]
		switch {
		case nordic && domestic:
			b.WriteRune(r)
		case nordic && t != "":
			b.WriteString(t)
			changed = true
		case nordic:
			return "", false, fmt.Errorf("character %q at position %d is not allowed in foreign payments", r, pos)
		default:
			return "", false, fmt.Errorf("character %q at position %d is not allowed in payment files", r, pos)
		}
	}
	out = b.String()
	if n := utf8.RuneCountInString(out); n > max {
		return "", false, fmt.Errorf("%d characters after transliteration, at most %d allowed (never truncated)", n, max)
	}
	return out, changed, nil
}

// Message builds the payment message from the customer's prefix and the
// document's reference: "<prefix> <reference>", or the reference alone when
// there is no prefix.
func Message(prefix, reference string) string {
	prefix, reference = strings.TrimSpace(prefix), strings.TrimSpace(reference)
	if prefix == "" {
		return reference
	}
	return prefix + " " + reference
}

// latinOnly reports whether every byte of s is in the basic Latin set, the
// common case that needs no copy.
func latinOnly(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == ' ' || strings.IndexByte("/-?:().,'+", c) >= 0) {
			return false
		}
	}
	return true
}
