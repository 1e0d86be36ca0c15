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
	return r < utf8.RuneSelf && latinByte(byte(r))
}

// latinSet holds the bytes of the basic Latin set, a bit each.
var latinSet = func() (set [2]uint64) {
	for _, c := range []byte("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/-?:().,'+ ") {
		set[c>>6] |= 1 << (c & 63)
	}
	return set
}()

// latinByte reports whether the byte c, below 0x80, is in the basic Latin
// set.
func latinByte(c byte) bool { return latinSet[(c>>6)&1]&(1<<(c&63)) != 0 }

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
// é→e, ß→ss, &→+). For every payment the characters word processors type
// (dashes, curly quotes, special spaces, the ellipsis; see typographic) are
// replaced by their basic Latin spelling. Any other character, including
// control characters other than the tab, is an error naming it and its
// position (in characters, after trimming). Surrounding spaces are trimmed; the result is never
// truncated: its length, after the replacements, is at most max characters.
//
// changes describes for a warning what was changed, as in
//
//	typographic characters replaced: "–" → "-" (2×), "’" → "'"
//
// or is "" when the text is sent as written.
func Text(s string, domestic bool, max int) (out, changes string, err error) {
	s = strings.TrimSpace(s)
	if !utf8.ValidString(s) {
		return "", "", fmt.Errorf("not valid UTF-8")
	}
	if asWritten(s, domestic) {
		if n := utf8.RuneCountInString(s); n > max {
			return "", "", fmt.Errorf("%d characters, at most %d allowed (never truncated)", n, max)
		}
		return s, "", nil
	}
	var (
		b     strings.Builder
		reps  []replacement
		latin bool // Nordic letters transliterated
	)
	pos := 0
	for _, r := range s {
		pos++
		if isLatin(r) {
			b.WriteRune(r)
			continue
		}
		if t, ok := typographic(r); ok {
			b.WriteString(t)
			reps = addReplacement(reps, r, t)
			continue
		}
		t, nordic := translit[r]
		switch {
		case nordic && domestic:
			b.WriteRune(r)
		case nordic && t != "":
			b.WriteString(t)
			latin = true
		case nordic:
			return "", "", fmt.Errorf("character %q at position %d is not allowed in foreign payments", r, pos)
		default:
			return "", "", fmt.Errorf("character %q at position %d is not allowed in payment files", r, pos)
		}
	}
	out = strings.TrimSpace(b.String())
	if n := utf8.RuneCountInString(out); n > max {
		switch {
		case latin:
			return "", "", fmt.Errorf("%d characters after transliteration, at most %d allowed (never truncated)", n, max)
		case len(reps) > 0:
			return "", "", fmt.Errorf("%d characters after replacing typographic characters, at most %d allowed (never truncated)", n, max)
		}
		return "", "", fmt.Errorf("%d characters, at most %d allowed (never truncated)", n, max)
	}
	var d []string
	if latin {
		d = append(d, fmt.Sprintf("transliterated for a foreign payment to %q", out))
	}
	if len(reps) > 0 {
		d = append(d, describeReplacements(reps))
	}
	return out, strings.Join(d, "; "), nil
}

// typographic returns the basic Latin spelling of a character that word
// processors and spreadsheets type for the user but that is outside the
// bank's character set, domestic or foreign: dashes and minus signs become
// "-", single and double quotes, primes and accents "'" (the set has no
// '"'), the ellipsis "...", special spaces and the tab a space, bullets "-";
// soft hyphens and zero-width characters are removed. ok is false for any
// other character.
func typographic(r rune) (spelling string, ok bool) {
	switch r {
	case '\u2010', // hyphen
		'\u2011', // non-breaking hyphen
		'\u2012', // figure dash
		'\u2013', // en dash
		'\u2014', // em dash
		'\u2212', // minus sign
		'\u2022', // bullet
		'\u00b7': // middle dot
		return "-", true
	case '\u2018', // left single quotation mark
		'\u2019', // right single quotation mark
		'\u201a', // single low-9 quotation mark
		'\u201b', // single high-reversed-9 quotation mark
		'\u2032', // prime
		'\u00b4', // acute accent
		'`',      // grave accent
		'\u201c', // left double quotation mark
		'\u201d', // right double quotation mark
		'\u201e', // double low-9 quotation mark
		'\u201f', // double high-reversed-9 quotation mark
		'\u00ab', // left-pointing double angle quotation mark
		'\u00bb', // right-pointing double angle quotation mark
		'\u2033': // double prime
		return "'", true
	case '\u2026': // horizontal ellipsis
		return "...", true
	case '\u00a0', // no-break space
		'\u202f', // narrow no-break space
		'\u2009', // thin space
		'\u2002', // en space
		'\u2003', // em space
		'\u2007', // figure space
		'\t':
		return " ", true
	case '\u00ad', // soft hyphen
		'\u200b', // zero width space
		'\ufeff': // zero width no-break space
		return "", true
	}
	return "", false
}

// replacement counts how often Text replaced a typographic character.
type replacement struct {
	from  rune
	to    string
	count int
}

// addReplacement counts one replacement of from by to, keeping the
// characters in the order they first occur.
func addReplacement(reps []replacement, from rune, to string) []replacement {
	for i := range reps {
		if reps[i].from == from {
			reps[i].count++
			return reps
		}
	}
	return append(reps, replacement{from: from, to: to, count: 1})
}

// describeReplacements describes reps for a warning, such as
// typographic characters replaced: "–" → "-" (2×), "\u00ad" removed.
func describeReplacements(reps []replacement) string {
	var b strings.Builder
	b.WriteString("typographic characters replaced: ")
	for i, r := range reps {
		if i > 0 {
			b.WriteString(", ")
		}
		if r.to == "" {
			fmt.Fprintf(&b, "%q removed", string(r.from))
		} else {
			fmt.Fprintf(&b, "%q → %q", string(r.from), r.to)
		}
		if r.count > 1 {
			fmt.Fprintf(&b, " (%d×)", r.count)
		}
	}
	return b.String()
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

// asWritten reports whether Text sends s, trimmed and valid UTF-8, as it
// is: every character is in the basic Latin set, or, in a domestic
// payment, one of the Nordic letters and signs. This is the common case,
// which needs no copy.
func asWritten(s string, domestic bool) bool {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if !latinByte(c) {
				return false
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if _, nordic := translit[r]; !domestic || !nordic {
			return false
		}
		i += n
	}
	return true
}
