//go:build !unix

package sqlitestore

import "os"

// lock is not enforced here (no flock): run one servicehall process per
// store. The nil file it returns is never closed.
func lock(string) (*os.File, error) { return nil, nil }
