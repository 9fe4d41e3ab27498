package main

import (
	"bytes"
	"crypto/sha256"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Each purpose has its key file: made on an empty log, read as they are
// afterwards, and never replaced when missing or damaged.
func TestKeyFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	first, err := loadKeys(dir, true)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(first.Reference, first.Seal) || bytes.Equal(first.Token[0], first.Reference) || len(first.Token) != 1 {
		t.Fatalf("the keys are not separate: %x %x %x", first.Token, first.Reference, first.Seal)
	}
	again, err := loadKeys(dir, false)
	if err != nil || !bytes.Equal(again.Seal, first.Seal) || !bytes.Equal(again.Reference, first.Reference) || !bytes.Equal(again.Token[0], first.Token[0]) {
		t.Fatalf("a second start reads other keys: %v", err)
	}

	// Damaged: refused with a message naming the file, and left as it was.
	seal := filepath.Join(dir, sealFile)
	os.WriteFile(seal, []byte("# servicehall keys\nnot-base64!\n"), 0o600)
	if _, err := loadKeys(dir, false); err == nil || !strings.Contains(err.Error(), "seal.key is damaged") {
		t.Fatalf("a damaged seal.key: %v", err)
	}
	if b, _ := os.ReadFile(seal); string(b) != "# servicehall keys\nnot-base64!\n" {
		t.Fatalf("the damaged file was replaced: %q", b)
	}
	// Missing once the log holds events: refused, not made again.
	os.Remove(seal)
	if _, err := loadKeys(dir, false); err == nil || !strings.Contains(err.Error(), "seal.key is missing") {
		t.Fatalf("a missing seal.key: %v", err)
	}
	if _, err := os.Stat(seal); err == nil {
		t.Fatal("a missing key file was made again on a log that holds events")
	}
}

// A data folder from before the split had one raw token.key keying all:
// the upgrade keeps every key residents' data depends on.
func TestKeyFilesFromOneLegacyKey(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	legacy := bytes.Repeat([]byte{7}, 32)
	os.WriteFile(filepath.Join(dir, tokenFile), legacy, 0o600)
	k, err := loadKeys(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	derived := sha256.Sum256(append([]byte("resident-ref\x00"), legacy...))
	if !bytes.Equal(k.Token[0], legacy) || !bytes.Equal(k.Reference, legacy) || !bytes.Equal(k.Seal, derived[:]) {
		t.Fatalf("after the upgrade: token %x, reference %x, seal %x", k.Token, k.Reference, k.Seal)
	}
	// The token key now rotates alone; the others stay.
	if err := rotateTokenKey([]string{"--data", dir}, io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	r, err := loadKeys(dir, false)
	if err != nil || len(r.Token) != 2 || !bytes.Equal(r.Token[1], legacy) || bytes.Equal(r.Token[0], legacy) ||
		!bytes.Equal(r.Reference, legacy) || !bytes.Equal(r.Seal, derived[:]) {
		t.Fatalf("after a rotation: %v, %d token keys", err, len(r.Token))
	}
}
