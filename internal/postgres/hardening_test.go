package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/passport-idp/passport/internal/passport"
	"github.com/passport-idp/passport/internal/postgres"
)

func passwordHash(t *testing.T, db *postgres.DB, id string) string {
	t.Helper()
	a, err := db.Account(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return a.PasswordHash
}

// TestUpgradePasswordHashYieldsToAPasswordChange: a rehash never overwrites a password changed since it was read.
func TestUpgradePasswordHashYieldsToAPasswordChange(t *testing.T) {
	db := openDB(t)
	ctx := context.Background()
	a := &passport.Account{Login: "rehash-race", Email: "rehash-race@example.com", PasswordHash: "hash-of-old-password"}
	if err := db.CreateAccount(ctx, a); err != nil {
		t.Fatal(err)
	}

	t.Run("password changed meanwhile", func(t *testing.T) {
		// A sign-in read "hash-of-old-password"; before its rehash lands, the password changes.
		if err := db.ChangePassword(ctx, a.ID, "hash-of-new-password", nil); err != nil {
			t.Fatal(err)
		}
		if err := db.UpgradePasswordHash(ctx, a.ID, "hash-of-old-password", "stronger-hash-of-old-password"); err != nil {
			t.Fatal(err)
		}
		if got := passwordHash(t, db, a.ID); got != "hash-of-new-password" {
			t.Errorf("stored hash: got %q, want the changed password's", got)
		}
	})
	t.Run("unchanged", func(t *testing.T) {
		if err := db.UpgradePasswordHash(ctx, a.ID, "hash-of-new-password", "stronger-hash-of-new-password"); err != nil {
			t.Fatal(err)
		}
		if got := passwordHash(t, db, a.ID); got != "stronger-hash-of-new-password" {
			t.Errorf("stored hash: got %q, want the upgraded one", got)
		}
	})
}

// TestCredentialResetsMoveTheAuthEpoch: credential and sign-in resets move the auth epoch; profile edits do not.
func TestCredentialResetsMoveTheAuthEpoch(t *testing.T) {
	db := openDB(t)
	ctx := context.Background()
	a := mustCreateAccount(t, db, "epoch-mover")
	epoch := func() int {
		t.Helper()
		got, err := db.Account(ctx, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		return got.AuthEpoch
	}
	for _, step := range []struct {
		name  string
		do    func() error
		moves bool
	}{
		{"profile edit", func() error {
			_, err := db.UpdateAccount(ctx, a.ID, func(a *passport.Account) error { a.Nickname = "edited"; return nil })
			return err
		}, false},
		{"password change", func() error { return db.ChangePassword(ctx, a.ID, "another-hash", nil) }, true},
		{"sign out everywhere", func() error { return db.SignOutEverywhere(ctx, a.ID) }, true},
		{"two factors on", func() error {
			if err := db.StartTOTP(ctx, a.ID, []byte("sealed")); err != nil {
				return err
			}
			return db.EnableTOTP(ctx, a.ID, 1, [][]byte{[]byte("recovery")})
		}, true},
		{"two factors off", func() error { return db.DisableTOTP(ctx, a.ID) }, true},
		{"deletion scheduled", func() error { return db.ScheduleDeletion(ctx, a.ID, time.Now().Add(time.Hour)) }, true},
		{"account restored", func() error { return db.RestoreAccount(ctx, a.ID) }, true},
	} {
		before := epoch()
		if err := step.do(); err != nil {
			t.Fatalf("%s: %v", step.name, err)
		}
		if moved := epoch() != before; moved != step.moves {
			t.Errorf("%s: epoch moved %v, want %v", step.name, moved, step.moves)
		}
	}
}
