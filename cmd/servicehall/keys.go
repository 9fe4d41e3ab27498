package main

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/servicehall/servicehall/app/command"
)

// The key files of a data folder, one per purpose, so that none is lost
// with another:
//
//	token.key      signs login tokens: the first key signs, every key listed
//	               verifies (rotate-token-key puts a new one first);
//	reference.key  residents' references and logins: it never changes;
//	seal.key       seals residents' details.
//
// They are made on the first start, while the log is empty. Later, a
// missing or damaged file stops the server with a message saying so: it
// is never replaced, since a new key would orphan what the old one made.
// A folder from before the split has one raw token.key that served all
// three; the first start after the upgrade writes reference.key and
// seal.key with the keys it derived from it, so residents keep their
// appointments, and token.key rotates on its own from then on.
const (
	tokenFile     = "token.key"
	referenceFile = "reference.key"
	sealFile      = "seal.key"
	keysHeader    = "# servicehall keys: base64, one a line; the first is in use. Never edit or replace (密钥文件，请勿修改或替换)."
	keepTokenKeys = 3 // the one in use and two before it, for tokens still valid
)

// keyring is what the key files hold.
type keyring struct {
	Token [][]byte
	command.Keys
}

// loadKeys reads the data folder's keys, making them only when fresh (the
// log holds nothing yet).
func loadKeys(dir string, fresh bool) (keyring, error) {
	var k keyring
	if err := migrateLegacy(dir); err != nil {
		return k, err
	}
	var err error
	if k.Token, err = keyFile(dir, tokenFile, fresh); err != nil {
		return k, err
	}
	ref, err := keyFile(dir, referenceFile, fresh)
	if err != nil {
		return k, err
	}
	seal, err := keyFile(dir, sealFile, fresh)
	if err != nil {
		return k, err
	}
	k.Reference, k.Seal = ref[0], seal[0]
	return k, nil
}

// tokenKeys reads token.key alone, for a server meeting a token signed by a
// key another process rotated in.
func tokenKeys(dir string) func() ([][]byte, error) {
	return func() ([][]byte, error) { return keyFile(dir, tokenFile, false) }
}

// keyFile reads the keys of one file; a missing file is made with a new
// key when fresh, and is an error otherwise.
func keyFile(dir, name string, fresh bool) ([][]byte, error) {
	path := filepath.Join(dir, name)
	raw, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		if !fresh {
			return nil, fmt.Errorf("%s is missing, and the log already holds events: restore it from a backup; a new key would orphan what the old one made (密钥文件缺失，请从备份恢复)", path)
		}
		key := make([]byte, 32)
		rand.Read(key)
		if err := createKeyFile(path, [][]byte{key}); err != nil {
			return nil, err
		}
		return keyFile(dir, name, false) // another process may have made it first
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	keys, err := parseKeys(raw)
	if err != nil {
		return nil, fmt.Errorf("%s is damaged (%v): restore it from a backup; it is never replaced (密钥文件已损坏，请从备份恢复)", path, err)
	}
	return keys, nil
}

func parseKeys(raw []byte) ([][]byte, error) {
	if !bytes.HasPrefix(raw, []byte("# servicehall keys")) {
		return nil, errors.New("not a servicehall key file")
	}
	var keys [][]byte
	lines := bufio.NewScanner(bytes.NewReader(raw))
	for lines.Scan() {
		line := strings.TrimSpace(lines.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		key, err := base64.StdEncoding.DecodeString(line)
		if err != nil || len(key) < 32 {
			return nil, errors.New("a line is not a key of 32 bytes or more")
		}
		keys = append(keys, key)
	}
	if len(keys) == 0 {
		return nil, errors.New("no key")
	}
	return keys, nil
}

func formatKeys(keys [][]byte) []byte {
	var b bytes.Buffer
	fmt.Fprintln(&b, keysHeader)
	for _, k := range keys {
		fmt.Fprintln(&b, base64.StdEncoding.EncodeToString(k))
	}
	return b.Bytes()
}

// createKeyFile writes a new key file, unless one is there already: of two
// processes starting together, the first one's keys stand.
func createKeyFile(path string, keys [][]byte) error {
	tmp, err := writeTemp(path, keys)
	if err != nil {
		return err
	}
	defer os.Remove(tmp)
	if err := os.Link(tmp, path); err != nil && !errors.Is(err, os.ErrExist) {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// replaceKeyFile writes a key file over the old one in one step.
func replaceKeyFile(path string, keys [][]byte) error {
	tmp, err := writeTemp(path, keys)
	if err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

func writeTemp(path string, keys [][]byte) (string, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return "", err
	}
	f, err := os.CreateTemp(filepath.Dir(path), ".key-*")
	if err != nil {
		return "", err
	}
	_, werr := f.Write(formatKeys(keys))
	serr := f.Sync()
	cerr := f.Close()
	if err := errors.Join(werr, serr, cerr); err != nil {
		os.Remove(f.Name())
		return "", fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Chmod(f.Name(), 0o600); err != nil {
		os.Remove(f.Name())
		return "", err
	}
	return f.Name(), nil
}

// migrateLegacy splits a raw token.key, which keyed everything before,
// into the three files: reference.key gets the raw key (references and
// logins were keyed by it), seal.key the key sealing derived from it, and
// token.key the same key in the new form (tokens stay valid).
func migrateLegacy(dir string) error {
	path := filepath.Join(dir, tokenFile)
	raw, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) || bytes.HasPrefix(raw, []byte("# servicehall keys")) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	if len(raw) < 32 {
		return fmt.Errorf("%s is damaged (%d bytes): restore it from a backup; it is never replaced (密钥文件已损坏，请从备份恢复)", path, len(raw))
	}
	seal := sha256.Sum256(append([]byte("resident-ref\x00"), raw...))
	if err := createKeyFile(filepath.Join(dir, referenceFile), [][]byte{raw}); err != nil {
		return err
	}
	if err := createKeyFile(filepath.Join(dir, sealFile), [][]byte{seal[:]}); err != nil {
		return err
	}
	return replaceKeyFile(path, [][]byte{raw})
}

// rotateTokenKey puts a new signing key first in token.key, keeping the
// two before it so that tokens they signed stay valid until they expire.
func rotateTokenKey(args []string, stdout, stderr io.Writer) error {
	c, pos, err := parse("rotate-token-key", args, stderr, nil)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return fmt.Errorf("rotate-token-key: unexpected %q", pos)
	}
	if err := migrateLegacy(c.Data); err != nil {
		return err
	}
	keys, err := keyFile(c.Data, tokenFile, false)
	if err != nil {
		return err
	}
	key := make([]byte, 32)
	rand.Read(key)
	keys = append([][]byte{key}, keys...)
	if len(keys) > keepTokenKeys {
		keys = keys[:keepTokenKeys]
	}
	if err := replaceKeyFile(filepath.Join(c.Data, tokenFile), keys); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "token key rotated: %d keys, the new one signs; running servers take it up when they meet a token it signed (令牌密钥已轮换)\n", len(keys))
	return nil
}
