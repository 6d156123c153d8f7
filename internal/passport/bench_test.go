package passport

import (
	"context"
	"testing"
	"time"
)

// BenchmarkRelease is the claim-release rule as userinfo runs it at every call.
func BenchmarkRelease(b *testing.B) {
	bd := time.Date(1990, 1, 2, 0, 0, 0, 0, time.UTC)
	a := &Account{ID: "id", Login: "ada", GivenName: "Ada", FamilyName: "Lovelace", Nickname: "countess", Birthdate: &bd,
		Email: "ada@example.org", Phone: "+441234567890", PhotoID: "p", UpdatedAt: time.Now(),
		Publicity: map[Field]Publicity{FieldEmail: Public}}
	rules := NewRules(Rules{})
	scopes := []string{"openid", "profile", "email", "phone"}
	consented := []Field{FieldGivenName, FieldFamilyName, FieldLogin}
	b.ReportAllocs()
	for b.Loop() {
		if len(rules.Release(a, scopes, consented)) == 0 {
			b.Fatal("nothing released")
		}
	}
}

func benchmarkHash(b *testing.B, p Argon2Params) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := HashPassword(context.Background(), "correct horse battery 1", p); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkHashPasswordDefault is argon2id at Passport's default (OWASP: 19 MiB, t=2).
func BenchmarkHashPasswordDefault(b *testing.B) { benchmarkHash(b, DefaultArgon2) }

// BenchmarkHashPasswordKeycloak is argon2id at Keycloak's published setting (7 MiB, t=5).
func BenchmarkHashPasswordKeycloak(b *testing.B) {
	benchmarkHash(b, Argon2Params{MemoryKiB: 7 * 1024, Iterations: 5, Parallelism: 1})
}

// BenchmarkCheckPassword is the sign-in's password check at the default setting.
func BenchmarkCheckPassword(b *testing.B) {
	h, _ := HashPassword(context.Background(), "correct horse battery 1", DefaultArgon2)
	for b.Loop() {
		if ok, _, _ := CheckPassword(context.Background(), h, "correct horse battery 1", DefaultArgon2); !ok {
			b.Fatal("no match")
		}
	}
}
