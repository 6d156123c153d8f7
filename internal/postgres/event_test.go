package postgres_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/passport-idp/passport/internal/passport"
	"github.com/passport-idp/passport/internal/postgres"
)

// eventsOf returns every event whose subject is the account, newest first.
func eventsOf(t *testing.T, db *postgres.DB, accountID string) []passport.Event {
	t.Helper()
	evs, err := db.Events(context.Background(), postgres.EventFilter{AccountID: accountID, Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	return evs
}

// personAt is a request's actor as the web layer sets it for a browser with no session: the
// store names the subject as the acting person.
func personAt(ip string) context.Context {
	return passport.WithActor(context.Background(), passport.Actor{Kind: passport.ActorPerson, IP: ip, UserAgent: "EventTest/1.0"})
}

// TestSecurityEventsAreAppendOnly: the table refuses UPDATE (the trigger), for any column;
// retention may still DELETE.
func TestSecurityEventsAreAppendOnly(t *testing.T) {
	db := openDB(t)
	ctx := context.Background()
	a := mustCreateAccount(t, db, "append-only")
	if err := db.Record(ctx, passport.Event{Type: passport.EventSigninFailed, AccountID: a.ID}); err != nil {
		t.Fatal(err)
	}
	evs := eventsOf(t, db, a.ID)
	if len(evs) == 0 {
		t.Fatal("no event was written")
	}
	for _, q := range []string{
		`UPDATE security_events SET details = '{"forged": true}' WHERE id = $1`,
		`UPDATE security_events SET type = 'signin.ok' WHERE id = $1`,
		`UPDATE security_events SET account_id = NULL WHERE id = $1`,
	} {
		_, err := db.Pool().Exec(ctx, q, evs[0].ID)
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) || pgErr.Code != "42501" {
			t.Errorf("%s: got %v, want the trigger's refusal (42501)", q, err)
		}
	}
	if got := eventsOf(t, db, a.ID)[0]; got.Type != passport.EventSigninFailed || len(got.Details) != 0 {
		t.Errorf("the event changed: %+v", got)
	}
	if _, err := db.DeleteEventsBefore(ctx, time.Now().Add(time.Hour)); err != nil {
		t.Errorf("retention cannot delete: %v", err)
	}
	if n := len(eventsOf(t, db, a.ID)); n != 0 {
		t.Errorf("%d events left after retention", n)
	}
}

// TestEventIsRolledBackWithItsChange: an event is written in the change's transaction, so a
// change that fails after recording leaves no event (and no change); one that commits
// leaves exactly one.
func TestEventIsRolledBackWithItsChange(t *testing.T) {
	db := openDB(t)
	ctx := personAt("198.51.100.4")
	a := mustCreateAccount(t, db, "rolled-back")
	before := len(eventsOf(t, db, a.ID))
	// The notice is queued after the event is recorded; a channel the table refuses makes
	// the transaction fail there.
	bad := []passport.Outgoing{{Channel: "pigeon", To: "x", Kind: "password_changed", Locale: "en"}}
	if err := db.ChangePassword(ctx, a.ID, "hash-never-stored", bad); err == nil {
		t.Fatal("the change with a refused notice succeeded")
	}
	if got := eventsOf(t, db, a.ID); len(got) != before {
		t.Fatalf("a rolled-back change left %d events: %+v", len(got)-before, got[0])
	}
	if h := passwordHash(t, db, a.ID); h == "hash-never-stored" {
		t.Fatal("the rolled-back change stored the password")
	}
	if err := db.ChangePassword(ctx, a.ID, "hash-stored", nil); err != nil {
		t.Fatal(err)
	}
	got := eventsOf(t, db, a.ID)
	if len(got) != before+1 || got[0].Type != passport.EventPasswordChanged {
		t.Fatalf("after a committed change: %d new events, newest %q", len(got)-before, got[0].Type)
	}
}

// TestEventsKeysetPaging: pages follow one another by id with no gap and no repeat, newest
// first, and a page's cursor still works while new events arrive.
func TestEventsKeysetPaging(t *testing.T) {
	db := openDB(t)
	ctx := context.Background()
	a := mustCreateAccount(t, db, "pager")
	other := mustCreateAccount(t, db, "pager-other")
	for i := range 10 {
		for _, id := range []string{a.ID, other.ID} {
			if err := db.Record(ctx, passport.Event{Type: passport.EventSigninFailed, AccountID: id,
				Details: map[string]any{"n": i}}); err != nil {
				t.Fatal(err)
			}
		}
	}
	all := eventsOf(t, db, a.ID)
	var paged []int64
	var before int64
	for pages := 0; ; pages++ {
		if pages > 20 {
			t.Fatal("paging does not end")
		}
		page, err := db.Events(ctx, postgres.EventFilter{AccountID: a.ID, Before: before, Limit: 3})
		if err != nil {
			t.Fatal(err)
		}
		if len(page) > 3 {
			t.Fatalf("a page of %d, limit 3", len(page))
		}
		if len(page) == 0 {
			break
		}
		for _, e := range page {
			if e.AccountID != a.ID {
				t.Fatalf("another account's event on the page: %+v", e)
			}
			paged = append(paged, e.ID)
		}
		before = page[len(page)-1].ID
		if pages == 0 { // a new event after the first page does not shift the next ones
			if err := db.Record(ctx, passport.Event{Type: passport.EventSigninOK, AccountID: a.ID}); err != nil {
				t.Fatal(err)
			}
		}
	}
	var want []int64
	for _, e := range all {
		want = append(want, e.ID)
	}
	if !slices.Equal(paged, want) {
		t.Errorf("paged ids %v, want %v", paged, want)
	}
	if !slices.IsSortedFunc(paged, func(x, y int64) int { return int(y - x) }) {
		t.Errorf("not newest first: %v", paged)
	}
}

// TestOrgAdminSeesOnlyTheirOrganisationsEventsOfAnAccount: with OrgIDs, an account's events
// are those about no organisation or one of them — an event about another organisation, or
// done by that organisation's administrator, stays hidden.
func TestOrgAdminSeesOnlyTheirOrganisationsEventsOfAnAccount(t *testing.T) {
	db := openDB(t)
	ctx := context.Background()
	a := mustCreateAccount(t, db, "two-orgs-member")
	orgA := &passport.Organisation{Alias: "events-a", Name: "Events A"}
	orgB := &passport.Organisation{Alias: "events-b", Name: "Events B"}
	for _, o := range []*passport.Organisation{orgA, orgB} {
		if err := db.CreateOrg(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	admin := func(org string) passport.Actor {
		return passport.Actor{Kind: passport.ActorAdmin, AccountID: a.ID, Role: passport.RoleOrgAdmin, OrgID: org}
	}
	mark := func(e passport.Event, name string) {
		t.Helper()
		e.AccountID = a.ID
		e.Details = map[string]any{"mark": name}
		if err := db.Record(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	mark(passport.Event{Type: passport.EventPasswordChanged, Actor: passport.Actor{Kind: passport.ActorPerson, AccountID: a.ID}}, "own")
	mark(passport.Event{Type: passport.EventMemberAdded, OrgID: orgA.ID, Actor: admin(orgA.ID)}, "A")
	mark(passport.Event{Type: passport.EventMemberAdded, OrgID: orgB.ID, Actor: admin(orgB.ID)}, "B")
	mark(passport.Event{Type: passport.EventAccountBlocked, Actor: admin(orgB.ID)}, "by B's admin")
	marks := func(f postgres.EventFilter) []string {
		t.Helper()
		evs, err := db.Events(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, e := range evs {
			if m, ok := e.Details["mark"].(string); ok {
				out = append(out, m)
			}
		}
		slices.Sort(out)
		return out
	}
	for _, tc := range []struct {
		name string
		f    postgres.EventFilter
		want []string
	}{
		{"admin of A", postgres.EventFilter{AccountID: a.ID, OrgIDs: []string{orgA.ID}}, []string{"A", "own"}},
		{"admin of B", postgres.EventFilter{AccountID: a.ID, OrgIDs: []string{orgB.ID}}, []string{"B", "by B's admin", "own"}},
		{"admin of no organisation", postgres.EventFilter{AccountID: a.ID, OrgIDs: []string{}}, []string{"own"}},
		{"the person or a service admin", postgres.EventFilter{AccountID: a.ID}, []string{"A", "B", "by B's admin", "own"}},
	} {
		if got := marks(tc.f); !slices.Equal(got, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
	}
	// The names come with the events, for display.
	for _, e := range eventsOf(t, db, a.ID) {
		if e.Details["mark"] == "A" && (e.OrgName != "Events A" || e.ActorOrg != "Events A") {
			t.Errorf("names not read: %q, %q", e.OrgName, e.ActorOrg)
		}
	}
}

// TestPersonActionsRecordOneEventEach: each of the person's changes records exactly one
// event of its type, in its transaction, naming the person as actor and subject (the
// request had no session: a reset, a link, the restore page) with the request's address,
// and holding no secret.
func TestPersonActionsRecordOneEventEach(t *testing.T) {
	db := openDB(t)
	const ip = "192.0.2.77"
	ctx := personAt(ip)
	a := mustCreateAccount(t, db, "person-actions")
	mustCreateClient(t, db, "events-rp")
	msg := passport.Outgoing{Channel: passport.ChannelEmail, To: a.Email, Kind: "notice", Locale: "en", AccountID: a.ID}
	lim := postgres.CodeLimits{Lifetime: 10 * time.Minute, MaxAttempts: 5, MaxSends: 5}
	newSession := func() *passport.Session {
		now := time.Now().UTC().Truncate(time.Second)
		s := &passport.Session{AccountID: a.ID, AuthTime: now, AMR: []string{"pwd"}, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
		if err := db.CreateSession(context.Background(), passport.HashToken(fmt.Sprint(time.Now().UnixNano())), s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	noNotice := func(*passport.Account, *passport.ContactChange) ([]passport.Outgoing, error) { return nil, nil }
	for _, tc := range []struct {
		name    string
		typ     string
		act     func() error
		details map[string]any // expected details, compared as JSON; nil: not checked
	}{
		{"sign in", passport.EventSigninOK, func() error {
			now := time.Now().UTC()
			return db.CreateSession(ctx, passport.HashToken("cookie-secret-1"), &passport.Session{AccountID: a.ID, AuthTime: now,
				AMR: []string{"pwd", "otp"}, CreatedAt: now, ExpiresAt: now.Add(time.Hour)})
		}, map[string]any{"amr": []string{"pwd", "otp"}}},
		{"sign out", passport.EventSessionEnded, func() error { return db.EndSession(ctx, newSession().ID) }, map[string]any{"sign_out": true}},
		{"end a session", passport.EventSessionEnded, func() error { return db.EndAccountSession(ctx, a.ID, newSession().ID) }, map[string]any{}},
		{"sign out everywhere", passport.EventSessionsEnded, func() error { return db.SignOutEverywhere(ctx, a.ID) }, map[string]any{}},
		{"change the password", passport.EventPasswordChanged, func() error { return db.ChangePassword(ctx, a.ID, "argon-hash-1", nil) }, map[string]any{}},
		{"reset the password", passport.EventPasswordReset, func() error {
			r := mustStartReset(t, db, a, "246810", "reset-link-secret", time.Now())
			if _, err := db.VerifyResetCode(ctx, r.ID, passport.HashToken("246810"), time.Minute); err != nil {
				return err
			}
			if err := db.UseReset(ctx, r.ID); err != nil {
				return err
			}
			return db.ChangePassword(ctx, a.ID, "argon-hash-2", nil)
		}, map[string]any{}},
		{"turn two factors on", passport.EventTwoFactorOn, func() error {
			if err := db.StartTOTP(ctx, a.ID, []byte("sealed-secret")); err != nil {
				return err
			}
			return db.EnableTOTP(ctx, a.ID, 7, [][]byte{[]byte("recovery-hash")}, msg)
		}, map[string]any{}},
		{"new recovery codes", passport.EventRecoveryCodesNew, func() error {
			return db.ReplaceRecoveryCodes(ctx, a.ID, [][]byte{[]byte("recovery-hash-2")}, msg)
		}, map[string]any{}},
		{"turn two factors off", passport.EventTwoFactorOff, func() error { return db.DisableTOTP(ctx, a.ID, msg) }, map[string]any{}},
		{"give consent", passport.EventConsentGiven, func() error {
			return db.SaveDecisions(ctx, a.ID, "events-rp", map[passport.Field]bool{passport.FieldEmail: true, passport.FieldGivenName: true,
				passport.FieldBirthdate: false})
		}, map[string]any{"client_id": "events-rp", "fields": []string{"email", "given_name"}}},
		{"withdraw consent", passport.EventConsentWithdrawn, func() error {
			// given_name confirmed again: not a new consent, no second event.
			return db.SaveDecisions(ctx, a.ID, "events-rp", map[passport.Field]bool{passport.FieldEmail: false, passport.FieldGivenName: true})
		}, map[string]any{"client_id": "events-rp", "fields": []string{"email"}}},
		{"disconnect the application", passport.EventConsentWithdrawn, func() error { return db.RevokeApp(ctx, a.ID, "events-rp") },
			map[string]any{"client_id": "events-rp", "fields": []string{"given_name"}, "disconnected": true}},
		{"change the phone", passport.EventContactChanged, func() error {
			c := &passport.ContactChange{AccountID: a.ID, Kind: "phone", Value: "+3725550123", Method: "sms", CodeHash: passport.HashToken("135790")}
			if err := db.StartContactChange(ctx, c, lim, msg); err != nil {
				return err
			}
			_, err := db.ConfirmChange(ctx, a.ID, "phone", passport.HashToken("135790"), 5, noNotice)
			return err
		}, map[string]any{"kind": "phone"}},
		{"confirm an email by link", passport.EventEmailLinkConfirmed, func() error {
			c := &passport.ContactChange{AccountID: a.ID, Kind: "email", Value: "new-address@example.org", Method: "email",
				CodeHash: passport.HashToken("975310"), LinkHash: passport.HashToken("email-link-secret")}
			if err := db.StartContactChange(ctx, c, lim, msg); err != nil {
				return err
			}
			_, err := db.ConfirmEmailLink(ctx, passport.HashToken("email-link-secret"), noNotice)
			return err
		}, map[string]any{"kind": "email"}},
		{"remove the phone", passport.EventContactRemoved, func() error { return db.RemoveContact(ctx, a.ID, "phone") }, map[string]any{"kind": "phone"}},
		{"schedule deletion", passport.EventDeletionScheduled, func() error {
			return db.ScheduleDeletion(ctx, a.ID, time.Now().Add(24*time.Hour), msg)
		}, nil},
		{"restore", passport.EventDeletionRestored, func() error { return db.RestoreAccount(ctx, a.ID, msg) }, map[string]any{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := eventsOf(t, db, a.ID)
			if err := tc.act(); err != nil {
				t.Fatal(err)
			}
			after := eventsOf(t, db, a.ID)
			added := after[:len(after)-len(before)]
			var ofType []passport.Event
			for _, e := range added {
				if e.Type == tc.typ {
					ofType = append(ofType, e)
				}
			}
			if len(ofType) != 1 {
				t.Fatalf("%d events of type %s, want 1 (all new: %v)", len(ofType), tc.typ, types(added))
			}
			e := ofType[0]
			if e.Actor.Kind != passport.ActorPerson || e.Actor.AccountID != a.ID || e.AccountID != a.ID {
				t.Errorf("actor %s/%s, subject %s; want the person %s", e.Actor.Kind, e.Actor.AccountID, e.AccountID, a.ID)
			}
			if e.Actor.IP != ip || e.Actor.UserAgent != "EventTest/1.0" {
				t.Errorf("address %q, browser %q", e.Actor.IP, e.Actor.UserAgent)
			}
			if tc.details != nil {
				got, _ := json.Marshal(e.Details)
				want, _ := json.Marshal(tc.details)
				if string(got) != string(want) {
					t.Errorf("details %s, want %s", got, want)
				}
			}
			row, _ := json.Marshal(e)
			for _, secret := range []string{"cookie-secret", "argon-hash", "246810", "135790", "975310", "email-link-secret",
				"reset-link-secret", "recovery-hash", "sealed-secret", "+3725550123", "new-address@example.org"} {
				if strings.Contains(string(row), secret) {
					t.Errorf("the event holds %q: %s", secret, row)
				}
			}
		})
	}
}

// TestAccountCreationEvents: a self sign-up records account.signed_up with the new account
// as actor and subject; a creation by the command line (no actor) records account.created
// by the system.
func TestAccountCreationEvents(t *testing.T) {
	db := openDB(t)
	ctx := personAt("203.0.113.9")
	s := &postgres.Signup{ID: "6b4f0f4e-7d49-4d5e-9a0c-2f0b1f0d6a11", BrowserHash: []byte("browser"), Login: "signed-up-person",
		Email: "signed-up@example.org", Locale: "en", PasswordHash: "argon-hash-signup", CodeHash: passport.HashToken("112233")}
	if err := db.StartSignup(ctx, s, time.Hour, passport.Outgoing{Channel: passport.ChannelEmail, To: s.Email, Kind: "signup", Locale: "en"}); err != nil {
		t.Fatal(err)
	}
	a, err := db.CompleteSignup(ctx, s.ID, []byte("browser"), passport.HashToken("112233"), 5)
	if err != nil {
		t.Fatal(err)
	}
	evs := eventsOf(t, db, a.ID)
	if len(evs) != 1 || evs[0].Type != passport.EventSignupCompleted || evs[0].Actor.Kind != passport.ActorPerson ||
		evs[0].Actor.AccountID != a.ID || evs[0].Actor.IP != "203.0.113.9" {
		t.Fatalf("after a sign-up: %+v", evs)
	}
	if row, _ := json.Marshal(evs[0]); strings.Contains(string(row), "argon-hash") || strings.Contains(string(row), "112233") {
		t.Errorf("the event holds a secret: %s", row)
	}
	b := mustCreateAccount(t, db, "made-by-cli")
	if evs := eventsOf(t, db, b.ID); len(evs) != 1 || evs[0].Type != passport.EventAccountCreated || evs[0].Actor.Kind != passport.ActorSystem {
		t.Fatalf("after a creation without an actor: %+v", evs)
	}
}

func types(evs []passport.Event) []string {
	out := make([]string, len(evs))
	for i, e := range evs {
		out[i] = e.Type
	}
	return out
}

// TestBrokenHeadersDoNotFailAChange: the address and browser come from request headers; bytes
// PostgreSQL cannot store in text are dropped, and the change with its event goes through.
func TestBrokenHeadersDoNotFailAChange(t *testing.T) {
	db := openDB(t)
	a := mustCreateAccount(t, db, "broken-agent")
	ctx := passport.WithActor(context.Background(), passport.Actor{Kind: passport.ActorPerson, IP: "192.0.2.1\x00", UserAgent: "Broken\xffAgent\x00/1"})
	now := time.Now().UTC()
	if err := db.CreateSession(ctx, passport.HashToken("broken-agent-cookie"), &passport.Session{AccountID: a.ID, AuthTime: now,
		AMR: []string{"pwd"}, CreatedAt: now, ExpiresAt: now.Add(time.Hour), UserAgent: "BrokenAgent/1"}); err != nil {
		t.Fatalf("signing in with a broken User-Agent: %v", err)
	}
	if e := eventsOf(t, db, a.ID)[0]; e.Type != passport.EventSigninOK || e.Actor.UserAgent != "BrokenAgent/1" || e.Actor.IP != "192.0.2.1" {
		t.Errorf("stored %q %q %q", e.Type, e.Actor.UserAgent, e.Actor.IP)
	}
}
