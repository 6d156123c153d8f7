package oidc

import (
	"context"
	"testing"

	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/passport-idp/passport/internal/pgtest"
)

// BenchmarkSignIDToken signs an ID-token-sized payload with the stored RS256 key, as the
// library does for every ID token.
func BenchmarkSignIDToken(b *testing.B) {
	ctx := context.Background()
	k, err := NewKeys(ctx, pgtest.New(b), [32]byte{1})
	if err != nil {
		b.Fatal(err)
	}
	key, _ := k.SigningKey(ctx)
	payload := []byte(`{"iss":"https://id.example","sub":"3f1f2c1e-8a7b-4c4e-9d1d-0b7e6f5a4c3b","aud":["web"],` +
		`"exp":1800000000,"iat":1700000000,"auth_time":1700000000,"nonce":"n-0123456789","amr":["pwd"],"azp":"web","at_hash":"x"}`)
	b.ReportAllocs()
	for b.Loop() {
		signer, err := op.SignerFromKey(key)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := signer.Sign(payload); err != nil {
			b.Fatal(err)
		}
	}
}
