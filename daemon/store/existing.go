package store

import (
	"fmt"
	"os"
	"path/filepath"
)

// FileName is the name of the state database in the state folder.
const FileName = "refundd.db"

// OpenExisting opens the state database of the state folder dir for a
// command that runs beside the daemon (status, resolve, rerelease). A
// missing database is an error: these commands never create one.
func OpenExisting(dir string) (*Store, error) {
	p := filepath.Join(dir, FileName)
	if _, err := os.Stat(p); err != nil {
		return nil, fmt.Errorf("open store: %w (has refundd run with this configuration?)", err)
	}
	return Open(p)
}
