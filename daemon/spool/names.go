package spool

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"unicode/utf8"
)

// DoneSuffix is appended to a file's name to form its done marker: the
// marker "refunds.csv.done" says that "refunds.csv" is complete. Names that
// end in DoneSuffix (in any letter case) are never taken themselves.
const DoneSuffix = ".done"

// ErrName is returned for a name that is not a plain file name of the
// folder: empty, ".", "..", with a path separator or a NUL byte, or a name
// that Ignored reports.
var ErrName = errors.New("not a plain file name")

// ignoredPrefixes, ignoredSuffixes and ignoredNames are the names that Scan
// never takes, compared without regard to letter case. Keep them in step
// with the list in doc.go.
var (
	ignoredPrefixes = []string{
		".", // hidden files; also ".#x" (Emacs locks), ".~lock.x#" (LibreOffice), ".x.tmp" (our own writers), rsync's ".x.AbC123"
		"~", // "~$x.xlsx" (Microsoft Office owner files), "~x.tmp"
		"#", // "#x#" (Emacs auto-save)
	}
	ignoredSuffixes = []string{
		"~",           // backups (x~)
		".tmp",        // the usual temporary name
		".temp",       //
		".part",       // curl, wget, Firefox, many SFTP clients
		".partial",    //
		".filepart",   // WinSCP
		".crdownload", // Chromium
		".download",   // Safari
		".swp",        // vim
		".swx",        // vim
		".lock",       //
		".err",        // refundd's own problem reports (failed/)
		DoneSuffix,    // done markers
	}
	ignoredNames = []string{
		"thumbs.db",   // Windows Explorer
		"desktop.ini", // Windows Explorer
	}
)

// Ignored reports whether Scan skips the name whatever it holds: hidden
// names (a leading '.'), temporary and partial files, editor and office
// lock and backup files, done markers and refundd's own .err reports. The
// list is in the package documentation; letter case does not matter.
func Ignored(name string) bool {
	lower := strings.ToLower(name)
	for _, p := range ignoredPrefixes {
		if strings.HasPrefix(lower, p) {
			return true
		}
	}
	for _, s := range ignoredSuffixes {
		if strings.HasSuffix(lower, s) {
			return true
		}
	}
	for _, n := range ignoredNames {
		if lower == n {
			return true
		}
	}
	return false
}

// checkName refuses names that cannot be a single entry of a folder.
func checkName(name string) error {
	if name == "" || name == "." || name == ".." ||
		strings.ContainsRune(name, '/') || strings.ContainsRune(name, os.PathSeparator) ||
		strings.ContainsRune(name, 0) {
		return fmt.Errorf("%q: %w", name, ErrName)
	}
	return nil
}

// checkCandidateName refuses names that Scan would never offer.
func checkCandidateName(name string) error {
	if err := checkName(name); err != nil {
		return err
	}
	if Ignored(name) {
		return fmt.Errorf("%q: %w (an ignored name)", name, ErrName)
	}
	return nil
}

// maxNumbered bounds the search for a free name.
const maxNumbered = 10000

// numbered returns the n-th choice of a name for name: name itself for 1,
// then "stem (n).ext" ("refunds (2).csv").
func numbered(name string, n int) string {
	if n <= 1 {
		return name
	}
	ext := filepath.Ext(name)
	if ext == name {
		ext = ""
	}
	tag := " (" + strconv.Itoa(n) + ")" + ext
	return cut(name[:len(name)-len(ext)], nameMax-len(tag)) + tag
}

// nameMax is the longest name of a folder entry, in bytes (NAME_MAX).
const nameMax = 255

// cut returns s shortened to at most n bytes, at a character boundary.
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[:max(n, 0)]
	for !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s
}

// errName is the name of the .err report of the file name in failed/:
// name + ".err", shortened by ShortName when that is longer than a folder
// entry can be. The report's first line then names the file.
func errName(name string) string {
	return ShortName(name+errSuffix, nameMax)
}

// ShortName returns name when it has at most max bytes; otherwise its
// start (cut at a character boundary), "~" and a hash of the whole name,
// and its extension (when that is short), in at most max bytes. The same
// name always gives the same short name.
func ShortName(name string, max int) string {
	if len(name) <= max {
		return name
	}
	sum := sha256.Sum256([]byte(name))
	ext := filepath.Ext(name)
	if len(ext) > 16 {
		ext = ""
	}
	tag := "~" + hex.EncodeToString(sum[:8]) + ext
	return cut(name[:len(name)-len(ext)], max-len(tag)) + tag
}

// errSuffix ends the name of a .err report.
const errSuffix = ".err"

// numberedOf reports whether cand is name or one of the numbered names
// that freeName gives it: numbered(name, n) for an n of at least 2.
func numberedOf(cand, name string) bool {
	if cand == name {
		return true
	}
	ext := filepath.Ext(name)
	if ext == name {
		ext = ""
	}
	stem, ok := strings.CutSuffix(cand, ")"+ext)
	if !ok {
		return false
	}
	i := strings.LastIndex(stem, " (")
	if i < 0 {
		return false
	}
	n, err := strconv.Atoi(stem[i+2:])
	return err == nil && n >= 2 && numbered(name, n) == cand
}
