package refund

import (
	"bytes"
	"crypto/sha256"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"
)

const testOrg = "987654325"

// maxE2E is the longest EndToEndID with a release up to 99:
// "PY-" + 17 characters of RefNbr + "-R99" + "-" + 8 hash characters.
const maxE2E = 3 + 17 + 4 + 1 + 8

func TestIDsGolden(t *testing.T) {
	// Hashes computed independently (Python hashlib + base32) from the
	// documented recipe. A change here changes the ids of files already sent
	// and breaks the bank's duplicate check: never update these lightly.
	tests := []struct {
		name, got, want string
	}{
		{"MsgID", MsgID(testOrg, "B2026001", 0), "RFD-B2026001-LCAWFQUN"},
		{"MsgID attempt 2", MsgID(testOrg, "B2026001", 2), "RFD-B2026001-R2-VQGKEPLU"},
		{"EndToEndID", EndToEndID(CreditNote, "CN000123", 0), "CN-CN000123-LBYRMSZB"},
		{"EndToEndID release 1", EndToEndID(Prepayment, "PP-77", 1), "PP-PP-77-R1-7YJ3FPIH"},
		{"PmtInfID", PmtInfID("RFD-B2026001-LCAWFQUN", 3), "RFD-B2026001-LCAWFQUN-3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("%s = %q; want %q", tt.name, tt.got, tt.want)
			}
		})
	}
}

func TestMsgID(t *testing.T) {
	tests := []struct {
		name, org, batch string
		attempt          int
		prefix           string
	}{
		{"plain", testOrg, "B2026001", 0, "RFD-B2026001-"},
		{"re-release", testOrg, "B2026001", 1, "RFD-B2026001-R1-"},
		{"re-release 99", testOrg, "B2026001", 99, "RFD-B2026001-R99-"},
		{"long batch cut at 14", testOrg, "ABCDEFGHIJKLMNOPQRSTUVWXYZ", 0, "RFD-ABCDEFGHIJKLMN-"},
		{"long batch, attempt 99", testOrg, strings.Repeat("9", 50), 99, "RFD-99999999999999-R99-"},
		{"slashes and spaces dropped", testOrg, "2026/03 001", 0, "RFD-202603001-"},
		{"leading hyphen dropped", testOrg, "-12", 0, "RFD-12-"},
		{"hyphen kept", testOrg, "B-12", 0, "RFD-B-12-"},
		{"hyphen at the cut dropped", testOrg, "ABCDEFGHIJKLM-N", 0, "RFD-ABCDEFGHIJKLM-"},
		{"double hyphen collapsed", testOrg, "B--12", 0, "RFD-B-12-"},
		{"triple hyphen collapsed", testOrg, "B---12", 0, "RFD-B-12-"},
		{"unicode dropped", testOrg, "Bølge-7", 0, "RFD-Blge-7-"},
		{"nothing usable", testOrg, "///", 0, "RFD-"},
		{"empty", testOrg, "", 0, "RFD-"},
		{"empty re-release", testOrg, "", 3, "RFD-R3-"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := MsgID(tt.org, tt.batch, tt.attempt)
			if !strings.HasPrefix(got, tt.prefix) {
				t.Errorf("MsgID(%q, %q, %d) = %q; want prefix %q", tt.org, tt.batch, tt.attempt, got, tt.prefix)
			}
			if want := len(tt.prefix) + 8; len(got) != want {
				t.Errorf("MsgID(%q, %q, %d) = %q of length %d; want %d (prefix and 8 hash characters)", tt.org, tt.batch, tt.attempt, got, len(got), want)
			}
			checkID(t, "MsgID", got, 31)
			if again := MsgID(tt.org, tt.batch, tt.attempt); again != got {
				t.Errorf("MsgID(%q, %q, %d) = %q, then %q; want deterministic", tt.org, tt.batch, tt.attempt, got, again)
			}
			checkID(t, "PmtInfID", PmtInfID(got, 999), MaxID)
		})
	}
}

// checkID fails unless id is safe, at most max long, and has no "--".
func checkID(t *testing.T, what, id string, max int) {
	t.Helper()
	if !IsSafeID(id) {
		t.Errorf("%s %q: IsSafeID = false; want true", what, id)
	}
	if len(id) > max {
		t.Errorf("%s %q: length %d; want at most %d", what, id, len(id), max)
	}
	if strings.Contains(id, "--") || strings.HasPrefix(id, "-") || strings.HasSuffix(id, "-") {
		t.Errorf("%s %q: want no empty part (\"--\" or a hyphen at an end)", what, id)
	}
}

func TestMsgIDDiffers(t *testing.T) {
	base := MsgID(testOrg, "B2026001", 0)
	others := map[string]string{
		"other batch":    MsgID(testOrg, "B2026002", 0),
		"same safe part": MsgID(testOrg, "B2026/001", 0),
		"attempt 1":      MsgID(testOrg, "B2026001", 1),
		"other company":  MsgID("923609016", "B2026001", 0),
	}
	seen := map[string]string{base: "base"}
	for name, id := range others {
		if prev, ok := seen[id]; ok {
			t.Errorf("MsgID for %s = %q, the same as for %s; want different", name, id, prev)
		}
		seen[id] = name
	}
	// Batches that differ beyond the 14 visible characters differ in the hash.
	a, b := MsgID(testOrg, "ABCDEFGHIJKLMNOP1", 0), MsgID(testOrg, "ABCDEFGHIJKLMNOP2", 0)
	if a == b {
		t.Errorf("MsgID of two long batches = %q for both; want different", a)
	}
}

func TestEndToEndID(t *testing.T) {
	tests := []struct {
		name    string
		typ     DocType
		ref     string
		release int
		prefix  string
	}{
		{"credit note", CreditNote, "CN000123", 0, "CN-CN000123-"},
		{"prepayment", Prepayment, "PP000123", 0, "PP-PP000123-"},
		{"payment", Payment, "PY000123", 0, "PY-PY000123-"},
		{"release 1", CreditNote, "CN000123", 1, "CN-CN000123-R1-"},
		{"release 99", CreditNote, "CN000123", 99, "CN-CN000123-R99-"},
		{"long RefNbr cut at 17", Payment, strings.Repeat("7", 40), 99, "PY-77777777777777777-R99-"},
		{"slashes", CreditNote, "2026/000123", 0, "CN-2026000123-"},
		{"unicode and spaces", CreditNote, "Nr. 12 ÆØÅ", 0, "CN-Nr12-"},
		{"double hyphen", CreditNote, "A--1", 0, "CN-A-1-"},
		{"nothing usable", Prepayment, "//", 0, "PP-"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := EndToEndID(tt.typ, tt.ref, tt.release)
			if !strings.HasPrefix(got, tt.prefix) || len(got) != len(tt.prefix)+8 {
				t.Errorf("EndToEndID(%s, %q, %d) = %q; want %q and 8 hash characters", tt.typ, tt.ref, tt.release, got, tt.prefix)
			}
			checkID(t, "EndToEndID", got, maxE2E)
			if again := EndToEndID(tt.typ, tt.ref, tt.release); again != got {
				t.Errorf("EndToEndID(%s, %q, %d) = %q, then %q; want deterministic", tt.typ, tt.ref, tt.release, got, again)
			}
		})
	}
}

func TestEndToEndIDDiffers(t *testing.T) {
	ids := map[string]string{
		"base":           EndToEndID(CreditNote, "000123", 0),
		"other RefNbr":   EndToEndID(CreditNote, "000124", 0),
		"same safe part": EndToEndID(CreditNote, "000/123", 0),
		"prepayment":     EndToEndID(Prepayment, "000123", 0),
		"payment":        EndToEndID(Payment, "000123", 0),
		"unknown type":   EndToEndID("", "000123", 0),
		"release 1":      EndToEndID(CreditNote, "000123", 1),
		"release 2":      EndToEndID(CreditNote, "000123", 2),
		"RefNbr like R1": EndToEndID(CreditNote, "000123-R1", 0),
		"long RefNbr 1":  EndToEndID(CreditNote, strings.Repeat("1", 17)+"A", 0),
		"long RefNbr 2":  EndToEndID(CreditNote, strings.Repeat("1", 17)+"B", 0),
	}
	seen := map[string]string{}
	for name, id := range ids {
		if prev, ok := seen[id]; ok {
			t.Errorf("EndToEndID for %s = %q, the same as for %s; want different", name, id, prev)
		}
		seen[id] = name
	}
}

func TestIDsRandom(t *testing.T) {
	pieces := []string{"a", "Z", "0", "9", "-", "--", "/", "//", " ", "\t", "æ", "Ø", "😀", "\x00", "\xff",
		".", ",", "'", "+", "?", ":", "(", ")", "_", "<", "&", "B2026", "Kreditnota 12", strings.Repeat("x", 40)}
	rng := rand.New(rand.NewPCG(5, 6))
	types := []DocType{CreditNote, Prepayment, Payment, ""}
	for range 5000 {
		var b strings.Builder
		for n := rng.IntN(12); n > 0; n-- {
			b.WriteString(pieces[rng.IntN(len(pieces))])
		}
		s := b.String()
		attempt := rng.IntN(100)
		checkID(t, "MsgID", MsgID(testOrg, s, attempt), 31)
		checkID(t, "PmtInfID", PmtInfID(MsgID(s, s, attempt), 1+rng.IntN(999)), MaxID)
		checkID(t, "EndToEndID", EndToEndID(types[rng.IntN(len(types))], s, attempt), maxE2E)
		if t.Failed() {
			t.Fatalf("input %q, attempt %d", s, attempt)
		}
	}
}

func TestIsSafeID(t *testing.T) {
	tests := []struct {
		id   string
		want bool
	}{
		{"RFD-B2026001-LCAWFQUN", true},
		{"a", true},
		{"A/B", true},
		{"A?:().,'+-z9", true},
		{strings.Repeat("A", 35), true},
		{strings.Repeat("A", 36), false},
		{"", false},
		{"/ABC", false},
		{"ABC/", false},
		{"A//B", false},
		{"/", false},
		{"A B", false},
		{" AB", false},
		{"A_B", false},
		{"A\nB", false},
		{"A&B", false},
		{"A<B", false},
		{`A"B`, false},
		{"Æ1", false},
		{"A\x00", false},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			if got := IsSafeID(tt.id); got != tt.want {
				t.Errorf("IsSafeID(%q) = %v; want %v", tt.id, got, tt.want)
			}
		})
	}
}

// TestEndToEndIDDefinition: EndToEndID, built in one buffer, is its
// definition: the code, the safe part of the RefNbr, the release and the
// digest, joined by '-' where not empty; and the short digest is the
// start of the full one.
func TestEndToEndIDDefinition(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(2, seed))
	chars := []byte("aZ09-/ .æ-")
	refs := []string{"", "-", "--", "/", "ÆØÅ", "R-1", "-R1-", strings.Repeat("A", 40), strings.Repeat("-A", 20)}
	for range 2000 {
		b := make([]byte, rng.IntN(30))
		for i := range b {
			b[i] = chars[rng.IntN(len(chars))]
		}
		refs = append(refs, string(b))
	}
	for _, ref := range refs {
		for _, typ := range []DocType{CreditNote, Prepayment, Payment} {
			for _, release := range []int{0, 1, 12} {
				suffix := ""
				if release > 0 {
					suffix = "R" + strconv.Itoa(release)
				}
				parts := []string{"e2e", string(typ), ref, strconv.Itoa(release)}
				var h bytes.Buffer
				for _, p := range parts {
					h.WriteString(p)
					h.WriteByte(0)
				}
				sum := sha256.Sum256(h.Bytes())
				want := join(typ.code(), safe(ref, 17), suffix, idEncoding.EncodeToString(sum[:])[:8])
				if got := EndToEndID(typ, ref, release); got != want {
					t.Fatalf("EndToEndID(%s, %q, %d) = %q; want %q", typ, ref, release, got, want)
				}
			}
		}
	}
}
