package config

import (
	"errors"
	"os"
	"strings"
	"testing"
)

func TestParseSize(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
		err  string // a part of the error; "" for none
	}{
		{"67108864", 64 << 20, ""},
		{"1", 1, ""},
		{"200MiB", 200 << 20, ""},
		{"64 MiB", 64 << 20, ""},
		{" 64\tMiB ", 64 << 20, ""},
		{"1.5GiB", 3 << 29, ""},
		{"1.5gib", 3 << 29, ""},
		{"500MB", 500_000_000, ""},
		{"500mb", 500_000_000, ""},
		{"1.5GB", 1_500_000_000, ""},
		{"8GiB", 8 << 30, ""},
		{"100KB", 100_000, ""},
		{"100KiB", 100 << 10, ""},
		{"512B", 512, ""},
		{"0.5KiB", 512, ""},
		{"2.000MiB", 2 << 20, ""},
		{"0", 0, "greater than zero"},
		{"0MiB", 0, "greater than zero"},
		{"0.0GiB", 0, "greater than zero"},
		{"-1", 0, "greater than zero"},
		{"-64MiB", 0, "greater than zero"},
		{"0.5", 0, "not a whole number of bytes"},
		{"1.0000001MB", 0, "not a whole number of bytes"},
		{"1.3KiB", 0, "not a whole number of bytes"},
		{"", 0, "not a size"},
		{"MiB", 0, "not a size"},
		{"1,5GiB", 0, "not a size"},
		{".5GiB", 0, "not a size"},
		{"1e9", 0, "not a size"},
		{"64M", 0, "unknown unit"},
		{"64 TiB", 0, "unknown unit"},
		{"64 MiBs", 0, "unknown unit"},
		{"0x40", 0, "not a size"},
		{"99999999999999999999", 0, "too large"},
	} {
		got, err := ParseSize(tc.in)
		switch {
		case tc.err == "" && (err != nil || got != tc.want):
			t.Errorf("ParseSize(%q) = %d, %v; want %d", tc.in, got, err, tc.want)
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("ParseSize(%q) = %d, %v; want an error with %q", tc.in, got, err, tc.err)
		}
	}
}

// TestConfigLimits: limits.max_reply_size in the configuration, its
// default, and the errors, which name the key.
func TestConfigLimits(t *testing.T) {
	base, err := os.ReadFile("../testdata/refundd.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, yaml string
		want       int64
		err        string // a part of the error; "" for none
	}{
		{"default", "", DefaultMaxReplySize, ""},
		{"empty section", "limits: {}\n", DefaultMaxReplySize, ""},
		{"bytes", "limits: {max_reply_size: 67108864}\n", 64 << 20, ""},
		{"IEC", "limits: {max_reply_size: 200MiB}\n", 200 << 20, ""},
		{"with a blank", "limits: {max_reply_size: 64 MiB}\n", 64 << 20, ""},
		{"quoted", "limits: {max_reply_size: \"1.5GiB\"}\n", 3 << 29, ""},
		{"SI", "limits: {max_reply_size: 500MB}\n", 500_000_000, ""},
		{"largest", "limits: {max_reply_size: 8GiB}\n", 8 << 30, ""},
		{"too large", "limits: {max_reply_size: 9GiB}\n", 0, "limits.max_reply_size: \"9GiB\" is 9663676416 bytes, more than the largest allowed, 8 GiB"},
		{"one byte over", "limits: {max_reply_size: 8589934593}\n", 0, "limits.max_reply_size: \"8589934593\" is 8589934593 bytes, more than"},
		{"zero", "limits: {max_reply_size: 0}\n", 0, "limits.max_reply_size: \"0\": a size must be greater than zero"},
		{"negative", "limits: {max_reply_size: -5MiB}\n", 0, "limits.max_reply_size: \"-5MiB\": a size must be greater than zero"},
		{"fraction", "limits: {max_reply_size: 0.5}\n", 0, "limits.max_reply_size: \"0.5\" is not a whole number of bytes"},
		{"no number", "limits: {max_reply_size: lots}\n", 0, "limits.max_reply_size: \"lots\" is not a size"},
		{"unknown key", "limits: {max_reply: 64MiB}\n", 0, "field max_reply not found"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Parse(strings.NewReader(string(base)+tc.yaml), t.TempDir())
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) || !errors.Is(err, ErrInvalid) {
					t.Fatalf("error %v; want ErrInvalid with %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := c.Limits.MaxReplyBytes(); got != tc.want {
				t.Errorf("MaxReplyBytes() = %d; want %d", got, tc.want)
			}
			if got := c.SFTPConfig().MaxDownload; got != tc.want {
				t.Errorf("SFTPConfig().MaxDownload = %d; want %d", got, tc.want)
			}
		})
	}
	if got := (Limits{}).MaxReplyBytes(); got != DefaultMaxReplySize {
		t.Errorf("zero Limits: MaxReplyBytes() = %d; want %d", got, DefaultMaxReplySize)
	}
}
