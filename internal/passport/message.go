package passport

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/json"
	"errors"
	"time"
)

// Message channels (SPEC §9).
const (
	ChannelEmail = "email"
	ChannelSMS   = "sms"
	ChannelCall  = "call"
)

// Content is what a message says, rendered from its template.
type Content struct {
	Subject string `json:"subject,omitempty"`
	Text    string `json:"text"`
	HTML    string `json:"html,omitempty"`
	// Code is the one-time code a call channel turns into the caller's number.
	Code string `json:"code,omitempty"`
}

// Outgoing is a message to enqueue: its content is sealed before it is stored.
type Outgoing struct {
	Channel   string
	To        string
	Kind      string // the template, e.g. "email_change_code"
	Locale    string
	AccountID string
	Payload   []byte // sealed Content
	// Hold keeps the message from being sent until something releases it (the final
	// "account deleted" email waits for the purge).
	Hold bool
}

// Message is a message a worker delivers.
type Message struct {
	ID       string
	Channel  string
	To       string
	Kind     string
	Attempts int // this delivery's attempt number: the fencing token
	Content
}

// Sender delivers one message over one channel. An error means "try again later"; a
// PermanentError means retrying cannot help.
type Sender interface {
	Send(ctx context.Context, m *Message) error
}

// PermanentError marks a delivery failure that retrying cannot fix (a refused address).
type PermanentError struct{ Err error }

func (e *PermanentError) Error() string { return "permanent: " + e.Err.Error() }
func (e *PermanentError) Unwrap() error { return e.Err }

// IsPermanent reports whether err is a PermanentError.
func IsPermanent(err error) bool {
	var p *PermanentError
	return errors.As(err, &p)
}

// Sealer encrypts message content at rest (it carries one-time codes) with AES-256-GCM.
type Sealer struct{ aead cipher.AEAD }

// NewSealer makes a Sealer for a 32-byte key.
func NewSealer(key [32]byte) Sealer {
	block, err := aes.NewCipher(key[:])
	if err != nil {
		panic(err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		panic(err)
	}
	return Sealer{aead}
}

// Seal encrypts content.
func (s Sealer) Seal(c Content) ([]byte, error) {
	plain, err := json.Marshal(c)
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, s.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	return s.aead.Seal(nonce, nonce, plain, []byte("message")), nil
}

// Open decrypts sealed content.
func (s Sealer) Open(payload []byte) (Content, error) {
	var c Content
	n := s.aead.NonceSize()
	if len(payload) < n {
		return c, errors.New("message payload too short")
	}
	plain, err := s.aead.Open(nil, payload[:n], payload[n:], []byte("message"))
	if err != nil {
		return c, errors.New("message payload cannot be decrypted: was secret_key changed?")
	}
	return c, json.Unmarshal(plain, &c)
}

// SealBytes encrypts any secret for storage (TOTP secrets).
func (s Sealer) SealBytes(plain []byte, purpose string) ([]byte, error) {
	nonce := make([]byte, s.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	return s.aead.Seal(nonce, nonce, plain, []byte(purpose)), nil
}

// OpenBytes decrypts what SealBytes sealed for the same purpose.
func (s Sealer) OpenBytes(sealed []byte, purpose string) ([]byte, error) {
	n := s.aead.NonceSize()
	if len(sealed) < n {
		return nil, errors.New("sealed value too short")
	}
	return s.aead.Open(nil, sealed[:n], sealed[n:], []byte(purpose))
}

// Backoff is the wait before attempt n+1 after n failed attempts: 15 s doubled each time,
// at most an hour.
func Backoff(attempts int) time.Duration {
	d := 15 * time.Second
	for i := 1; i < attempts && d < time.Hour; i++ {
		d *= 2
	}
	return min(d, time.Hour)
}
