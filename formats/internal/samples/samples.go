// Package samples finds the public ISO 20022 sample messages in the shared
// folder beside the repository checkout, for tests.
//
// When the folder is missing the test is skipped, except under CI=true,
// where it fails: CI must not pass without having read the samples.
package samples

import (
	"os"
	"path/filepath"
	"testing"

	"refundd/formats/xsdtest"
)

// Dir returns the folder of the samples of one message type, e.g.
// "camt.054".
func Dir(t testing.TB, message string) string {
	t.Helper()
	return xsdtest.Shared(t, "iso20022", "samples", message)
}

// Files returns the paths of the XML samples of one message type.
func Files(t testing.TB, message string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(Dir(t, message), "*.xml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("samples: no %s samples (%v)", message, err)
	}
	return files
}

// Open opens the sample name of one message type.
func Open(t testing.TB, message, name string) *os.File {
	t.Helper()
	f, err := os.Open(filepath.Join(Dir(t, message), name))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}
