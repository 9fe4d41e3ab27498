package command

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"

	"github.com/servicehall/servicehall/domain"
)

// Subscription is an outbound webhook as the admin asks for it.
type Subscription struct {
	ID         string
	URL        string
	EventTypes []string
	Secret     string
	Personal   bool
}

// Subscribe records an outbound webhook from the log's head on, its secret
// sealed under the hall's key.
func (hl *Hall) Subscribe(ctx context.Context, s Subscription, m Meta) (Result, error) {
	if err := domain.CheckID("id", s.ID); err != nil {
		return Result{}, err
	}
	if len(s.Secret) < 16 || len(s.Secret) > 200 {
		return Result{}, &domain.FieldError{Field: "secret", Err: fmt.Errorf("%w: 16 to 200 characters (签名密钥须为16至200个字符)", domain.ErrInvalid)}
	}
	sealed, err := hl.sealSecret(s.ID, s.Secret)
	if err != nil {
		return Result{}, err
	}
	head, err := hl.h.Store().Head(ctx)
	if err != nil {
		return Result{}, err
	}
	return Execute(ctx, hl.h, domain.WebhooksStream, m, func(w *domain.Webhooks) ([]domain.Event, error) {
		return w.Subscribe(domain.WebhookSubscribed{ID: s.ID, URL: s.URL, EventTypes: s.EventTypes, Secret: sealed,
			Personal: s.Personal, After: head, At: m.At})
	})
}

// Webhooks is the subscriptions and their dead letters, read from the log.
func (hl *Hall) Webhooks(ctx context.Context) (*domain.Webhooks, error) {
	w, _, err := Load[domain.Webhooks](ctx, hl.h.Store(), domain.WebhooksStream)
	return w, err
}

// Delivered records that the deliveries through position are done.
func (hl *Hall) Delivered(ctx context.Context, through uint64, m Meta) (Result, error) {
	return Execute(ctx, hl.h, domain.WebhooksStream, m, func(w *domain.Webhooks) ([]domain.Event, error) {
		return w.Deliver(through)
	})
}

// DeadLetter records a delivery that failed every retry.
func (hl *Hall) DeadLetter(ctx context.Context, d domain.DeadLetter, m Meta) (Result, error) {
	return Execute(ctx, hl.h, domain.WebhooksStream, m, func(w *domain.Webhooks) ([]domain.Event, error) {
		return w.Fail(d)
	})
}

// Replayed records a dead letter delivered again.
func (hl *Hall) Replayed(ctx context.Context, id string, m Meta) (Result, error) {
	return Execute(ctx, hl.h, domain.WebhooksStream, m, func(w *domain.Webhooks) ([]domain.Event, error) {
		return w.Replayed(id, m.At)
	})
}

// Secret opens a subscription's signing secret.
func (hl *Hall) Secret(s domain.WebhookSubscribed) ([]byte, error) {
	aead, err := gcm(hl.secretKey())
	if err != nil {
		return nil, err
	}
	if len(s.Secret) < aead.NonceSize() {
		return nil, errors.New("webhook: no sealed secret")
	}
	return aead.Open(nil, s.Secret[:aead.NonceSize()], s.Secret[aead.NonceSize():], []byte(s.ID))
}

func (hl *Hall) sealSecret(id, secret string) ([]byte, error) {
	aead, err := gcm(hl.secretKey())
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	return aead.Seal(nonce, nonce, []byte(secret), []byte(id)), nil
}

// secretKey is the key webhook secrets are sealed with, derived from the
// hall's sealing key for this purpose only.
func (hl *Hall) secretKey() []byte {
	m := hmac.New(sha256.New, hl.keys.Seal)
	m.Write([]byte("webhook-secret"))
	return m.Sum(nil)
}
