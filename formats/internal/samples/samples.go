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
)

// Dir returns the folder of the samples of one message type, e.g.
// "camt.054".
func Dir(t testing.TB, message string) string {
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
			t.Fatalf("samples: no go.mod above the test's folder")
		}
		dir = parent
	}
	p := filepath.Join(dir, "..", "shared", "iso20022", "samples", message)
	if _, err := os.Stat(p); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("samples: %v; CI=true, so this fails instead of skipping", err)
		}
		t.Skipf("samples: %v", err)
	}
	return p
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
