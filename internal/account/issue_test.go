package account_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/passport-idp/passport/internal/account"
	"github.com/passport-idp/passport/internal/passport"
)

// Issuing members and credentials (SPEC §6): scope, field checks that write nothing,
// generated passwords, re-issuing, the delivery of the message, and one event per action.

// issueWorld is newWorld with the credential hook: a message whose payload is the plain
// password (for the test to read back; the real hook seals it).
func issueWorld(t *testing.T) *world {
	w := newWorld(t)
	w.svc.IssuedPasswordLifetime = 7 * 24 * time.Hour
	w.svc.Argon2 = passport.Argon2Params{MemoryKiB: 1024, Iterations: 1, Parallelism: 1}
	w.svc.CredentialMessage = func(ctx context.Context, a *passport.Account, org *passport.Organisation, channel, template, locale, password string,
		expires time.Time) (passport.Outgoing, error) {
		to := a.Email
		if channel == passport.ChannelSMS {
			to = a.Phone
		}
		return passport.Outgoing{Channel: channel, To: to, Kind: passport.MessageLoginDetails, Locale: "en", AccountID: a.ID,
			Payload: []byte(password)}, nil
	}
	return w
}

func count(t *testing.T, w *world, sql string, args ...any) int {
	t.Helper()
	var n int
	if err := w.db.Pool().QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func uniq(s string) string {
	seq++
	return strings.ReplaceAll(s, "#", time.Now().Format("150405")+"x"+string(rune('a'+seq%26))+string(rune('a'+(seq/26)%26)))
}

func TestCreateMemberScopeAndFields(t *testing.T) {
	w := issueWorld(t)
	ctx := context.Background()
	good := account.NewMember{Login: uniq("Anna.#"), Email: uniq("anna#@example.org"), Phone: "+372 5123 4567",
		GivenName: "Anna", FamilyName: "Kask", Birthdate: "1990-04-23", Locale: "et", Position: "Driver", Roles: []string{"driver"}}

	t.Run("another organisation's admin: not found, nothing written", func(t *testing.T) {
		before, accounts := countEvents(t, w.db), count(t, w, `SELECT count(*) FROM accounts`)
		for _, actor := range []passport.Actor{w.adminA, w.person} {
			if _, _, _, err := w.svc.CreateMember(ctx, actor, w.orgB, good, &account.Credentials{Generate: true}); passport.ErrorCode(err) != passport.ENOTFOUND {
				t.Errorf("create in a foreign organisation: %v, want ENOTFOUND", err)
			}
			if _, _, err := w.svc.CheckMember(ctx, actor, w.orgB, good); passport.ErrorCode(err) != passport.ENOTFOUND {
				t.Errorf("check in a foreign organisation: %v, want ENOTFOUND", err)
			}
		}
		if countEvents(t, w.db) != before || count(t, w, `SELECT count(*) FROM accounts`) != accounts {
			t.Error("a refused creation wrote something")
		}
	})

	t.Run("field errors, nothing written", func(t *testing.T) {
		taken := good
		taken.Login = strings.ToUpper(w.adminBLogin(t))
		for name, c := range map[string]struct {
			in    func(m *account.NewMember)
			field string
		}{
			"login taken in another letter case": {func(m *account.NewMember) { m.Login = taken.Login }, "login"},
			"bad email":                          {func(m *account.NewMember) { m.Email = "not-an-address" }, "email"},
			"bad phone":                          {func(m *account.NewMember) { m.Phone = "12345" }, "phone"},
			"national phone without a region":    {func(m *account.NewMember) { m.Phone = "5123 4567" }, "phone"},
			"unknown role":                       {func(m *account.NewMember) { m.Roles = []string{"driver", "pilot"} }, "roles"},
			"no email and no phone":              {func(m *account.NewMember) { m.Email, m.Phone = "", "" }, "email"},
			"birth date in the future":           {func(m *account.NewMember) { m.Birthdate = "2999-01-01" }, "birthdate"},
			"unknown language":                   {func(m *account.NewMember) { m.Locale = "de" }, "locale"},
			"markup in a name":                   {func(m *account.NewMember) { m.GivenName = "<b>Anna</b>" }, "given_name"},
		} {
			t.Run(name, func(t *testing.T) {
				before, accounts := countEvents(t, w.db), count(t, w, `SELECT count(*) FROM accounts`)
				in := good
				in.Login, in.Email = uniq("u#"), uniq("u#@example.org")
				c.in(&in)
				_, errs, err := w.svc.CheckMember(ctx, w.adminA, w.orgA, in)
				if err != nil || errs[c.field] == nil {
					t.Fatalf("check: %v %v, want a field error on %s", errs, err, c.field)
				}
				_, _, errs, err = w.svc.CreateMember(ctx, w.adminA, w.orgA, in, &account.Credentials{Generate: true})
				if err != nil || errs[c.field] == nil {
					t.Fatalf("create: %v %v, want a field error on %s", errs, err, c.field)
				}
				if countEvents(t, w.db) != before || count(t, w, `SELECT count(*) FROM accounts`) != accounts {
					t.Error("a refused creation wrote something")
				}
			})
		}
	})

	t.Run("credential field errors write nothing", func(t *testing.T) {
		for name, c := range map[string]struct {
			cred  account.Credentials
			field string
		}{
			"typed twice differently": {account.Credentials{Password: "Correct-horse-42", Repeat: "Correct-horse-43"}, account.FieldRepeat},
			"typed, too weak":         {account.Credentials{Password: "password", Repeat: "password"}, account.FieldPassword},
			"unknown template":        {account.Credentials{Generate: true, Template: "nope"}, account.FieldTemplate},
			"unknown channel":         {account.Credentials{Generate: true, Channel: "pigeon"}, account.FieldChannel},
			"unknown language":        {account.Credentials{Generate: true, Locale: "de"}, account.FieldMessageLocale},
		} {
			before := countEvents(t, w.db)
			in := good
			in.Login, in.Email = uniq("c#"), uniq("c#@example.org")
			_, _, errs, err := w.svc.CreateMember(ctx, w.adminA, w.orgA, in, &c.cred)
			if err != nil || errs[c.field] == nil {
				t.Errorf("%s: %v %v, want a field error on %s", name, errs, err, c.field)
			}
			if countEvents(t, w.db) != before {
				t.Errorf("%s: wrote events", name)
			}
		}
		in := good
		in.Login, in.Email, in.Phone = uniq("s#"), uniq("s#@example.org"), ""
		if _, _, errs, _ := w.svc.CreateMember(ctx, w.adminA, w.orgA, in, &account.Credentials{Generate: true, Channel: "sms"}); errs[account.FieldChannel] == nil {
			t.Error("sms to a member without a phone: accepted")
		}
	})

	t.Run("created: managed, admin-registered, unverified, primary, events", func(t *testing.T) {
		since := maxEvent(t, w.db)
		in := good
		in.Login, in.Email = uniq("Ok.#"), uniq("ok#@EXAMPLE.org")
		a, issued, errs, err := w.svc.CreateMember(ctx, w.adminA, w.orgA, in, &account.Credentials{Generate: true})
		if err != nil || len(errs) > 0 {
			t.Fatalf("create: %v %v", errs, err)
		}
		got, err := w.db.Account(ctx, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.RegistrationMethod != passport.RegisteredAdmin || got.EmailVerified || got.PhoneVerified ||
			got.Phone != "+37251234567" || !strings.HasSuffix(got.Email, "@example.org") || got.Locale != "et" {
			t.Errorf("account: %+v", got)
		}
		if len(got.Memberships) != 1 || !got.Memberships[0].Managed || !got.Memberships[0].Primary ||
			got.Memberships[0].Position != "Driver" || !slices.Equal(got.Memberships[0].Roles, []string{"driver"}) {
			t.Errorf("membership: %+v", got.Memberships)
		}
		if issued == nil || issued.Channel != passport.ChannelEmail || issued.Template != passport.TemplateStandard {
			t.Fatalf("issued: %+v", issued)
		}
		var types []string
		for _, e := range eventsSince(t, w.db, since) {
			types = append(types, e.Type)
			if e.OrgID != w.orgA || e.AccountID != a.ID || e.Actor.AccountID != w.adminAID || e.Actor.Role != passport.RoleOrgAdmin {
				t.Errorf("event %s: %+v", e.Type, e)
			}
			if strings.Contains(strings.ToLower(eventText(e)), strings.ToLower(issued.Password)) {
				t.Errorf("event %s holds the password", e.Type)
			}
		}
		slices.Sort(types)
		if want := []string{passport.EventAccountCreated, passport.EventCredentialsIssued, passport.EventMemberAdded}; !slices.Equal(types, want) {
			t.Errorf("events %v, want %v", types, want)
		}
		if n := count(t, w, `SELECT count(*) FROM messages WHERE account_id = $1 AND kind = 'login_details' AND recipient = $2`, a.ID, got.Email); n != 1 {
			t.Errorf("%d login details messages, want 1", n)
		}
	})

	t.Run("empty login takes the email", func(t *testing.T) {
		in := good
		in.Login, in.Email = "", uniq("mail#@example.org")
		a, _, errs, err := w.svc.CreateMember(ctx, w.adminA, w.orgA, in, nil)
		if err != nil || len(errs) > 0 || a.Login != in.Email {
			t.Fatalf("create: %v %v %+v", errs, err, a)
		}
		if n := count(t, w, `SELECT count(*) FROM credential_issues WHERE account_id = $1`, a.ID); n != 0 {
			t.Errorf("no credentials asked, %d issues", n)
		}
	})
}

// adminBLogin is the login of organisation B's administrator.
func (w *world) adminBLogin(t *testing.T) string {
	t.Helper()
	a, err := w.db.Account(context.Background(), w.adminBID)
	if err != nil {
		t.Fatal(err)
	}
	return a.Login
}

func eventText(e passport.Event) string {
	b, _ := json.Marshal(e.Details)
	return string(b)
}

func TestIssueCredentials(t *testing.T) {
	w := issueWorld(t)
	ctx := context.Background()
	a, first, errs, err := w.svc.CreateMember(ctx, w.adminA, w.orgA, account.NewMember{Login: uniq("Iss.#"), Email: uniq("iss#@example.org")},
		&account.Credentials{Generate: true})
	if err != nil || len(errs) > 0 {
		t.Fatalf("create: %v %v", errs, err)
	}
	hashOf := func() string {
		got, err := w.db.Account(ctx, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		return got.PasswordHash
	}

	t.Run("generated password meets the policy, works, expires", func(t *testing.T) {
		if len(first.Password) != passport.IssuedPasswordLength || passport.CheckPasswordPolicy(first.Password, a.Login) != nil {
			t.Errorf("generated %q", first.Password)
		}
		h := hashOf()
		if !passport.IsIssuedHash(h) {
			t.Errorf("a generated password is stored as %.20s…", h)
		}
		if ok, _, err := passport.CheckPassword(ctx, h, first.Password, w.svc.Argon2); !ok || err != nil {
			t.Errorf("the generated password does not match: %v", err)
		}
		if ok, _, _ := passport.CheckPassword(ctx, h, first.Password+"x", w.svc.Argon2); ok {
			t.Error("a wrong password matches")
		}
		got, _ := w.db.Account(ctx, a.ID)
		want := w.db.Now().Add(7 * 24 * time.Hour)
		if got.PasswordExpiresAt == nil || got.PasswordExpiresAt.Sub(want).Abs() > time.Minute {
			t.Errorf("expires at %v, want about %v", got.PasswordExpiresAt, want)
		}
		if !slices.Contains(got.RequiredActions, passport.ActionChangePassword) {
			t.Errorf("required actions %v", got.RequiredActions)
		}
	})

	t.Run("scope and protection", func(t *testing.T) {
		before := countEvents(t, w.db)
		if _, _, err := w.svc.IssueCredentials(ctx, w.adminB, w.orgA, a.ID, account.Credentials{Generate: true}); passport.ErrorCode(err) != passport.ENOTFOUND {
			t.Errorf("another organisation's admin: %v", err)
		}
		if _, _, err := w.svc.IssueCredentials(ctx, w.adminA, w.orgB, w.managedB, account.Credentials{Generate: true}); passport.ErrorCode(err) != passport.ENOTFOUND {
			t.Errorf("a foreign member: %v", err)
		}
		if _, _, err := w.svc.IssueCredentials(ctx, w.adminA, w.orgA, w.joinedA, account.Credentials{Generate: true}); passport.ErrorCode(err) != passport.EFORBIDDEN {
			t.Errorf("a member who joined: %v, want EFORBIDDEN", err)
		}
		if err := w.svc.ResetTwoFactor(ctx, w.adminA, w.orgA, w.joinedA); passport.ErrorCode(err) != passport.EFORBIDDEN {
			t.Errorf("reset two factors of a member who joined: %v", err)
		}
		if countEvents(t, w.db) != before {
			t.Error("a refused issue wrote events")
		}
		if err := w.svc.ResetTwoFactor(ctx, w.adminB, w.orgA, a.ID); passport.ErrorCode(err) != passport.ENOTFOUND {
			t.Errorf("reset two factors from another organisation: %v", err)
		}
	})

	t.Run("re-issue voids the previous one and cancels its message", func(t *testing.T) {
		oldHash := hashOf()
		since := maxEvent(t, w.db)
		second, errs, err := w.svc.IssueCredentials(ctx, w.adminA, w.orgA, a.ID, account.Credentials{Password: "Typed-pass-2026", Repeat: "Typed-pass-2026", Channel: "none"})
		if err != nil || len(errs) > 0 {
			t.Fatalf("issue: %v %v", errs, err)
		}
		if second.Password != "" {
			t.Error("a typed password is returned")
		}
		h := hashOf()
		if h == oldHash || passport.IsIssuedHash(h) {
			t.Errorf("typed password stored as %.20s…", h)
		}
		if ok, _, _ := passport.CheckPassword(ctx, h, first.Password, w.svc.Argon2); ok {
			t.Error("the first password still works")
		}
		if ok, _, _ := passport.CheckPassword(ctx, h, "Typed-pass-2026", w.svc.Argon2); !ok {
			t.Error("the typed password does not work")
		}
		var voided, status, lastErr string
		var payload []byte
		err = w.db.Pool().QueryRow(ctx, `SELECT coalesce(i.voided_at::text, ''), m.status, m.last_error, m.payload
			FROM credential_issues i JOIN messages m ON m.id = i.message_id WHERE i.id = $1`, first.ID).Scan(&voided, &status, &lastErr, &payload)
		if err != nil {
			t.Fatal(err)
		}
		if voided == "" || status != "failed" || lastErr != "replaced" || payload != nil {
			t.Errorf("first issue: voided %q, message %s %q, payload %d bytes", voided, status, lastErr, len(payload))
		}
		evs := eventsSince(t, w.db, since)
		if len(evs) != 1 || evs[0].Type != passport.EventCredentialsIssued || evs[0].Details["channel"] != "none" {
			t.Errorf("events %+v, want one credentials.issued", evs)
		}
		if n := count(t, w, `SELECT count(*) FROM credential_issues WHERE account_id = $1 AND voided_at IS NULL`, a.ID); n != 1 {
			t.Errorf("%d live issues", n)
		}
	})

	t.Run("a sent message stays sent", func(t *testing.T) {
		third, _, err := w.svc.IssueCredentials(ctx, w.adminA, w.orgA, a.ID, account.Credentials{Generate: true})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.db.Pool().Exec(ctx, `UPDATE messages SET status = 'sent', payload = NULL WHERE id =
			(SELECT message_id FROM credential_issues WHERE id = $1)`, third.ID); err != nil {
			t.Fatal(err)
		}
		if _, _, err := w.svc.IssueCredentials(ctx, w.adminA, w.orgA, a.ID, account.Credentials{Generate: true}); err != nil {
			t.Fatal(err)
		}
		list, err := w.svc.CredentialIssues(ctx, w.adminA, w.orgA, a.ID, 10)
		if err != nil || len(list) != 4 {
			t.Fatalf("issues: %d %v", len(list), err)
		}
		if list[1].ID != third.ID || list[1].MessageStatus != "sent" || list[1].VoidedAt == nil || list[0].MessageStatus != "pending" {
			t.Errorf("statuses: %+v", list[:2])
		}
		if _, err := w.svc.CredentialIssues(ctx, w.adminB, w.orgA, a.ID, 10); passport.ErrorCode(err) != passport.ENOTFOUND {
			t.Errorf("another organisation reads the delivery status: %v", err)
		}
	})

	t.Run("sessions end", func(t *testing.T) {
		if _, err := w.db.Pool().Exec(ctx, `INSERT INTO sessions (token_hash, account_id, auth_time, amr, expires_at)
			VALUES (decode(md5(random()::text), 'hex'), $1, now(), '{pwd}', now() + interval '1 hour')`, a.ID); err != nil {
			t.Fatal("make a session:", err)
		}
		if _, _, err := w.svc.IssueCredentials(ctx, w.adminA, w.orgA, a.ID, account.Credentials{Generate: true}); err != nil {
			t.Fatal(err)
		}
		if n := count(t, w, `SELECT count(*) FROM sessions WHERE account_id = $1 AND ended_at IS NULL`, a.ID); n != 0 {
			t.Errorf("%d sessions live after issuing", n)
		}
	})

	t.Run("reset two factors", func(t *testing.T) {
		if _, err := w.db.Pool().Exec(ctx, `INSERT INTO totp (account_id, secret_enc, enabled_at) VALUES ($1, '\x00', now())`, a.ID); err != nil {
			t.Fatal("make a TOTP row:", err)
		}
		since := maxEvent(t, w.db)
		if err := w.svc.ResetTwoFactor(ctx, w.adminA, w.orgA, a.ID); err != nil {
			t.Fatal(err)
		}
		if n := count(t, w, `SELECT count(*) FROM totp WHERE account_id = $1`, a.ID); n != 0 {
			t.Error("the TOTP secret stays")
		}
		got, _ := w.db.Account(ctx, a.ID)
		if !slices.Contains(got.RequiredActions, passport.ActionEnrolTwoFactor) || !slices.Contains(got.RequiredActions, passport.ActionChangePassword) {
			t.Errorf("required actions %v", got.RequiredActions)
		}
		if evs := eventsSince(t, w.db, since); len(evs) != 1 || evs[0].Type != passport.EventTwoFactorReset {
			t.Errorf("events %+v", evs)
		}
	})

	t.Run("own account refused", func(t *testing.T) {
		if _, _, err := w.svc.IssueCredentials(ctx, w.service, "", w.service.AccountID, account.Credentials{Generate: true}); passport.ErrorCode(err) != passport.EFORBIDDEN {
			t.Errorf("own account: %v", err)
		}
	})
}

func TestContactConfirmationRequest(t *testing.T) {
	w := issueWorld(t)
	ctx := context.Background()
	a, _, errs, err := w.svc.CreateMember(ctx, w.adminA, w.orgA, account.NewMember{Login: uniq("cc#"), Email: uniq("cc#@example.org")}, nil)
	if err != nil || len(errs) > 0 {
		t.Fatal(errs, err)
	}
	var sent []string
	send := func(acc *passport.Account, kind string) error { sent = append(sent, kind); return nil }
	if errs, err := w.svc.RequestContactConfirmation(ctx, w.adminA, w.orgA, a.ID, []string{"phone"}, send); err != nil || errs["phone"] == nil {
		t.Errorf("no phone: %v %v", errs, err)
	}
	if _, err := w.svc.RequestContactConfirmation(ctx, w.adminB, w.orgA, a.ID, []string{"email"}, send); passport.ErrorCode(err) != passport.ENOTFOUND {
		t.Errorf("another organisation: %v", err)
	}
	since := maxEvent(t, w.db)
	if errs, err := w.svc.RequestContactConfirmation(ctx, w.adminA, w.orgA, a.ID, []string{"email"}, send); err != nil || len(errs) > 0 {
		t.Fatalf("email: %v %v", errs, err)
	}
	if !slices.Equal(sent, []string{"email"}) {
		t.Errorf("sent %v", sent)
	}
	if evs := eventsSince(t, w.db, since); len(evs) != 1 || evs[0].Type != passport.EventContactConfirmationRequested {
		t.Errorf("events %+v", evs)
	}
	if _, err := w.db.Pool().Exec(ctx, `UPDATE accounts SET email_verified = true WHERE id = $1`, a.ID); err != nil {
		t.Fatal(err)
	}
	if errs, err := w.svc.RequestContactConfirmation(ctx, w.adminA, w.orgA, a.ID, []string{"email"}, send); err != nil || errs["email"] == nil {
		t.Errorf("confirmed email: %v %v", errs, err)
	}
}

func TestCredentialTemplates(t *testing.T) {
	w := issueWorld(t)
	ctx := context.Background()
	tpl := passport.CredentialTemplate{Key: "welcome", Names: map[string]string{"en": "Welcome"},
		Bodies: map[string]passport.TemplateBody{"en": {Subject: "Hi {name}", Text: "Login {login}, password {password}"}}}
	if _, _, err := w.svc.SaveTemplate(ctx, w.adminA, tpl); passport.ErrorCode(err) != passport.EFORBIDDEN {
		t.Errorf("an organisation's admin saves a template: %v", err)
	}
	bad := tpl
	bad.Bodies = map[string]passport.TemplateBody{"en": {Text: "no secret here"}}
	if _, errs, err := w.svc.SaveTemplate(ctx, w.service, bad); err != nil || errs["text_en"] == nil {
		t.Errorf("a text without {password}: %v %v", errs, err)
	}
	std := tpl
	std.Key = "standard"
	if _, errs, _ := w.svc.SaveTemplate(ctx, w.service, std); errs["key"] == nil {
		t.Error("the key standard accepted")
	}
	if _, errs, err := w.svc.SaveTemplate(ctx, w.service, tpl); err != nil || len(errs) > 0 {
		t.Fatalf("save: %v %v", errs, err)
	}
	list, err := w.svc.Templates(ctx, w.adminA)
	if err != nil || len(list) != 1 || list[0].Bodies["en"].Text != tpl.Bodies["en"].Text {
		t.Fatalf("templates: %+v %v", list, err)
	}
	a, issued, errs, err := w.svc.CreateMember(ctx, w.adminA, w.orgA, account.NewMember{Login: uniq("tp#"), Email: uniq("tp#@example.org")},
		&account.Credentials{Generate: true, Template: "welcome", Locale: "ru"})
	if err != nil || len(errs) > 0 || issued.Template != "welcome" || a == nil {
		t.Fatalf("issue with a stored template: %v %v %+v", errs, err, issued)
	}
	v := passport.CredentialValues{Login: "anna", Password: "{login}", Name: "A"}
	if got := v.Fill("{login}:{password}"); got != "anna:{login}" {
		t.Errorf("fill %q: a value's placeholder was replaced again", got)
	}
	if err := w.svc.DeleteTemplate(ctx, w.service, "welcome"); err != nil {
		t.Fatal(err)
	}
	if err := w.svc.DeleteTemplate(ctx, w.service, "welcome"); passport.ErrorCode(err) != passport.ENOTFOUND {
		t.Errorf("delete twice: %v", err)
	}
}
