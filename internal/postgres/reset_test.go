package postgres_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/passport-idp/passport/internal/passport"
	"github.com/passport-idp/passport/internal/postgres"
)

func mustStartReset(t *testing.T, db *postgres.DB, a *passport.Account, code, link string, at time.Time) *passport.PasswordReset {
	t.Helper()
	r := &passport.PasswordReset{ID: uuid.NewString(), AccountID: a.ID, CodeHash: passport.HashToken(code),
		LinkHash: passport.HashToken(link), CreatedAt: at, ExpiresAt: at.Add(10 * time.Minute)}
	msg := passport.Outgoing{Channel: passport.ChannelEmail, To: a.Email, Kind: "password_reset", Locale: "en", AccountID: a.ID,
		Payload: []byte("sealed")}
	if err := db.StartReset(context.Background(), r, msg); err != nil {
		t.Fatal(err)
	}
	return r
}

// TestResetIsVerifiedOnceAndUsedOnce: of parallel tries with the right code one verifies the
// reset, the link dies with it; of parallel submissions one spends it; a newer request
// replaces it.
func TestResetIsVerifiedOnceAndUsedOnce(t *testing.T) {
	db := openDB(t)
	ctx := context.Background()
	a := mustCreateAccount(t, db, "reset-once")
	r := mustStartReset(t, db, a, "123456", "link", time.Now())

	if _, err := db.VerifyResetCode(ctx, r.ID, passport.HashToken("654321"), time.Minute); passport.ErrorCode(err) != passport.ENOTFOUND {
		t.Fatalf("a wrong code: %v", err)
	}
	if _, err := db.VerifiedReset(ctx, r.ID); passport.ErrorCode(err) != passport.ENOTFOUND {
		t.Fatalf("a reset not verified yet is usable: %v", err)
	}
	race := func(fn func() error) (wins int) {
		var wg sync.WaitGroup
		var mu sync.Mutex
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				err := fn()
				if err != nil && passport.ErrorCode(err) != passport.ENOTFOUND {
					t.Error(err)
				}
				mu.Lock()
				defer mu.Unlock()
				if err == nil {
					wins++
				}
			}()
		}
		wg.Wait()
		return wins
	}
	if wins := race(func() error {
		got, err := db.VerifyResetCode(ctx, r.ID, passport.HashToken("123456"), time.Minute)
		if err == nil && got.AccountID != a.ID {
			t.Errorf("verified the reset of %s", got.AccountID)
		}
		return err
	}); wins != 1 {
		t.Fatalf("the right code verified %d times, want once", wins)
	}
	if _, err := db.VerifyResetLink(ctx, passport.HashToken("link"), time.Minute); passport.ErrorCode(err) != passport.ENOTFOUND {
		t.Errorf("the link after the code: %v", err)
	}
	if _, err := db.VerifiedReset(ctx, r.ID); err != nil {
		t.Fatalf("the verified reset: %v", err)
	}
	if wins := race(func() error { return db.UseReset(ctx, r.ID) }); wins != 1 {
		t.Fatalf("the reset was spent %d times, want once", wins)
	}
	if _, err := db.VerifiedReset(ctx, r.ID); passport.ErrorCode(err) != passport.ENOTFOUND {
		t.Errorf("a spent reset: %v", err)
	}

	// A newer request replaces the reset: the old id and link are dead, the new link works.
	// One made before it, whose write comes late, changes nothing and queues nothing.
	now := time.Now()
	old := mustStartReset(t, db, a, "111111", "old-link", now)
	newer := mustStartReset(t, db, a, "222222", "new-link", now.Add(time.Second))
	messages := func() (n int) {
		if err := db.Pool().QueryRow(ctx, `SELECT count(*) FROM messages WHERE account_id = $1`, a.ID).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	queued := messages()
	late := mustStartReset(t, db, a, "333333", "late-link", now.Add(time.Second/2))
	if got := messages(); got != queued {
		t.Errorf("a late write of an older request queued %d messages", got-queued)
	}
	for name, id := range map[string]string{"replaced": old.ID, "late": late.ID} {
		if _, err := db.VerifyResetCode(ctx, id, passport.HashToken("111111"), time.Minute); passport.ErrorCode(err) != passport.ENOTFOUND {
			t.Errorf("the %s request's code: %v", name, err)
		}
	}
	for _, link := range []string{"old-link", "late-link"} {
		if _, err := db.VerifyResetLink(ctx, passport.HashToken(link), time.Minute); passport.ErrorCode(err) != passport.ENOTFOUND {
			t.Errorf("%s: %v", link, err)
		}
	}
	if got, err := db.VerifyResetLink(ctx, passport.HashToken("new-link"), time.Minute); err != nil || got.ID != newer.ID {
		t.Errorf("the newer request's link: %v %v", got, err)
	}
	var n int
	if err := db.Pool().QueryRow(ctx, `SELECT count(*) FROM password_resets WHERE account_id = $1`, a.ID).Scan(&n); err != nil || n != 1 {
		t.Errorf("resets of the account: %d %v, want one", n, err)
	}
}

// TestResetCandidates: the login folded, and only verified addresses, email without case.
func TestResetCandidates(t *testing.T) {
	db := openDB(t)
	ctx := context.Background()
	a := &passport.Account{Login: "Candidate", Email: "Cand.Idate@Example.org", EmailVerified: true, Phone: "+442079460001", PhoneVerified: true}
	b := &passport.Account{Login: "unverified-candidate", Email: "unverified@example.org", Phone: "+442079460002"}
	for _, x := range []*passport.Account{a, b} {
		if err := db.CreateAccount(ctx, x); err != nil {
			t.Fatal(err)
		}
	}
	for name, tc := range map[string]struct {
		login, email, phone string
		want                string // account id and via, or ""
	}{
		"login folded":       {"CANDIDATE", "", "", a.ID + " login"},
		"email without case": {"cand.idate@example.org", "cand.idate@example.org", "", a.ID + " email"},
		"verified phone":     {"+442079460001", "", "+442079460001", a.ID + " phone"},
		"unverified email":   {"x", "unverified@example.org", "", ""},
		"unverified phone":   {"x", "", "+442079460002", ""},
		"nothing":            {"", "", "", ""},
	} {
		t.Run(name, func(t *testing.T) {
			found, err := db.ResetCandidates(ctx, tc.login, tc.email, tc.phone)
			if err != nil {
				t.Fatal(err)
			}
			got := ""
			if len(found) == 1 {
				got = found[0].Account.ID + " " + found[0].Via
			}
			if got != tc.want || len(found) > 1 {
				t.Errorf("got %d candidates (%q), want %q", len(found), got, tc.want)
			}
		})
	}
}
