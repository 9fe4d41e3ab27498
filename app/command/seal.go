package command

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/servicehall/servicehall/domain"
)

// ErrErased is the answer for a person's details after their erasure.
var ErrErased = errors.New("erased at the person's request (已应本人要求删除)")

// Person is how events record a resident: name, ID number and phone
// masked, the reference, and the full details sealed (AES-256-GCM) with a
// key of the resident's own, kept in the vault and named in the record, so
// that views and logs never hold them in clear, only the resident's own
// requests open them, and destroying the key erases them.
func (hl *Hall) Person(ctx context.Context, c domain.Checked) (domain.Person, error) {
	ref := hl.Ref(c)
	full, err := json.Marshal(domain.Applicant{Name: c.Name, IDNumber: c.ID.Full(), Phone: c.Phone})
	if err != nil {
		return domain.Person{}, err
	}
	id, key, err := hl.keys.Vault.Key(ctx, ref)
	if err != nil {
		return domain.Person{}, err
	}
	aead, err := gcm(key)
	if err != nil {
		return domain.Person{}, err
	}
	nonce := make([]byte, aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return domain.Person{}, err
	}
	return domain.Person{Ref: ref, Name: domain.MaskName(c.Name), ID: c.ID.Masked(), Phone: domain.MaskPhone(c.Phone),
		Key: id, Sealed: aead.Seal(nonce, nonce, full, []byte(ref))}, nil
}

// Unseal opens a person's full details; ErrErased once they are erased.
func (hl *Hall) Unseal(ctx context.Context, p domain.Person) (domain.Applicant, error) {
	var a domain.Applicant
	var key []byte
	if p.Key != "" {
		k, ok, err := hl.keys.Vault.Get(ctx, p.Key)
		if err != nil {
			return a, err
		}
		if !ok {
			return a, ErrErased
		}
		key = k
	} else { // sealed before keys were stored: derived, and erased by record
		erased, err := hl.keys.Vault.Erased(ctx, p.Ref)
		if err != nil {
			return a, err
		}
		if erased {
			return a, ErrErased
		}
		m := hmac.New(sha256.New, hl.keys.Seal)
		m.Write([]byte("seal\x00" + p.Ref))
		key = m.Sum(nil)
	}
	aead, err := gcm(key)
	if err != nil {
		return a, err
	}
	if len(p.Sealed) < aead.NonceSize() {
		return a, errors.New("no sealed details")
	}
	plain, err := aead.Open(nil, p.Sealed[:aead.NonceSize()], p.Sealed[aead.NonceSize():], []byte(p.Ref))
	if err != nil {
		return a, fmt.Errorf("unseal: %w", err)
	}
	return a, json.Unmarshal(plain, &a)
}

func gcm(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}
