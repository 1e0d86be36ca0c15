// Package xsdtest validates XML files against the official ISO 20022
// schemas with xmllint, for tests.
//
// The schemas are read from iso20022/xsd in the shared folder beside the
// repository checkout. When xmllint or the schemas are missing the test is
// skipped, except under CI=true, where it fails: CI must not pass without
// having validated anything.
package xsdtest

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Schema returns the path of the official schema file name, e.g.
// "pain.001.001.03.xsd".
func Schema(t testing.TB, name string) string {
	t.Helper()
	return Shared(t, "iso20022", "xsd", name)
}

// Shared returns the path of a file or folder in the shared folder beside
// the repository checkout, e.g. Shared(t, "iso20022", "samples"). When it
// is missing the test is skipped, or fails under CI=true.
func Shared(t testing.TB, elem ...string) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatalf("xsdtest: no go.mod above the test's folder")
		}
		dir = parent
	}
	p := filepath.Join(append([]string{dir, "..", "shared"}, elem...)...)
	if _, err := os.Stat(p); err != nil {
		missing(t, filepath.Join(elem...)+" not found beside the checkout: "+err.Error())
	}
	return p
}

// Validate checks the XML files against the schema file with xmllint and
// fails the test with xmllint's report if any is invalid.
func Validate(t testing.TB, schema string, files ...string) {
	t.Helper()
	xmllint, err := exec.LookPath("xmllint")
	if err != nil {
		missing(t, "xmllint not installed (Debian: libxml2-utils)")
	}
	args := append([]string{"--noout", "--nonet", "--schema", schema}, files...)
	out, err := exec.Command(xmllint, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("xmllint %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

func missing(t testing.TB, why string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("xsdtest: %s; CI=true, so this fails instead of skipping", why)
	}
	t.Skipf("xsdtest: %s", why)
}
