package passport

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
)

// NewToken returns 32 random bytes, base64url without padding: for cookies, refresh tokens
// and client secrets.
func NewToken() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// HashToken returns the SHA-256 of a high-entropy secret, as stored at rest. Low-entropy
// secrets (passwords) use HashPassword instead.
func HashToken(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}
