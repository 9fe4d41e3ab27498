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
	"time"

	"github.com/servicehall/servicehall/domain"
	"github.com/servicehall/servicehall/domain/idnumber"
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

// RefOf is the reference of the person an ID number names.
func (hl *Hall) RefOf(idNumber string, at time.Time) (string, error) {
	id, err := idnumber.Parse(idNumber, at.In(hl.loc))
	if err != nil {
		return "", &domain.FieldError{Field: "id_number", Err: fmt.Errorf("%w: %w", domain.ErrInvalid, err)}
	}
	return hl.Ref(domain.Checked{ID: id}), nil
}

// Erase erases people at their request (PIPL art. 47): the appointments in
// cancel (their live ones from today on, found by the caller; each is
// checked on its stream) are cancelled, their sealing keys destroyed, and
// each erasure recorded, so that the views forget them. Every other event
// stays, and so does every statistic. It answers how many appointments it
// cancelled.
func (hl *Hall) Erase(ctx context.Context, refs, cancel []string, m Meta) (int, error) {
	step := func(name string) Meta {
		m := m
		if m.CommandID != "" {
			m.CommandID += "/" + name
		}
		return m
	}
	n := 0
	for _, id := range cancel {
		// Erasure is no late cancellation: it never counts as a no-show.
		res, err := hl.cancel(ctx, id, "erased at the resident's request (应本人要求删除个人信息)", false, step("cancel-"+id))
		if err != nil && !errors.Is(err, domain.ErrState) && !errors.Is(err, domain.ErrNotFound) {
			return n, fmt.Errorf("erase: cancel %s: %w", id, err)
		}
		if len(res.Events) > 0 {
			n++
		}
	}
	for _, ref := range refs {
		if err := hl.keys.Vault.Erase(ctx, ref, m.At); err != nil {
			return n, fmt.Errorf("erase: %w", err)
		}
		if _, err := Execute(ctx, hl.h, domain.ErasureStream(ref), step("erase-"+ref), func(x *domain.Erasure) ([]domain.Event, error) {
			return x.Erase(ref, m.Actor.ID, m.At)
		}); err != nil {
			return n, fmt.Errorf("erase: %w", err)
		}
	}
	return n, nil
}
