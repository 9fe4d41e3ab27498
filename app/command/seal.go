package command

import (
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

// Person is how events record a resident: name, ID number and phone
// masked, the reference, and the full details sealed with a key of the
// resident's own (AES-256-GCM), so that views and logs never hold them in
// clear and only the resident's own requests open them.
func (hl *Hall) Person(c domain.Checked) (domain.Person, error) {
	ref := hl.Ref(c)
	full, err := json.Marshal(domain.Applicant{Name: c.Name, IDNumber: c.ID.Full(), Phone: c.Phone})
	if err != nil {
		return domain.Person{}, err
	}
	aead, err := hl.sealer(ref)
	if err != nil {
		return domain.Person{}, err
	}
	nonce := make([]byte, aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return domain.Person{}, err
	}
	return domain.Person{Ref: ref, Name: domain.MaskName(c.Name), ID: c.ID.Masked(), Phone: domain.MaskPhone(c.Phone),
		Sealed: aead.Seal(nonce, nonce, full, []byte(ref))}, nil
}

// Unseal opens a person's full details.
func (hl *Hall) Unseal(p domain.Person) (domain.Applicant, error) {
	var a domain.Applicant
	aead, err := hl.sealer(p.Ref)
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

// sealer is the resident's cipher. The key is derived from the sealing key
// and the reference; erasing one resident's details (a key stored per
// resident and deleted on request) is not built.
func (hl *Hall) sealer(ref string) (cipher.AEAD, error) {
	m := hmac.New(sha256.New, hl.keys.Seal)
	m.Write([]byte("seal\x00" + ref))
	block, err := aes.NewCipher(m.Sum(nil))
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}
