package oidc

import (
	"context"
	"crypto/x509"
	"strings"
	"testing"

	"github.com/passport-idp/passport/internal/pgtest"
)

// TestSigningKeysAreEncryptedAtRest: the stored private key is not readable without the
// configured key, and the wrong key stops start-up with a clear message.
func TestSigningKeysAreEncryptedAtRest(t *testing.T) {
	ctx := context.Background()
	db := pgtest.New(t)
	key := [32]byte{1, 2, 3}
	k, err := NewKeys(ctx, db, key)
	if err != nil {
		t.Fatal(err)
	}
	signing, _ := k.SigningKey(ctx)
	set, _ := k.KeySet(ctx)
	if len(set) != 1 || set[0].ID() != signing.ID() || set[0].Use() != "sig" {
		t.Fatalf("key set %v, signing %v", set, signing.ID())
	}
	rows, err := db.SigningKeys(ctx)
	if err != nil || len(rows) != 1 {
		t.Fatal(rows, err)
	}
	if _, err := x509.ParsePKCS8PrivateKey(rows[0].PrivateEnc); err == nil {
		t.Fatal("the stored private key parses as plain PKCS#8")
	}
	if strings.Contains(string(rows[0].PublicJWK), `"d"`) {
		t.Fatal("the public JWK contains the private exponent")
	}

	// A second start finds the key instead of making another.
	if _, err := NewKeys(ctx, db, key); err != nil {
		t.Fatal(err)
	}
	if rows, _ := db.SigningKeys(ctx); len(rows) != 1 {
		t.Fatalf("restart made a new key: %d keys", len(rows))
	}
	if _, err := NewKeys(ctx, db, [32]byte{9}); err == nil || !strings.Contains(err.Error(), "secret_key") {
		t.Fatalf("wrong key: got %v, want a message about secret_key", err)
	}
}
