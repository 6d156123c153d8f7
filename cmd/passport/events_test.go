package main

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"
	"golang.org/x/oauth2"

	"github.com/passport-idp/passport/internal/account"
	"github.com/passport-idp/passport/internal/i18n"
	"github.com/passport-idp/passport/internal/passport"
	"github.com/passport-idp/passport/internal/postgres"
)

// storedEvent is a security event as stored, with its columns (all but the id and the
// time) joined as text for the scan for secrets.
type storedEvent struct {
	ID                                          int64
	Type, ActorKind, ActorID, ClientID, Subject string
	IP, Text                                    string
}

func lastEventID(t *testing.T, db *postgres.DB) int64 {
	t.Helper()
	var id int64
	if err := db.Pool().QueryRow(context.Background(), `SELECT coalesce(max(id), 0) FROM security_events`).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id
}

// eventsSince returns the account's events written after the event id since, oldest first.
func eventsSince(t *testing.T, db *postgres.DB, since int64, accountID string) []storedEvent {
	t.Helper()
	rows, err := db.Pool().Query(context.Background(), `
		SELECT id, type, actor_kind, coalesce(actor_id::text, ''), client_id, coalesce(account_id::text, ''), ip,
			concat_ws(' | ', type, actor_kind, actor_id, actor_role, actor_org_id, client_id, account_id, org_id, ip,
				user_agent, details::text)
		FROM security_events WHERE id > $1 AND account_id = $2 ORDER BY id`, since, accountID)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []storedEvent
	for rows.Next() {
		var e storedEvent
		if err := rows.Scan(&e.ID, &e.Type, &e.ActorKind, &e.ActorID, &e.ClientID, &e.Subject, &e.IP, &e.Text); err != nil {
			t.Fatal(err)
		}
		out = append(out, e)
	}
	return out
}

// devCode waits for the development sink's message to an address and returns its code.
func devCode(t *testing.T, db *postgres.DB, to string) string {
	t.Helper()
	return devCodeOf(t, db, to, 1)
}

// devCodeOf waits until the development sink holds n messages with a code for to, and
// returns the newest code.
func devCodeOf(t *testing.T, db *postgres.DB, to string, n int) string {
	t.Helper()
	var code string
	waitFor(t, func() bool {
		msgs, err := db.DevMessages(context.Background(), 200)
		if err != nil {
			t.Fatal(err)
		}
		var codes []string // newest first
		for _, m := range msgs {
			if c := codeInMail.FindStringSubmatch(m.Body); m.Recipient == to && c != nil {
				codes = append(codes, c[1])
			}
		}
		if len(codes) < n {
			return false
		}
		code = codes[0]
		return true
	})
	return code
}

// cookieValues are the browser's cookies for Passport: a session cookie is a secret too.
func cookieValues(b *browser) []string {
	u, _ := url.Parse(b.base)
	var out []string
	for _, c := range b.Jar.Cookies(u) {
		out = append(out, c.Value)
	}
	return out
}

// TestSecurityEventsOfPersonActions: every action of the person, done through the real pages
// and API, writes exactly one event of its type, with the person as actor (an unknown person
// for a wrong password) and subject, the address it came from, and none of the password,
// code or token used. Then the person reads them — and an administrator's change, named by
// organisation and role only — in the cabinet's tab, the API and the export.
func TestSecurityEventsOfPersonActions(t *testing.T) {
	srv := startServer(t, "")
	db := openDB(t)
	ctx := context.Background()
	clientSecret := setupClient(t, "events-web", "--scope", passport.ScopeAccount)
	login, password := "eve.events", "watch-my-account-1"
	id := setupSelfUser(t, login, password)
	b := newBrowser(t, srv)
	other := newBrowser(t, srv)
	rp := newRP(t, srv, "events-web", clientSecret, "profile", "email", passport.ScopeAccount)
	var key string
	var recovery []string
	var tok *oauth2.Token
	newEmail := "eve.moved@example.org"
	// The database is shared: an account left waiting for deletion would be another test's purge.
	t.Cleanup(func() { _ = db.RestoreAccount(context.Background(), id) })

	steps := []struct {
		name     string
		typ      string
		anyone   bool   // the actor is a person not proven to be the subject (a wrong password)
		clientID string // the application the person acted through
		act      func(t *testing.T) []string
	}{
		{name: "sign in", typ: passport.EventSigninOK, act: func(t *testing.T) []string {
			signInDirectly(t, b, login, password)
			return append(cookieValues(b), password)
		}},
		{name: "failed sign-in", typ: passport.EventSigninFailed, anyone: true, act: func(t *testing.T) []string {
			x := newBrowser(t, srv)
			if resp, _ := signinForm(t, x, login, "not-"+password); resp.StatusCode != http.StatusUnauthorized {
				t.Fatalf("a wrong password: %d", resp.StatusCode)
			}
			return []string{"not-" + password}
		}},
		{name: "change the password", typ: passport.EventPasswordChanged, act: func(t *testing.T) []string {
			old, next := password, "a-better-secret-2"
			resp, page := formPost(t, b, "/profile/password", "/profile/password",
				"current_password", old, "new_password", next, "repeat_password", next)
			if resp.Request.URL.Path != "/signin" {
				t.Fatalf("changing the password: ended at %s: %.300s", resp.Request.URL, page)
			}
			password = next
			return []string{old, next}
		}},
		{name: "turn two factors on", typ: passport.EventTwoFactorOn, act: func(t *testing.T) []string {
			signInDirectly(t, b, login, password)
			key, recovery = enrol(t, b)
			return append(slices.Clone(recovery), key, password)
		}},
		{name: "new recovery codes", typ: passport.EventRecoveryCodesNew, act: func(t *testing.T) []string {
			code, _ := totp.GenerateCode(key, time.Now().Add(30*time.Second)) // enrolment used this step's
			_, page := formPost(t, b, "/profile/2fa", "/profile/2fa/recovery-codes", "password", password, "code", code)
			recovery = nil
			for _, m := range recoveryOnPage.FindAllStringSubmatch(page, -1) {
				recovery = append(recovery, m[1])
			}
			if len(recovery) != 10 {
				t.Fatalf("new recovery codes: %.400s", page)
			}
			return append(slices.Clone(recovery), code, key, password)
		}},
		{name: "turn two factors off", typ: passport.EventTwoFactorOff, act: func(t *testing.T) []string {
			resp, page := formPost(t, b, "/profile/2fa", "/profile/2fa/disable", "password", password, "code", recovery[0])
			if resp.StatusCode != http.StatusOK || totpEnabled(t, login) {
				t.Fatalf("turning two factors off: %d %.300s", resp.StatusCode, page)
			}
			return []string{recovery[0], key, password}
		}},
		{name: "consent given through an application", typ: passport.EventConsentGiven, act: func(t *testing.T) []string {
			v := oauth2.GenerateVerifier()
			code := rp.signIn(b, "events", v, login, password)
			var err error
			if tok, err = rp.exchange(code, v); err != nil {
				t.Fatal(err)
			}
			idToken, _ := tok.Extra("id_token").(string)
			return []string{code, v, tok.AccessToken, tok.RefreshToken, idToken, clientSecret}
		}},
		{name: "a session ended through the API with the application's token", typ: passport.EventSessionEnded,
			clientID: "events-web", act: func(t *testing.T) []string {
				signInDirectly(t, other, login, password)
				if s, out := api(t, b, http.MethodDelete, "/me/sessions/"+currentSession(t, other), tok.AccessToken, nil); s != http.StatusNoContent {
					t.Fatalf("ending a session with a token: %d %v", s, out)
				}
				return []string{tok.AccessToken, password}
			}},
		{name: "consent withdrawn on the applications page", typ: passport.EventConsentWithdrawn, act: func(t *testing.T) []string {
			_, page := b.get(srv.URL + "/profile/apps")
			if !strings.Contains(page, `name="share_given_name" value="on" checked`) {
				t.Fatalf("no consented field on the applications page: %.500s", appSection(t, page, "events-web"))
			}
			// Every box unticked: what was consented is withdrawn.
			resp, _ := b.post("/profile/apps/decisions", url.Values{"csrf": {hidden(page).Get("csrf")}, "client_id": {"events-web"}})
			if resp.Request.URL.Path != "/profile/apps" {
				t.Fatalf("saving the decisions: ended at %s", resp.Request.URL)
			}
			return nil
		}},
		{name: "email changed with the code from the development sink", typ: passport.EventContactChanged, act: func(t *testing.T) []string {
			if resp, page := formPost(t, b, "/profile/email", "/profile/email", "value", newEmail); !strings.Contains(page, "Enter the code") {
				t.Fatalf("asking for a code: %d %.300s", resp.StatusCode, page)
			}
			code := devCode(t, db, newEmail)
			if _, page := formPost(t, b, "/profile/email", "/profile/email/confirm", "code", code); !strings.Contains(page, "Your email address is confirmed.") {
				t.Fatalf("confirming: %.300s", page)
			}
			return []string{code, newEmail}
		}},
		{name: "phone removed", typ: passport.EventContactRemoved, act: func(t *testing.T) []string {
			if _, err := db.Pool().Exec(ctx, `UPDATE accounts SET phone = '+3725550100', phone_verified = true WHERE id = $1`, id); err != nil {
				t.Fatal(err)
			}
			if _, page := formPost(t, b, "/profile/phone/delete", "/profile/phone/delete"); !strings.Contains(page, "Your phone number is deleted.") {
				t.Fatalf("removing the phone: %.300s", page)
			}
			return []string{"+3725550100", "5550100"}
		}},
		{name: "a session ended on the sessions page", typ: passport.EventSessionEnded, act: func(t *testing.T) []string {
			signInDirectly(t, other, login, password)
			sid := currentSession(t, other)
			if resp, _ := formPost(t, b, "/profile/sessions", "/profile/sessions/end", "id", sid); resp.Request.URL.Path != "/profile/sessions" {
				t.Fatalf("ending a session: ended at %s", resp.Request.URL)
			}
			return append(cookieValues(other), password)
		}},
		{name: "signed out everywhere", typ: passport.EventSessionsEnded, act: func(t *testing.T) []string {
			secrets := cookieValues(b)
			if resp, _ := formPost(t, b, "/profile/sessions/end-all", "/profile/sessions/end-all", "confirm", "yes"); resp.Request.URL.Path != "/signin" {
				t.Fatalf("signing out everywhere: ended at %s", resp.Request.URL)
			}
			return secrets
		}},
		{name: "deletion scheduled", typ: passport.EventDeletionScheduled, act: func(t *testing.T) []string {
			signInDirectly(t, b, login, password)
			if _, page := formPost(t, b, "/profile/delete", "/profile/delete", "password", password); !strings.Contains(page, "Your account will be deleted") {
				t.Fatalf("scheduling the deletion: %.300s", page)
			}
			return []string{password}
		}},
		{name: "account restored", typ: passport.EventDeletionRestored, act: func(t *testing.T) []string {
			_, page := signinForm(t, b, login, password)
			if !strings.Contains(page, "Restore your account?") {
				t.Fatalf("want the restore page, got %.300s", page)
			}
			form := hidden(page)
			if resp, _ := b.post("/account/restore", form); resp.Request.URL.Path != "/profile" {
				t.Fatalf("restoring: ended at %s", resp.Request.URL)
			}
			return []string{password, form.Get("token")}
		}},
	}
	for _, st := range steps {
		ok := t.Run(st.name, func(t *testing.T) {
			since := lastEventID(t, db)
			secrets := st.act(t)
			var got []storedEvent
			var all []string
			for _, e := range eventsSince(t, db, since, id) {
				all = append(all, e.Type)
				if e.Type == st.typ {
					got = append(got, e)
				}
			}
			if len(got) != 1 {
				t.Fatalf("%d events of type %s, want exactly 1 (new events: %v)", len(got), st.typ, all)
			}
			e := got[0]
			wantActor := id
			if st.anyone {
				wantActor = ""
			}
			if e.ActorKind != passport.ActorPerson || e.ActorID != wantActor || e.Subject != id {
				t.Errorf("actor %s %q, subject %q; want person %q, subject %s", e.ActorKind, e.ActorID, e.Subject, wantActor, id)
			}
			if e.IP == "" {
				t.Error("no address")
			}
			if e.ClientID != st.clientID {
				t.Errorf("client %q, want %q", e.ClientID, st.clientID)
			}
			for _, s := range secrets {
				if s != "" && strings.Contains(e.Text, s) {
					t.Errorf("the event holds a secret %q: %s", s, e.Text)
				}
			}
		})
		if !ok {
			t.FailNow() // the steps build on one another
		}
	}

	// An unknown login does the work a wrong password does (see handleSigninSubmit): one
	// event, with no subject and nothing of what was typed.
	t.Run("an unknown login", func(t *testing.T) {
		count := func() (n int, text string) {
			t.Helper()
			if err := db.Pool().QueryRow(ctx, `SELECT count(*), coalesce(string_agg(concat_ws(' ', ip, user_agent, details::text), ' '), '')
				FROM security_events WHERE type = 'signin.failed' AND account_id IS NULL`).Scan(&n, &text); err != nil {
				t.Fatal(err)
			}
			return n, text
		}
		before, _ := count()
		if resp, _ := signinForm(t, newBrowser(t, srv), "no-such-login-here", "typed-by-a-stranger-1"); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("an unknown login: %d", resp.StatusCode)
		}
		after, text := count()
		if after != before+1 {
			t.Errorf("%d subject-less events, want 1", after-before)
		}
		for _, s := range []string{"no-such-login-here", "typed-by-a-stranger-1"} {
			if strings.Contains(text, s) {
				t.Errorf("the event holds what was typed: %q", s)
			}
		}
	})

	// An administrator of the person's organisation changes their roles: the person sees
	// the organisation and the role, never who.
	orgID := setupOrg(t, "acme-events", "Acme Taxi", "driver")
	joinOrg(t, orgID, id, false, "")
	adminID := setupUser(t, "acme.boss", "boss-of-acme-1")
	if _, err := db.Pool().Exec(ctx, `UPDATE accounts SET given_name = 'Zebulon', family_name = 'Quartermaine', nickname = 'zebq'
		WHERE id = $1`, adminID); err != nil {
		t.Fatal(err)
	}
	grantAdmin(t, adminID, passport.RoleOrgAdmin, orgID)
	svc := &account.Service{DB: db}
	admin, err := svc.Admin(ctx, adminID, "198.51.100.23", "AdminBrowser/1.0", "")
	if err != nil {
		t.Fatal(err)
	}
	since := lastEventID(t, db)
	if err := svc.ChangeMembership(ctx, admin, orgID, id, postgres.MembershipChange{Roles: &[]string{"driver"}}); err != nil {
		t.Fatal(err)
	}
	if evs := eventsSince(t, db, since, id); len(evs) != 1 || evs[0].Type != passport.EventMembershipChanged ||
		evs[0].ActorKind != passport.ActorAdmin || evs[0].ActorID != adminID {
		t.Fatalf("the administrator's change: %+v", evs)
	}
	adminTraces := []string{adminID, "acme.boss", "Zebulon", "Quartermaine", "zebq", "198.51.100.23", "AdminBrowser"}

	wantSentences := []string{"Signed in", "Failed sign-in attempt: wrong password", "Password changed",
		"Two-factor authentication turned on", "New recovery codes made; the earlier ones stopped working",
		"Two-factor authentication turned off", "Consent given to events-web", "Consent withdrawn from events-web",
		"Email address changed", "Phone number removed", "A session was ended", "Signed out on every device",
		"Account deletion scheduled", "Account restored: it will not be deleted", "Roles changed in Acme Taxi"}
	wantTypes := []string{passport.EventRoleSaved}[:0]
	for _, st := range steps {
		wantTypes = append(wantTypes, st.typ)
	}
	wantTypes = append(wantTypes, passport.EventMembershipChanged)

	t.Run("the cabinet's tab", func(t *testing.T) {
		resp, page := b.get(srv.URL + "/profile/events")
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET /profile/events: %d", resp.StatusCode)
		}
		text := html.UnescapeString(page)
		for _, s := range append(wantSentences, "Acme Taxi, organisation administrator", "by You", "by Unknown person",
			"by You, through events-web", `href="/profile/events" aria-current="page"`) {
			if !strings.Contains(text, s) {
				t.Errorf("the page lacks %q", s)
			}
		}
		for _, s := range adminTraces {
			if strings.Contains(text, s) {
				t.Errorf("the page names the administrator: %q", s)
			}
		}
	})

	checkFeed := func(t *testing.T, where string, events []map[string]any) {
		t.Helper()
		var types []string
		for _, e := range events {
			types = append(types, e["type"].(string))
			if e["account_id"] != id {
				t.Errorf("%s: an event of another subject: %v", where, e)
			}
			actor, _ := e["actor"].(map[string]any)
			if e["type"] == passport.EventMembershipChanged {
				org, _ := actor["organisation"].(map[string]any)
				if actor["kind"] != passport.ActorAdmin || actor["role"] != passport.RoleOrgAdmin || org == nil || org["name"] != "Acme Taxi" {
					t.Errorf("%s: the administrator's event does not name organisation and role: %v", where, e)
				}
				if e["description"] != "Roles changed in Acme Taxi" {
					t.Errorf("%s: description %q", where, e["description"])
				}
			}
		}
		for _, want := range wantTypes {
			if !slices.Contains(types, want) {
				t.Errorf("%s: no %s event (has %v)", where, want, types)
			}
		}
		raw := toJSON(events)
		for _, s := range adminTraces {
			if strings.Contains(raw, s) {
				t.Errorf("%s names the administrator: %q", where, s)
			}
		}
	}
	asMaps := func(list any) []map[string]any {
		var out []map[string]any
		for _, x := range list.([]any) {
			out = append(out, x.(map[string]any))
		}
		return out
	}

	t.Run("the API", func(t *testing.T) {
		s, out := api(t, b, http.MethodGet, "/me/events?limit=200", "", nil)
		if s != http.StatusOK || out["next_before"] != nil {
			t.Fatalf("GET /me/events: %d %v", s, out)
		}
		all := asMaps(out["events"])
		checkFeed(t, "the API", all)
		// Pages of five, one after another, give the same events in the same order.
		var paged []any
		next := ""
		for pages := 0; ; pages++ {
			if pages > 50 {
				t.Fatal("paging does not end")
			}
			s, out := api(t, b, http.MethodGet, "/me/events?limit=5"+next, "", nil)
			if s != http.StatusOK {
				t.Fatalf("a page: %d %v", s, out)
			}
			for _, e := range asMaps(out["events"]) {
				paged = append(paged, e["id"])
			}
			if out["next_before"] == nil {
				break
			}
			next = fmt.Sprintf("&before=%.0f", out["next_before"].(float64))
		}
		var ids []any
		for _, e := range all {
			ids = append(ids, e["id"])
		}
		if toJSON(paged) != toJSON(ids) {
			t.Errorf("paged %v, want %v", paged, ids)
		}
		for _, q := range []struct{ query, field string }{
			{"before=abc", "before"}, {"before=0", "before"}, {"before=-4", "before"},
			{"limit=0", "limit"}, {"limit=201", "limit"}, {"limit=ten", "limit"},
		} {
			s, out := api(t, b, http.MethodGet, "/me/events?"+q.query, "", nil)
			fields, _ := out["error"].(map[string]any)["fields"].(map[string]any)
			if s != http.StatusBadRequest || fields[q.field] == nil {
				t.Errorf("?%s: got %d %v, want 400 naming %s", q.query, s, out, q.field)
			}
		}
	})

	t.Run("the export", func(t *testing.T) {
		_, body := b.get(srv.URL + "/profile/export")
		var x struct {
			SecurityEvents []map[string]any `json:"security_events"`
		}
		if err := json.Unmarshal([]byte(body), &x); err != nil {
			t.Fatal(err)
		}
		checkFeed(t, "the export", x.SecurityEvents)
		_, out := api(t, b, http.MethodGet, "/me/events?limit=200", "", nil)
		if len(x.SecurityEvents) != len(out["events"].([]any)) {
			t.Errorf("the export has %d events, the API %d", len(x.SecurityEvents), len(out["events"].([]any)))
		}
	})

	t.Run("the cabinet's tab in Russian", func(t *testing.T) {
		cat, err := i18n.Load()
		if err != nil {
			t.Fatal(err)
		}
		if s, _ := api(t, b, http.MethodPatch, "/me", "", map[string]any{"locale": "ru"}); s != http.StatusOK {
			t.Fatalf("setting the language: %d", s)
		}
		page := readPage(t, b, srv.URL+"/profile/events")
		if got := pageLang(t, page); got != "ru" {
			t.Fatalf("<html lang=%q>", got)
		}
		text := visibleText(page)
		if left := englishLeft(cat, "ru", text, login, "events-web", "Acme Taxi", "Passport", "Go-http-client/1.1", "Go-http-client"); len(left) > 0 {
			t.Errorf("the tab in Russian still shows English: %q", left)
		}
		for _, s := range []string{"Acme Taxi, администратор организации", "Пароль изменён", "Неудачная попытка входа: неверный пароль"} {
			if !strings.Contains(text, s) {
				t.Errorf("the Russian tab lacks %q", s)
			}
		}
	})
}

// TestSecurityEventsTabPages: the tab shows 50 events a page, newest first, with an "Older"
// link (a plain link: no JavaScript) to the rest; a made-up cursor is a 400 page.
func TestSecurityEventsTabPages(t *testing.T) {
	srv := startServer(t, "")
	db := openDB(t)
	id := setupSelfUser(t, "many.events", "so-many-events-1")
	b := newBrowser(t, srv)
	signInDirectly(t, b, "many.events", "so-many-events-1")
	for i := range 60 {
		if err := db.Record(context.Background(), passport.Event{Type: passport.EventSigninFailed, AccountID: id,
			Actor: passport.Actor{Kind: passport.ActorPerson, IP: fmt.Sprintf("192.0.2.%d", i)}}); err != nil {
			t.Fatal(err)
		}
	}
	all := eventsSince(t, db, 0, id) // oldest first: created, signed in, 60 failures
	if len(all) != 62 {
		t.Fatalf("%d events, want 62", len(all))
	}
	rows := regexp.MustCompile(`data-event="(\d+)"`)
	older := regexp.MustCompile(`href="(/profile/events\?before=\d+)" rel="next"`)
	var shown []string
	next := "/profile/events"
	for pages := 1; next != ""; pages++ {
		resp, page := b.get(srv.URL + html.UnescapeString(next))
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d", next, resp.StatusCode)
		}
		n := len(rows.FindAllString(page, -1))
		if want := map[int]int{1: 50, 2: 12}[pages]; n != want {
			t.Fatalf("page %d has %d events, want %d", pages, n, want)
		}
		for _, m := range rows.FindAllStringSubmatch(page, -1) {
			shown = append(shown, m[1])
		}
		if pages > 1 && !strings.Contains(page, `href="/profile/events"`) {
			t.Errorf("page %d has no way back to the newest", pages)
		}
		next = ""
		if m := older.FindStringSubmatch(page); m != nil {
			next = m[1]
		}
	}
	var want []string
	for i := len(all) - 1; i >= 0; i-- {
		want = append(want, fmt.Sprint(all[i].ID))
	}
	if !slices.Equal(shown, want) {
		t.Errorf("shown %v, want %v", shown, want)
	}
	for _, bad := range []string{"abc", "0", "-1"} {
		if resp, _ := b.get(srv.URL + "/profile/events?before=" + bad); resp.StatusCode != http.StatusBadRequest {
			t.Errorf("?before=%s: %d, want 400", bad, resp.StatusCode)
		}
	}
}
