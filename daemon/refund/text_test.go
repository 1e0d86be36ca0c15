package refund

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestTextAccepts(t *testing.T) {
	tests := []struct {
		name        string
		in          string
		domestic    bool
		want        string
		wantChanged bool
	}{
		{"plain domestic", "Refusjon ordre 12345", true, "Refusjon ordre 12345", false},
		{"plain foreign", "Refusjon ordre 12345", false, "Refusjon ordre 12345", false},
		{"basic Latin signs", "A/B-C?D:E(F).G,H'I+J", false, "A/B-C?D:E(F).G,H'I+J", false},
		{"Norwegian letters domestic", "Bjørn Ærø Åsen æøåÆØÅ", true, "Bjørn Ærø Åsen æøåÆØÅ", false},
		{"Nordic letters domestic", "áäçđéíóöúüý ÁÄÇÐÉÍÓÖÚÜÝ ß", true, "áäçđéíóöúüý ÁÄÇÐÉÍÓÖÚÜÝ ß", false},
		{"Nordic signs domestic", "50% & = @ §", true, "50% & = @ §", false},
		{"trimmed", "  Refusjon 1 \t", true, "Refusjon 1", false},
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
			got, changed, err := Text(tt.in, tt.domestic, MaxMessage)
			if err != nil {
				t.Fatalf("Text(%q, %v) error %v; want %q", tt.in, tt.domestic, err, tt.want)
			}
			if got != tt.want || changed != tt.wantChanged {
				t.Errorf("Text(%q, %v) = %q, changed %v; want %q, changed %v", tt.in, tt.domestic, got, changed, tt.want, tt.wantChanged)
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
		{"tab inside", "Hei\tdu", true, MaxMessage, []string{"position 4"}},
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
		{"141 Norwegian characters", strings.Repeat("ø", 141), true, MaxMessage, []string{"141"}},
		{"longer than max", "abcdef", true, 5, []string{"6", "5"}},
		{"140 becoming 141 after transliteration", strings.Repeat("a", 139) + "æ", false, MaxMessage, []string{"141", "translit"}},
		{"invalid UTF-8", "ab\xffc", true, MaxMessage, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, changed, err := Text(tt.in, tt.domestic, tt.max)
			if err == nil {
				t.Fatalf("Text(%q, %v, %d) = %q, %v; want error", tt.in, tt.domestic, tt.max, got, changed)
			}
			if got != "" || changed {
				t.Errorf("Text(%q) = %q, %v with error; want \"\", false (never truncated)", tt.in, got, changed)
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
		got, changed, err := Text("x"+string(r)+"x", false, MaxMessage)
		if sp == "" {
			if err == nil {
				t.Errorf("Text(%q, foreign) = %q; want error", r, got)
			}
			continue
		}
		if err != nil || !changed || got != "x"+sp+"x" {
			t.Errorf("Text(%q, foreign) = %q, %v, %v; want %q, true, nil", r, got, changed, err, "x"+sp+"x")
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
	for _, s := range []string{"Bjørn Ærø Åsen", "Refusjon ordre 12345", "a<b", "Hei 😀", "Straße & Sønn", "50% @ §", "\xff", ""} {
		f.Add(s, true)
		f.Add(s, false)
	}
	f.Fuzz(func(t *testing.T, s string, domestic bool) {
		out, changed, err := Text(s, domestic, MaxMessage)
		if err != nil {
			if out != "" || changed {
				t.Fatalf("Text(%q, %v) = %q, %v with error %v; want \"\", false", s, domestic, out, changed, err)
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
		if domestic && (changed || out != strings.TrimSpace(s)) {
			t.Fatalf("Text(%q, domestic) = %q, changed %v; want the trimmed input unchanged", s, out, changed)
		}
		if !changed && out != strings.TrimSpace(s) {
			t.Fatalf("Text(%q, %v) = %q with changed false; want the trimmed input", s, domestic, out)
		}
		again, changedAgain, err := Text(out, domestic, MaxMessage)
		if err != nil || again != out || changedAgain {
			t.Fatalf("Text(%q, %v) = %q, %v, %v; want it unchanged (idempotent)", out, domestic, again, changedAgain, err)
		}
	})
}
