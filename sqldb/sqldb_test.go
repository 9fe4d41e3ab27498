package sqldb_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/servicehall/servicehall/sqldb"
)

// A damaged SQLite file is refused at open with a message naming it.
func TestDamagedFileIsRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "side.db")
	db, err := sqldb.OpenSQLite(path, "FULL")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT)`); err != nil {
		t.Fatal(err)
	}
	for i := range 2000 {
		if _, err := db.Exec(`INSERT INTO t (v) VALUES (?)`, strings.Repeat("x", 100+i%50)); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	again, err := sqldb.OpenSQLite(path, "FULL")
	if err != nil {
		t.Fatalf("a sound file: %v", err)
	}
	again.Close()

	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	junk := make([]byte, 512)
	for i := range junk {
		junk[i] = 0xA5
	}
	for _, page := range []int64{3, 10, 20} {
		f.WriteAt(junk, page*4096+8)
	}
	f.Close()
	if _, err := sqldb.OpenSQLite(path, "FULL"); err == nil || !strings.Contains(err.Error(), "damaged") {
		t.Fatalf("a damaged file opened: %v", err)
	}
}
