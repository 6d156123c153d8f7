package postgres_test

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/passport-idp/passport/internal/passport"
	"github.com/passport-idp/passport/internal/pgtest"
	"github.com/passport-idp/passport/internal/postgres"
)

var testURL string

func TestMain(m *testing.M) {
	dsn, cleanup, err := pgtest.NewURL()
	if err != nil {
		panic(err)
	}
	testURL = dsn
	code := m.Run()
	cleanup()
	os.Exit(code)
}

func openDB(t *testing.T) *postgres.DB {
	t.Helper()
	db, err := postgres.Open(context.Background(), testURL, 10)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	return db
}

func mustCreateAccount(t *testing.T, db *postgres.DB, login string) *passport.Account {
	t.Helper()
	a := &passport.Account{Login: login, Email: login + "@example.com"}
	if err := db.CreateAccount(context.Background(), a); err != nil {
		t.Fatalf("create account %s: %v", login, err)
	}
	return a
}

func mustCreateClient(t *testing.T, db *postgres.DB, id string) *passport.Client {
	t.Helper()
	c := &passport.Client{ID: id, SecretHash: passport.HashToken("s"), RedirectURIs: []string{"https://app.example/cb"},
		GrantTypes: []string{passport.GrantAuthorizationCode, passport.GrantRefreshToken}}
	if err := db.CreateClient(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	return c
}

// mustAuthRequest creates a pending auth request for the client, bound to browser "b", and
// a session for the account; the caller completes it.
func mustAuthRequest(t *testing.T, db *postgres.DB, id string, a *passport.Account, c *passport.Client, cookie string) (*passport.AuthRequest, *passport.Session) {
	t.Helper()
	ctx := context.Background()
	now := time.Now()
	r := &passport.AuthRequest{ID: id, ClientID: c.ID, RedirectURI: c.RedirectURIs[0],
		Scopes: []string{"openid"}, ResponseType: "code", BrowserHash: []byte("b"), CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
	if err := db.CreateAuthRequest(ctx, r); err != nil {
		t.Fatal(err)
	}
	s := &passport.Session{AccountID: a.ID, AuthTime: now, AMR: []string{"pwd"}, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
	if err := db.CreateSession(ctx, passport.HashToken(cookie), s); err != nil {
		t.Fatal(err)
	}
	return r, s
}

func TestMigrateIsIdempotentAndConcurrent(t *testing.T) {
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = postgres.Migrate(ctx, testURL)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	ran, err := postgres.Migrate(ctx, testURL)
	if err != nil || len(ran) != 0 {
		t.Fatalf("second migrate: ran %v, err %v; want nothing", ran, err)
	}
}

func TestAccountLoginIsCaseFolded(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	a := mustCreateAccount(t, db, "Straße")
	for _, dup := range []string{"STRASSE", "strasse", " straße "} {
		err := db.CreateAccount(ctx, &passport.Account{Login: dup})
		if passport.ErrorCode(err) != passport.EINVALID {
			t.Errorf("create %q: got %v, want the login-taken error", dup, err)
		}
	}
	got, err := db.AccountByLogin(ctx, "STRASSE")
	if err != nil || got.ID != a.ID {
		t.Fatalf("AccountByLogin: got %v, %v; want %s", got, err, a.ID)
	}
	if _, err := db.Account(ctx, "not-a-uuid"); passport.ErrorCode(err) != passport.ENOTFOUND {
		t.Errorf("Account(bad id): got %v, want ENOTFOUND", err)
	}
}

func TestAuthCodeIsSingleUseAndReuseRevokesTokens(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	a := mustCreateAccount(t, db, "codeuser")
	c := mustCreateClient(t, db, "code-client")
	now := time.Now()
	r, s := mustAuthRequest(t, db, "11111111-2222-4333-8444-555555555555", a, c, "cookie")
	if err := db.CompleteAuthRequest(ctx, r.ID, []byte("other browser"), s); passport.ErrorCode(err) != passport.ENOTFOUND {
		t.Fatalf("complete from another browser: got %v, want ENOTFOUND", err)
	}
	if err := db.CompleteAuthRequest(ctx, r.ID, []byte("b"), s); err != nil {
		t.Fatal(err)
	}
	if err := db.SaveAuthCode(ctx, r.ID, passport.HashToken("code"), time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := db.SaveAuthCode(ctx, r.ID, passport.HashToken("code2"), time.Minute); passport.ErrorCode(err) != passport.ECONFLICT {
		t.Fatalf("second code: got %v, want ECONFLICT", err)
	}
	got, err := db.UseAuthCode(ctx, passport.HashToken("code"))
	if err != nil || got.Subject != a.ID || !got.Done {
		t.Fatalf("use code: got %+v, %v", got, err)
	}
	at := &passport.AccessToken{FamilyID: r.ID, ClientID: c.ID, AccountID: a.ID, Subject: a.ID, Scopes: got.Scopes,
		Audience: []string{c.ID}, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
	if err := db.CreateAccessToken(ctx, at); err != nil {
		t.Fatal(err)
	}
	if _, err := db.UseAuthCode(ctx, passport.HashToken("code")); passport.ErrorCode(err) != passport.ENOTFOUND {
		t.Fatalf("reuse: got %v, want ENOTFOUND", err)
	}
	if _, err := db.AccessToken(ctx, at.ID); passport.ErrorCode(err) != passport.ENOTFOUND {
		t.Fatalf("token after code reuse: got %v, want revoked", err)
	}
}

func TestRefreshRotationAndReuse(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	a := mustCreateAccount(t, db, "rotator")
	c := mustCreateClient(t, db, "rot-client")
	now := time.Now()
	family := "22222222-2222-4333-8444-555555555555"
	newPair := func() (*passport.AccessToken, *passport.RefreshToken) {
		return &passport.AccessToken{FamilyID: family, ClientID: c.ID, AccountID: a.ID, Subject: a.ID, Scopes: []string{"openid"},
				Audience: []string{c.ID}, CreatedAt: now, ExpiresAt: now.Add(time.Hour)},
			&passport.RefreshToken{FamilyID: family, ClientID: c.ID, AccountID: a.ID, Scopes: []string{"openid"},
				Audience: []string{c.ID}, AuthTime: now, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
	}
	at1, rt1 := newPair()
	if err := db.StartFamily(ctx, family, c.ID, a.ID); err != nil {
		t.Fatal(err)
	}
	if err := db.RotateTokens(ctx, at1, rt1, passport.HashToken("r1"), nil); err != nil {
		t.Fatal(err)
	}
	if _, err := db.RefreshToken(ctx, passport.HashToken("r1")); err != nil {
		t.Fatal(err)
	}
	// Two concurrent exchanges of r1: exactly one wins.
	var wg sync.WaitGroup
	results := make([]error, 2)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			at, rt := newPair()
			results[i] = db.RotateTokens(ctx, at, rt, passport.HashToken("r2-"+string(rune('a'+i))), passport.HashToken("r1"))
		}()
	}
	wg.Wait()
	if (results[0] == nil) == (results[1] == nil) {
		t.Fatalf("concurrent rotation: got %v and %v; want exactly one success", results[0], results[1])
	}
	// The loser was reuse, so the whole family is revoked, the winner's tokens too.
	for _, h := range []string{"r1", "r2-a", "r2-b"} {
		if _, err := db.RefreshToken(ctx, passport.HashToken(h)); passport.ErrorCode(err) != passport.ENOTFOUND {
			t.Errorf("refresh %s after reuse: got %v, want ENOTFOUND", h, err)
		}
	}
	if _, err := db.AccessToken(ctx, at1.ID); passport.ErrorCode(err) != passport.ENOTFOUND {
		t.Errorf("access token after reuse: got %v, want revoked", err)
	}
}

func TestRateLimitWindow(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	db.Now = func() time.Time { return now }
	for i := 1; i <= 3; i++ {
		n, _, err := db.Hit(ctx, "k", time.Minute)
		if err != nil || n != i {
			t.Fatalf("hit %d: got %d, %v", i, n, err)
		}
	}
	now = now.Add(61 * time.Second)
	if n, _, _ := db.Hit(ctx, "k", time.Minute); n != 1 {
		t.Fatalf("after the window: got %d hits, want 1", n)
	}
	if err := db.ResetLimit(ctx, "k"); err != nil {
		t.Fatal(err)
	}
	if n, _, _ := db.Hit(ctx, "k", time.Minute); n != 1 {
		t.Fatalf("after reset: got %d hits, want 1", n)
	}
}

func TestEnsureSigningKeyCreatesOnce(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	var wg sync.WaitGroup
	var mu sync.Mutex
	made := 0
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := db.EnsureSigningKey(ctx, func() (passport.SigningKey, error) {
				mu.Lock()
				made++
				mu.Unlock()
				return passport.SigningKey{KID: passport.NewToken()[:16], Alg: "RS256", PrivateEnc: []byte{1}, PublicJWK: []byte(`{"kty":"RSA"}`)}, nil
			})
			if err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	keys, err := db.SigningKeys(ctx)
	if err != nil || len(keys) != 1 || made != 1 {
		t.Fatalf("got %d keys (%v), made %d; want 1 and 1", len(keys), err, made)
	}
	if string(keys[0].PublicJWK) != `{"kty": "RSA"}` {
		t.Errorf("public JWK round trip: got %s", keys[0].PublicJWK)
	}
}

func TestDeleteExpired(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	a := mustCreateAccount(t, db, "expiring")
	c := mustCreateClient(t, db, "exp-client")
	past := time.Now().Add(-48 * time.Hour)
	if err := db.StartFamily(ctx, "33333333-2222-4333-8444-555555555555", c.ID, a.ID); err != nil {
		t.Fatal(err)
	}
	at := &passport.AccessToken{FamilyID: "33333333-2222-4333-8444-555555555555", ClientID: c.ID, AccountID: a.ID, Subject: a.ID,
		Scopes: []string{"openid"}, Audience: []string{c.ID}, CreatedAt: past, ExpiresAt: past.Add(time.Hour)}
	if err := db.CreateAccessToken(ctx, at); err != nil {
		t.Fatal(err)
	}
	live := *at
	live.ExpiresAt = time.Now().Add(time.Hour)
	if err := db.CreateAccessToken(ctx, &live); err != nil {
		t.Fatal(err)
	}
	if _, err := db.DeleteExpired(ctx, time.Hour); err != nil {
		t.Fatal(err)
	}
	if _, err := db.AccessTokenInfo(ctx, at.ID); passport.ErrorCode(err) != passport.ENOTFOUND {
		t.Errorf("expired token still stored: %v", err)
	}
	if _, err := db.AccessToken(ctx, live.ID); err != nil {
		t.Errorf("live token deleted: %v", err)
	}
}

// TestRevocationCannotMissARotation: revoking a family while its refresh token rotates
// never leaves a live token behind, whichever wins.
func TestRevocationCannotMissARotation(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	a := mustCreateAccount(t, db, "race-account")
	c := mustCreateClient(t, db, "race-client")
	now := time.Now()
	for i := 0; i < 40; i++ {
		family := fmt.Sprintf("%08x-0000-4000-8000-%012d", i+1, i)
		at := &passport.AccessToken{FamilyID: family, ClientID: c.ID, AccountID: a.ID, Subject: a.ID, Scopes: []string{"openid"},
			Audience: []string{c.ID}, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
		rt := &passport.RefreshToken{FamilyID: family, ClientID: c.ID, AccountID: a.ID, Scopes: []string{"openid"},
			Audience: []string{c.ID}, AuthTime: now, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
		old := fmt.Sprintf("race-old-%d", i)
		if err := db.StartFamily(ctx, family, c.ID, a.ID); err != nil {
			t.Fatal(err)
		}
		if err := db.RotateTokens(ctx, at, rt, passport.HashToken(old), nil); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		wg.Add(2)
		go func() {
			defer wg.Done()
			at2, rt2 := *at, *rt
			_ = db.RotateTokens(ctx, &at2, &rt2, passport.HashToken(fmt.Sprintf("race-new-%d", i)), passport.HashToken(old))
		}()
		go func() {
			defer wg.Done()
			if err := db.RevokeFamily(ctx, family); err != nil {
				t.Error(err)
			}
		}()
		wg.Wait()
		var live int
		if err := db.Pool().QueryRow(ctx, `SELECT count(*) FROM refresh_tokens WHERE family_id = $1 AND revoked_at IS NULL`, family).Scan(&live); err != nil {
			t.Fatal(err)
		}
		if live != 0 {
			t.Fatalf("round %d: %d refresh tokens survived the revocation", i, live)
		}
	}
}

// TestReplayedCodeRevokesTokensNotYetIssued: a code replayed between its first use and the
// first exchange's token insertion still stops those tokens.
func TestReplayedCodeRevokesTokensNotYetIssued(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	a := mustCreateAccount(t, db, "replay-account")
	c := mustCreateClient(t, db, "replay-client")
	now := time.Now()
	r, s := mustAuthRequest(t, db, "44444444-2222-4333-8444-555555555555", a, c, "replay-cookie")
	if err := db.CompleteAuthRequest(ctx, r.ID, []byte("b"), s); err != nil {
		t.Fatal(err)
	}
	if err := db.SaveAuthCode(ctx, r.ID, passport.HashToken("replay-code"), time.Minute); err != nil {
		t.Fatal(err)
	}
	if _, err := db.UseAuthCode(ctx, passport.HashToken("replay-code")); err != nil {
		t.Fatal(err)
	}
	if _, err := db.UseAuthCode(ctx, passport.HashToken("replay-code")); passport.ErrorCode(err) != passport.ENOTFOUND {
		t.Fatalf("replay: %v", err)
	}
	at := &passport.AccessToken{FamilyID: r.ID, ClientID: c.ID, AccountID: a.ID, Subject: a.ID, Scopes: []string{"openid"},
		Audience: []string{c.ID}, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
	if err := db.CreateAccessToken(ctx, at); passport.ErrorCode(err) != passport.ENOTFOUND {
		t.Fatalf("token for a replayed code: got %v, want ENOTFOUND", err)
	}
}

// BenchmarkSessionByToken is the browser-session look-up every page and authorize call does.
func BenchmarkSessionByToken(b *testing.B) {
	ctx := context.Background()
	db, err := postgres.Open(ctx, testURL, 4)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	a := &passport.Account{Login: "bench-session", Email: "b@example.org"}
	if err := db.CreateAccount(ctx, a); err != nil {
		b.Fatal(err)
	}
	now := time.Now()
	s := &passport.Session{AccountID: a.ID, AuthTime: now, AMR: []string{"pwd"}, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
	hash := passport.HashToken("bench-session-cookie")
	if err := db.CreateSession(ctx, hash, s); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := db.SessionByToken(ctx, hash); err != nil {
			b.Fatal(err)
		}
	}
}

// TestDeletedAccountMessagesKeepNoAddress: a failed message of a purged account keeps
// neither the recipient nor the provider's error (which often quotes the address).
func TestDeletedAccountMessagesKeepNoAddress(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	a := mustCreateAccount(t, db, "gone-person")
	if err := db.Enqueue(ctx, passport.Outgoing{Channel: "email", To: "gone-person@example.com", Kind: "account_deleted",
		Locale: "en", AccountID: a.ID, Payload: []byte{1}}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Pool().Exec(ctx, `UPDATE accounts SET status = 'deleted', login = NULL, login_folded = NULL WHERE id = $1`, a.ID); err != nil {
		t.Fatal(err)
	}
	claimed, err := db.ClaimMessages(ctx, 10, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range claimed {
		if c.To == "gone-person@example.com" {
			if err := db.RetryMessage(ctx, c.ID, c.Attempts, "550 5.1.1 <gone-person@example.com>: no such user", true); err != nil {
				t.Fatal(err)
			}
		}
	}
	var n int
	if err := db.Pool().QueryRow(ctx, `SELECT count(*) FROM messages WHERE recipient LIKE '%gone-person%' OR last_error LIKE '%gone-person%'`).Scan(&n); err != nil || n != 0 {
		t.Errorf("%d message rows still hold the address (%v)", n, err)
	}
}

// TestWithdrawnPhotoConsentChangesThePhotoID: when a person takes back an application's
// consent to the photo, the URL that application was given stops working; other decisions
// leave the photo's id alone.
func TestWithdrawnPhotoConsentChangesThePhotoID(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	a := mustCreateAccount(t, db, "withdrawer")
	c := mustCreateClient(t, db, "photo-client")
	other := mustCreateClient(t, db, "photo-other")
	p := &postgres.Photo{AccountID: a.ID, Content: []byte("\x89PNG"), ContentType: "image/png", Width: 1, Height: 1}
	if err := db.SetPhoto(ctx, p); err != nil {
		t.Fatal(err)
	}
	photoID := func() string {
		t.Helper()
		got, err := db.Account(ctx, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		return got.PhotoID
	}
	decide := func(client string, d map[passport.Field]bool) {
		t.Helper()
		if err := db.SaveDecisions(ctx, a.ID, client, d); err != nil {
			t.Fatal(err)
		}
	}
	id := p.ID
	for _, step := range []struct {
		name   string
		client string
		d      map[passport.Field]bool
		rotate bool
	}{
		{"granting keeps the id", c.ID, map[passport.Field]bool{passport.FieldPicture: true, passport.FieldEmail: true}, false},
		{"another field withdrawn keeps the id", c.ID, map[passport.Field]bool{passport.FieldEmail: false}, false},
		{"another client declining keeps the id", other.ID, map[passport.Field]bool{passport.FieldPicture: false}, false},
		{"withdrawing the photo changes the id", c.ID, map[passport.Field]bool{passport.FieldPicture: false, passport.FieldEmail: true}, true},
		{"declining again keeps the id", c.ID, map[passport.Field]bool{passport.FieldPicture: false}, false},
	} {
		decide(step.client, step.d)
		now := photoID()
		if rotated := now != id; rotated != step.rotate {
			t.Errorf("%s: photo id %s -> %s, want rotated=%v", step.name, id, now, step.rotate)
		}
		if step.rotate {
			if _, err := db.Photo(ctx, id); passport.ErrorCode(err) != passport.ENOTFOUND {
				t.Errorf("%s: the old id still serves the photo (%v)", step.name, err)
			}
		}
		id = now
	}
	if d, err := db.Decisions(ctx, a.ID, c.ID); err != nil || d[passport.FieldPicture] || !d[passport.FieldEmail] {
		t.Errorf("decisions after the steps: %v, %v", d, err)
	}
}
