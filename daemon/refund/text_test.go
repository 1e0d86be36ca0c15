package refund

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestTextAccepts(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		domestic bool
		want     string
		changed  bool
	}{
		{"plain domestic", "Refusjon ordre 12345", true, "Refusjon ordre 12345", false},
		{"plain foreign", "Refusjon ordre 12345", false, "Refusjon ordre 12345", false},
		{"basic Latin signs", "A/B-C?D:E(F).G,H'I+J", false, "A/B-C?D:E(F).G,H'I+J", false},
		{"Norwegian letters domestic", "Bjørn Ærø Åsen æøåÆØÅ", true, "Bjørn Ærø Åsen æøåÆØÅ", false},
		{"Nordic letters domestic", "áäçđéíóöúüý ÁÄÇÐÉÍÓÖÚÜÝ ß", true, "áäçđéíóöúüý ÁÄÇÐÉÍÓÖÚÜÝ ß", false},
		{"Nordic signs domestic", "50% & = @ §", true, "50% & = @ §", false},
		{"trimmed", "  Refusjon 1 \t", true, "Refusjon 1", false},
		{"trimmed no-break spaces", "\u00a0Refusjon 1\u202f", true, "Refusjon 1", false},
		{"empty", "", true, "", false},

		// Foreign: the table in text.go (æ→ae, ø→o, å→aa, capitals Ae, O, Aa).
		{"Bjørn Ærø Åsen", "Bjørn Ærø Åsen", false, "Bjorn Aero Aasen", true},
		{"æøå", "æøå ÆØÅ", false, "aeoaa AeOAa", true},
		{"umlauts", "Müller Köln Bär", false, "Muller Koln Bar", true},
		{"accents", "Café Élan", false, "Cafe Elan", true},
		{"ß and &", "Straße & Sønn", false, "Strasse + Sonn", true},
		{"others", "áçđéíóúý ÁÇÐÉÍÓÚÝ", false, "acdeiouy ACDEIOUY", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, changes, err := Text(tt.in, tt.domestic, MaxMessage)
			if err != nil {
				t.Fatalf("Text(%q, %v) error %v; want %q", tt.in, tt.domestic, err, tt.want)
			}
			if got != tt.want || (changes != "") != tt.changed {
				t.Errorf("Text(%q, %v) = %q, changes %q; want %q, changed %v", tt.in, tt.domestic, got, changes, tt.want, tt.changed)
			}
			if tt.changed && changes != "transliterated for a foreign payment to "+strconv.Quote(tt.want) {
				t.Errorf("Text(%q, %v) changes %q; want the transliteration", tt.in, tt.domestic, changes)
			}
		})
	}
}

func TestTextRejects(t *testing.T) {
	long := strings.Repeat("a", 141)
	tests := []struct {
		name     string
		in       string
		domestic bool
		max      int
		wantMsg  []string // all must appear in the error
	}{
		{"emoji", "Hei 😀 du", true, MaxMessage, []string{"position 5"}},
		{"emoji foreign", "Hei 😀 du", false, MaxMessage, []string{"position 5"}},
		{"newline inside", "Hei\ndu", true, MaxMessage, []string{"position 4"}},
		{"NUL", "a\x00b", true, MaxMessage, []string{"position 2"}},
		{"less than", "a<b", true, MaxMessage, []string{"'<'", "position 2"}},
		{"greater than", "ordre >5", true, MaxMessage, []string{"position 7"}},
		{"quote", `"x"`, true, MaxMessage, []string{"position 1"}},
		{"underscore", "ab_c", true, MaxMessage, []string{"position 3"}},
		{"exclamation", "takk!", true, MaxMessage, []string{"position 5"}},
		{"ñ", "Señor", true, MaxMessage, []string{"position 3"}},
		{"Polish ł", "Łódź", true, MaxMessage, []string{"position 1"}},
		{"position counts characters, not bytes", "ææææ€", true, MaxMessage, []string{"position 5"}},
		{"percent foreign", "50% rabatt", false, MaxMessage, []string{"position 3", "foreign"}},
		{"at foreign", "a@b", false, MaxMessage, []string{"position 2", "foreign"}},
		{"equals foreign", "a=b", false, MaxMessage, []string{"position 2"}},
		{"section foreign", "§ 5", false, MaxMessage, []string{"position 1"}},
		{"141 characters", long, true, MaxMessage, []string{"141"}},
		{"141 Norwegian characters", strings.Repeat("ø", 141), true, MaxMessage, []string{"141 characters, at most 140"}},
		{"longer than max", "abcdef", true, 5, []string{"6", "5"}},
		{"140 becoming 141 after transliteration", strings.Repeat("a", 139) + "æ", false, MaxMessage, []string{"141", "translit"}},
		{"invalid UTF-8", "ab\xffc", true, MaxMessage, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, changes, err := Text(tt.in, tt.domestic, tt.max)
			if err == nil {
				t.Fatalf("Text(%q, %v, %d) = %q, %q; want error", tt.in, tt.domestic, tt.max, got, changes)
			}
			if got != "" || changes != "" {
				t.Errorf("Text(%q) = %q, %q with error; want \"\", \"\" (never truncated)", tt.in, got, changes)
			}
			for _, w := range tt.wantMsg {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Text(%q) error %q; want it to contain %q", tt.in, err, w)
				}
			}
		})
	}
}

func TestTextLimits(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		domestic bool
	}{
		{"140 ASCII", strings.Repeat("a", 140), true},
		{"140 Norwegian", strings.Repeat("å", 140), true},
		{"140 foreign without Nordic letters", strings.Repeat("b", 140), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, _, err := Text(tt.in, tt.domestic, MaxMessage)
			if err != nil || got != tt.in {
				t.Errorf("Text(%d characters) = %d characters, %v; want it unchanged", utf8.RuneCountInString(tt.in), utf8.RuneCountInString(got), err)
			}
		})
	}
}

func TestTextForeignOutputIsBasicLatin(t *testing.T) {
	// Everything the domestic set allows either transliterates to the basic
	// Latin set or is refused for foreign payments.
	for r, sp := range translit {
		got, changes, err := Text("x"+string(r)+"x", false, MaxMessage)
		if sp == "" {
			if err == nil {
				t.Errorf("Text(%q, foreign) = %q; want error", r, got)
			}
			continue
		}
		if err != nil || changes == "" || got != "x"+sp+"x" {
			t.Errorf("Text(%q, foreign) = %q, %q, %v; want %q, a change, nil", r, got, changes, err, "x"+sp+"x")
		}
		for _, c := range got {
			if !isLatin(c) {
				t.Errorf("Text(%q, foreign) = %q with %q outside the basic Latin set", r, got, c)
			}
		}
		if _, _, err := Text(string(r), true, MaxMessage); err != nil {
			t.Errorf("Text(%q, domestic) error %v; want nil", r, err)
		}
	}
}

func TestTextTypographic(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    string
		changes string // without the "typographic characters replaced: " prefix
	}{
		{"en dash", "Ordre 1 – 2", "Ordre 1 - 2", `"–" → "-"`},
		{"en dash twice", "a–b–c", "a-b-c", `"–" → "-" (2×)`},
		{"em dash", "a—b", "a-b", `"—" → "-"`},
		{"figure dash", "a\u2012b", "a-b", `"‒" → "-"`},
		{"minus sign", "\u22125", "-5", `"−" → "-"`},
		{"non-breaking hyphen", "a\u2011b", "a-b", "\"\u2011\" → \"-\""},
		{"hyphen", "a\u2010b", "a-b", `"‐" → "-"`},
		{"curly single quotes", "‘Ola’s’", "'Ola's'", `"‘" → "'", "’" → "'" (2×)`},
		{"low and reversed single quotes", "‚a‛", "'a'", `"‚" → "'", "‛" → "'"`},
		{"prime", "5′", "5'", `"′" → "'"`},
		{"acute accent", "O´Neil", "O'Neil", `"´" → "'"`},
		{"grave accent", "O`Neil", "O'Neil", "\"`\" → \"'\""},
		{"curly double quotes", "“AS”", "'AS'", `"“" → "'", "”" → "'"`},
		{"low and reversed double quotes", "„a‟", "'a'", `"„" → "'", "‟" → "'"`},
		{"guillemets", "«AS»", "'AS'", `"«" → "'", "»" → "'"`},
		{"double prime", "5″", "5'", `"″" → "'"`},
		{"ellipsis", "Ordre…", "Ordre...", `"…" → "..."`},
		{"no-break space", "Kari\u00a0Nordmann", "Kari Nordmann", `"\u00a0" → " "`},
		{"narrow no-break space", "1\u202f000", "1 000", `"\u202f" → " "`},
		{"thin space", "1\u2009000", "1 000", `"\u2009" → " "`},
		{"en and em space", "a\u2002b\u2003c", "a b c", `"\u2002" → " ", "\u2003" → " "`},
		{"figure space", "1\u2007000", "1 000", `"\u2007" → " "`},
		{"tab", "Kari\tNordmann", "Kari Nordmann", `"\t" → " "`},
		{"bullet", "• Ordre", "- Ordre", `"•" → "-"`},
		{"middle dot", "a·b", "a-b", `"·" → "-"`},
		{"soft hyphen", "Refu\u00adsjon", "Refusjon", `"\u00ad" removed`},
		{"zero width space", "Ref\u200busjon", "Refusjon", `"\u200b" removed`},
		{"zero width no-break space", "\ufeffRefusjon", "Refusjon", `"\ufeff" removed`},
		{"trimmed after removal", "Kari \u200b", "Kari", `"\u200b" removed`},
		{"order of first use", "a’b–c’d", "a'b-c'd", `"’" → "'" (2×), "–" → "-"`},
		{"with Nordic letters", "Bjørn – Ærø", "Bjørn - Ærø", `"–" → "-"`},
	}
	for _, tt := range tests {
		for _, domestic := range []bool{true, false} {
			if !domestic && !asWritten(tt.want, false) {
				continue
			}
			t.Run(fmt.Sprintf("%s/domestic=%v", tt.name, domestic), func(t *testing.T) {
				got, changes, err := Text(tt.in, domestic, MaxMessage)
				if err != nil {
					t.Fatalf("Text(%q, %v) error %v; want %q", tt.in, domestic, err, tt.want)
				}
				want := "typographic characters replaced: " + tt.changes
				if got != tt.want || changes != want {
					t.Errorf("Text(%q, %v) = %q, %q; want %q, %q", tt.in, domestic, got, changes, tt.want, want)
				}
			})
		}
	}
}

func TestTextTypographicForeign(t *testing.T) {
	got, changes, err := Text("Bjørn – Ærø", false, MaxMessage)
	want := `transliterated for a foreign payment to "Bjorn - Aero"; typographic characters replaced: "–" → "-"`
	if err != nil || got != "Bjorn - Aero" || changes != want {
		t.Errorf("Text(foreign) = %q, %q, %v; want %q, %q, nil", got, changes, err, "Bjorn - Aero", want)
	}
}

func TestTextTypographicRefused(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		domestic bool
		max      int
		wantMsg  []string
	}{
		{"emoji after a dash", "Ordre – 😀", true, MaxMessage, []string{"😀", "position 9"}},
		{"emoji after a dash, foreign", "Ordre – 😀", false, MaxMessage, []string{"position 9"}},
		{"plain double quote", "“a” \"b\"", true, MaxMessage, []string{"position 5"}},
		{"newline", "a–b\nc", true, MaxMessage, []string{"position 4"}},
		{"ellipsis makes 142", strings.Repeat("a", 139) + "…", true, MaxMessage, []string{"142", "typographic"}},
		{"ellipsis and transliteration", strings.Repeat("a", 138) + "æ…", false, MaxMessage, []string{"143", "translit"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, changes, err := Text(tt.in, tt.domestic, tt.max)
			if err == nil {
				t.Fatalf("Text(%q, %v) = %q, %q; want error", tt.in, tt.domestic, got, changes)
			}
			if got != "" || changes != "" {
				t.Errorf("Text(%q) = %q, %q with error; want \"\", \"\"", tt.in, got, changes)
			}
			for _, w := range tt.wantMsg {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Text(%q) error %q; want it to contain %q", tt.in, err, w)
				}
			}
		})
	}
}

func TestTextTypographicLengthAfterMapping(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want int
	}{
		{"ellipsis makes 140", strings.Repeat("a", 137) + "…", 140},
		{"141 with a soft hyphen is 140", strings.Repeat("a", 70) + "\u00ad" + strings.Repeat("a", 70), 140},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, changes, err := Text(tt.in, true, MaxMessage)
			if err != nil || utf8.RuneCountInString(got) != tt.want || changes == "" {
				t.Errorf("Text(%d characters) = %d characters, %q, %v; want %d, a change, nil",
					utf8.RuneCountInString(tt.in), utf8.RuneCountInString(got), changes, err, tt.want)
			}
		})
	}
}

func TestMessage(t *testing.T) {
	tests := []struct {
		prefix, ref, want string
	}{
		{"Refusjon ordre", "12345", "Refusjon ordre 12345"},
		{"", "12345", "12345"},
		{"  ", "12345", "12345"},
		{" Refusjon ", " 12 ", "Refusjon 12"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := Message(tt.prefix, tt.ref); got != tt.want {
				t.Errorf("Message(%q, %q) = %q; want %q", tt.prefix, tt.ref, got, tt.want)
			}
		})
	}
}

func FuzzText(f *testing.F) {
	for _, s := range []string{"Bjørn Ærø Åsen", "Refusjon ordre 12345", "a<b", "Hei 😀", "Straße & Sønn", "50% @ §", "\xff", "",
		"Ordre – 12 “x” …", "a\u00adb\u200b", "\u200b a\tb"} {
		f.Add(s, true)
		f.Add(s, false)
	}
	f.Fuzz(func(t *testing.T, s string, domestic bool) {
		out, changes, err := Text(s, domestic, MaxMessage)
		if err != nil {
			if out != "" || changes != "" {
				t.Fatalf("Text(%q, %v) = %q, %q with error %v; want \"\", \"\"", s, domestic, out, changes, err)
			}
			return
		}
		if n := utf8.RuneCountInString(out); n > MaxMessage {
			t.Fatalf("Text(%q, %v) = %d characters; want at most %d", s, domestic, n, MaxMessage)
		}
		for _, r := range out {
			_, nordic := translit[r]
			if !isLatin(r) && (!domestic || !nordic) {
				t.Fatalf("Text(%q, %v) = %q with %q; want only allowed characters", s, domestic, out, r)
			}
		}
		if domestic && strings.Contains(changes, "transliterated") {
			t.Fatalf("Text(%q, domestic) changes %q; want no transliteration", s, changes)
		}
		if changes == "" && out != strings.TrimSpace(s) {
			t.Fatalf("Text(%q, %v) = %q with no changes; want the trimmed input", s, domestic, out)
		}
		again, changesAgain, err := Text(out, domestic, MaxMessage)
		if err != nil || again != out || changesAgain != "" {
			t.Fatalf("Text(%q, %v) = %q, %q, %v; want it unchanged (idempotent)", out, domestic, again, changesAgain, err)
		}
	})
}
