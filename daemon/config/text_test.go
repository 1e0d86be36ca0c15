package config

import (
	"errors"
	"os"
	"strings"
	"testing"
)

// TestConfigTypographicCharacters: the company name and the message prefix
// are written into payment files as configured, so a typographic character
// that refund.Text would replace is refused here, with its replacement.
func TestConfigTypographicCharacters(t *testing.T) {
	base, err := os.ReadFile("../testdata/refundd.yaml")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, from, to string
		want           string // "" for a valid configuration
	}{
		{"plain", `"Eksempel Handel AS"`, `"Eksempel Handel AS"`, ""},
		{"Nordic letters", `"Eksempel Handel AS"`, `"Ærlig & Sønn AS"`, ""},
		{"en dash in the company name", `"Eksempel Handel AS"`, `"Eksempel – Handel AS"`,
			`company.name: has characters outside the bank's set; write it with them replaced (typographic characters replaced: "–" → "-")`},
		{"curly quote in the prefix", `prefix: "Refusjon"`, `prefix: "Kundens refusjon’"`,
			`message.prefix: has characters outside the bank's set; write it with them replaced (typographic characters replaced: "’" → "'")`},
		{"emoji in the company name", `"Eksempel Handel AS"`, `"Eksempel 😀"`, `company.name: character '😀' at position 10`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			yaml := strings.Replace(string(base), tt.from, tt.to, 1)
			_, err := Parse(strings.NewReader(yaml), t.TempDir())
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Parse: %v; want nil", err)
				}
				return
			}
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Parse error %v; want ErrInvalid with %q", err, tt.want)
			}
		})
	}
}
