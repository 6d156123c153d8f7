package main

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"golang.org/x/oauth2"

	"github.com/passport-idp/passport/internal/i18n"
	"github.com/passport-idp/passport/internal/passport"
)

// Issue 11 §3, "what the walk-through found": each test below is one person's confusion.

// signInDeclining walks an application's sign-in in a browser, unticking the named fields on
// the consent screen, and exchanges the code.
func signInDeclining(t *testing.T, b *browser, rp *relyingParty, state, login, password string, decline ...string) *oauth2.Token {
	t.Helper()
	v := oauth2.GenerateVerifier()
	resp, page := b.get(rp.authURL(state, v))
	for step := 0; step < 4; step++ {
		if loc := resp.Header.Get("Location"); resp.StatusCode/100 == 3 && !strings.HasPrefix(loc, b.base) {
			u, _ := url.Parse(loc)
			tok, err := rp.exchange(u.Query().Get("code"), v)
			if err != nil {
				t.Fatal(err)
			}
			return tok
		}
		form := hidden(page)
		switch {
		case strings.Contains(page, `action="/signin"`):
			form.Set("login", login)
			form.Set("password", password)
			resp, page = b.post("/signin", form)
		case strings.Contains(page, `action="/consent"`):
			for _, f := range decline {
				form.Del("share_" + f)
			}
			form.Set("decision", "allow")
			resp, page = b.post("/consent", form)
		default:
			t.Fatalf("unexpected page (%d): %.400s", resp.StatusCode, page)
		}
	}
	t.Fatal("too many steps before reaching the application")
	return nil
}

// currentSession returns the id of the browser's own session.
func currentSession(t *testing.T, b *browser) string {
	t.Helper()
	_, out := api(t, b, http.MethodGet, "/me/sessions", "", nil)
	list, _ := out["sessions"].([]any)
	for _, x := range list {
		if m := x.(map[string]any); m["current"] == true {
			return m["id"].(string)
		}
	}
	t.Fatalf("no current session in %v", out)
	return ""
}

// appSection cuts one application's part out of the connected-applications page.
func appSection(t *testing.T, page, clientID string) string {
	t.Helper()
	start := strings.Index(page, `id="app-`+clientID+`"`)
	if start < 0 {
		t.Fatalf("no section for %s on the page: %.600s", clientID, page)
	}
	rest := page[start:]
	if end := strings.Index(rest, "</article>"); end >= 0 {
		rest = rest[:end]
	}
	return rest
}

// TestPrivateProfileOverridesEveryLevel: with the private switch on, the privacy section
// shows every level overridden (disabled, with a note saying why), and saving it keeps the
// levels; organisation and position are shown read-only wherever they have a level.
func TestPrivateProfileOverridesEveryLevel(t *testing.T) {
	srv := startServer(t, "")
	id := setupSelfUser(t, "wt-private", "private-switch-41")
	joinOrg(t, setupOrg(t, "wt-analytical-engines", "Analytical Engines"), id, false, "Programmer")
	b := newBrowser(t, srv)
	signInDirectly(t, b, "wt-private", "private-switch-41")

	_, page := b.get(srv.URL + "/profile")
	if strings.Contains(page, `id="private-note"`) || strings.Contains(page, `disabled aria-describedby`) {
		t.Error("a public profile's levels are shown overridden")
	}
	// Organisation and position: in the main information (read-only) and in the privacy row.
	main := page[strings.Index(page, `id="main-info"`):strings.Index(page, `id="identifiers"`)]
	if !strings.Contains(main, "Analytical Engines") || !strings.Contains(main, "Programmer") || !strings.Contains(main, "badge-locked") {
		t.Errorf("organisation and position not shown read-only in the main information: %.800s", main)
	}
	if !regexp.MustCompile(`(?s)for="level-organization">Organisation and position</label><span class="field-sub">Analytical Engines, Programmer</span>`).MatchString(page) {
		t.Error("the privacy row of the organisation does not show its value")
	}
	_, edit := b.get(srv.URL + "/profile/edit")
	if !strings.Contains(edit, "Analytical Engines") || strings.Contains(edit, `name="organization"`) || strings.Contains(edit, `name="position"`) {
		t.Error("the edit page must show the organisation and position, read-only")
	}

	// Switch the profile to private (levels as they are).
	form := url.Values{"csrf": {hidden(page).Get("csrf")}, "private_profile": {"on"}, "level_email": {"public"}}
	if resp, _ := b.post("/profile/privacy", form); resp.Request.URL.Path != "/profile" {
		t.Fatalf("saving privacy: at %s", resp.Request.URL)
	}
	_, page = b.get(srv.URL + "/profile")
	if !strings.Contains(page, `id="private-note"`) || !strings.Contains(page, "whatever its level below") {
		t.Error("no note that the private switch overrides every level")
	}
	if got, want := strings.Count(page, ` disabled aria-describedby="private-note"`), len(passport.Fields); got != want {
		t.Errorf("%d level controls shown disabled, want every one (%d)", got, want)
	}
	if got := strings.Count(page, "overridden: only you"); got != len(passport.Fields) {
		t.Errorf("%d rows say the level is overridden, want %d", got, len(passport.Fields))
	}
	// Saving with the switch still on (the disabled controls send nothing) keeps the levels.
	b.post("/profile/privacy", url.Values{"csrf": {hidden(page).Get("csrf")}, "private_profile": {"on"}})
	if _, me := api(t, b, http.MethodGet, "/me", "", nil); !strings.Contains(toJSON(me), `"email":"public"`) {
		t.Errorf("the chosen levels were lost under the private switch: %v", me["publicity"])
	}
	// Switching it off gives the levels back.
	b.post("/profile/privacy", url.Values{"csrf": {hidden(page).Get("csrf")}})
	if _, page = b.get(srv.URL + "/profile"); strings.Contains(page, `id="private-note"`) || strings.Contains(page, `disabled aria-describedby`) {
		t.Error("the levels stay overridden after the switch is off")
	}
}

// TestAppsPageChangesDecisions: the connected-applications page shows what an application
// receives and what it was refused, and changes each on-request field's decision through
// the consent screen's own action; a withdrawal reaches userinfo and introspection at once.
// Another person's application answers 404.
func TestAppsPageChangesDecisions(t *testing.T) {
	srv := startServer(t, "")
	secret := setupClient(t, "wt-apps")
	otherSecret := setupClient(t, "wt-apps-other")
	id := setupSelfUser(t, "wt-apps-user", "apps-decisions-42")
	setupSelfUser(t, "wt-apps-else", "someone-else-43")
	db := openDB(t)
	if _, err := db.Pool().Exec(context.Background(), `UPDATE accounts SET phone = '+3725551234', phone_verified = true WHERE id = $1`, id); err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t, srv)
	signInDirectly(t, b, "wt-apps-user", "apps-decisions-42")
	api(t, b, http.MethodPut, "/me/photo", "", pngImage(t, 20, 20))
	api(t, b, http.MethodPatch, "/me/publicity", "", map[string]any{"fields": map[string]string{"picture": "on_request"}})

	rp := newRP(t, srv, "wt-apps", secret, "profile", "email", "phone")
	tok := signInDeclining(t, b, rp, "d1", "", "", "phone")
	got := userinfo(t, srv, tok)
	photo, _ := got["picture"].(string)
	if got["email"] == nil || got["phone_number"] != nil || photo == "" {
		t.Fatalf("after the consent screen: %v", got)
	}
	// Someone else is connected to another application.
	elsewhere := newBrowser(t, srv)
	signInDeclining(t, elsewhere, newRP(t, srv, "wt-apps-other", otherSecret, "email"), "o1", "wt-apps-else", "someone-else-43")

	_, page := b.get(srv.URL + "/profile/apps")
	app := appSection(t, page, "wt-apps")
	receives := app[strings.Index(app, "It receives now"):strings.Index(app, "You declined to share")]
	refused := app[strings.Index(app, "You declined to share"):strings.Index(app, `<form method="post" action="/profile/apps/decisions"`)]
	if !strings.Contains(receives, "wt-apps-user@example.com") || strings.Contains(receives, "+3725551234") {
		t.Errorf("what it receives: %s", receives)
	}
	if !strings.Contains(refused, "<li>Phone</li>") {
		t.Errorf("the declined phone is not listed as refused: %s", refused)
	}
	for box, checked := range map[string]bool{"email": true, "phone": false, "given_name": true, "picture": true} {
		if has := strings.Contains(app, `name="share_`+box+`" value="on" checked>`); has != checked || !strings.Contains(app, `name="share_`+box+`"`) {
			t.Errorf("checkbox %s: checked %v, want %v", box, has, checked)
		}
	}

	// Withdraw the email and the photo, allow the phone: the form as a browser sends it.
	form := url.Values{"csrf": {hidden(page).Get("csrf")}, "client_id": {"wt-apps"}}
	for _, f := range []string{"given_name", "family_name", "login", "phone"} {
		form.Set("share_"+f, "on")
	}
	resp, page := b.post("/profile/apps/decisions", form)
	if resp.Request.URL.Path != "/profile/apps" || !strings.Contains(page, "Your choices are saved") {
		t.Fatalf("saving the choices: %d at %s %.300s", resp.StatusCode, resp.Request.URL, page)
	}
	got = userinfo(t, srv, tok)
	if got["email"] != nil || got["phone_number"] != "+3725551234" || got["picture"] != nil || got["given_name"] != "Ada" {
		t.Errorf("userinfo right after the change on the apps page: %v", got)
	}
	if in := introspect(t, srv, tok.AccessToken, "wt-apps", secret); in["email"] != nil || in["active"] != true {
		t.Errorf("introspection after withdrawing the email: %v", in)
	}
	if r, err := http.Get(photo); err != nil || r.StatusCode != http.StatusNotFound {
		t.Errorf("the photo URL the application held still works after withdrawing it (%v)", err)
	} else {
		r.Body.Close()
	}
	app = appSection(t, page, "wt-apps")
	if !strings.Contains(app, "<li>Email</li>") || strings.Contains(app, "<li>Phone</li>") {
		t.Errorf("after the change, the refused list: %s", app)
	}

	// A field never decided and left unticked stays undecided: the application asks later.
	if _, err := db.Pool().Exec(context.Background(), `UPDATE accounts SET birthdate = '1815-12-10' WHERE id = $1`, id); err != nil {
		t.Fatal(err)
	}
	api(t, b, http.MethodPatch, "/me/publicity", "", map[string]any{"fields": map[string]string{"birthdate": "on_request"}})
	_, page = b.get(srv.URL + "/profile/apps")
	if app = appSection(t, page, "wt-apps"); !strings.Contains(app, "not decided yet") {
		t.Error("an undecided field is not marked as such")
	}
	b.post("/profile/apps/decisions", form)
	if d, _ := db.Decisions(context.Background(), id, "wt-apps"); len(d) == 0 {
		t.Fatal("no decisions stored")
	} else if _, decided := d[passport.FieldBirthdate]; decided {
		t.Error("saving the page decided a field the person never ticked nor was asked about")
	}

	// Attacks: another person's application, one never connected, no CSRF token.
	for name, f := range map[string]url.Values{
		"another person's application": {"csrf": {form.Get("csrf")}, "client_id": {"wt-apps-other"}, "share_email": {"on"}},
		"no such application":          {"csrf": {form.Get("csrf")}, "client_id": {"no-such-app"}},
	} {
		if resp, _ := b.post("/profile/apps/decisions", f); resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s: %d, want 404", name, resp.StatusCode)
		}
	}
	if d, _ := db.Decisions(context.Background(), id, "wt-apps-other"); len(d) != 0 {
		t.Errorf("decisions stored for an application the person is not connected to: %v", d)
	}
	noCSRF := url.Values{"client_id": {"wt-apps"}, "share_email": {"on"}}
	if resp, _ := b.post("/profile/apps/decisions", noCSRF); resp.StatusCode != http.StatusForbidden {
		t.Errorf("without the CSRF token: %d, want 403", resp.StatusCode)
	}
	if got = userinfo(t, srv, tok); got["email"] != nil {
		t.Error("a refused request gave the email back")
	}

	// The private switch overrides every decision, and the page says so.
	api(t, b, http.MethodPatch, "/me/publicity", "", map[string]any{"private_profile": true})
	_, page = b.get(srv.URL + "/profile/apps")
	if !strings.Contains(page, "applications receive only your Passport ID") || strings.Contains(appSection(t, page, "wt-apps"), `name="share_`) {
		t.Errorf("apps page with the private switch on: %.600s", appSection(t, page, "wt-apps"))
	}
}

// TestConsequentialActionsAskFirst: Disconnect, Log out of all devices, ending the current
// session and Delete photo lead to a page that says what will happen; a POST without its
// confirmation changes nothing; another person's application or session answers 404.
func TestConsequentialActionsAskFirst(t *testing.T) {
	srv := startServer(t, "")
	secret := setupClient(t, "wt-confirm")
	otherSecret := setupClient(t, "wt-confirm-other")
	setupSelfUser(t, "wt-confirm-user", "ask-me-first-44")
	setupSelfUser(t, "wt-confirm-else", "not-yours-45")
	b := newBrowser(t, srv)
	rp := newRP(t, srv, "wt-confirm", secret, "email", "offline_access")
	tok := signInDeclining(t, b, rp, "c1", "wt-confirm-user", "ask-me-first-44")
	csrf := func() string { _, p := b.get(srv.URL + "/profile"); return hidden(p).Get("csrf") }

	other := newBrowser(t, srv)
	signInDeclining(t, other, newRP(t, srv, "wt-confirm-other", otherSecret, "email"), "o1", "wt-confirm-else", "not-yours-45")
	otherSession := currentSession(t, other)

	t.Run("disconnect", func(t *testing.T) {
		_, page := b.get(srv.URL + "/profile/apps")
		if !strings.Contains(page, `<form method="get" action="/profile/apps/revoke">`) {
			t.Error("Disconnect on the apps page does not lead to a confirmation")
		}
		resp, page := b.post("/profile/apps/revoke", url.Values{"csrf": {csrf()}, "client_id": {"wt-confirm"}})
		if resp.Request.URL.Path != "/profile/apps/revoke" || !strings.Contains(page, `id="confirm"`) {
			t.Fatalf("a bare POST: at %s %.300s", resp.Request.URL, page)
		}
		if in := introspect(t, srv, tok.AccessToken, "wt-confirm", secret); in["active"] != true {
			t.Fatal("a POST without confirmation disconnected the application")
		}
		_, page = b.get(srv.URL + "/profile/apps/revoke?client_id=wt-confirm")
		if !strings.Contains(page, "App wt-confirm") || !strings.Contains(page, "wt-confirm-user@example.com") || !strings.Contains(page, "loses its access") {
			t.Errorf("the confirmation does not say what will happen: %.600s", page)
		}
		for _, u := range []string{"/profile/apps/revoke?client_id=wt-confirm-other", "/profile/apps/revoke?client_id=nope"} {
			if resp, _ := b.get(srv.URL + u); resp.StatusCode != http.StatusNotFound {
				t.Errorf("%s: %d, want 404", u, resp.StatusCode)
			}
		}
		if resp, _ := b.post("/profile/apps/revoke", url.Values{"csrf": {csrf()}, "client_id": {"wt-confirm-other"}, "confirm": {"yes"}}); resp.StatusCode != http.StatusNotFound {
			t.Errorf("disconnecting another person's application: %d, want 404", resp.StatusCode)
		}
		resp, page = b.post("/profile/apps/revoke", hidden(page))
		if resp.Request.URL.Path != "/profile/apps" || !strings.Contains(page, "disconnected") {
			t.Fatalf("after confirming: at %s %.300s", resp.Request.URL, page)
		}
		rp.grantRevoked(t, tok, secret, "a confirmed disconnect")
	})

	t.Run("delete photo", func(t *testing.T) {
		api(t, b, http.MethodPut, "/me/photo", "", pngImage(t, 20, 20))
		_, page := b.get(srv.URL + "/profile/edit")
		if strings.Contains(page, `action="/profile/photo/delete"`) || !strings.Contains(page, `href="/profile/photo/delete"`) {
			t.Error("Delete photo on the edit page does not lead to a confirmation")
		}
		resp, page := b.post("/profile/photo/delete", url.Values{"csrf": {csrf()}})
		if resp.Request.URL.Path != "/profile/photo/delete" || !strings.Contains(page, `id="confirm"`) || !strings.Contains(page, `src="/photos/`) {
			t.Fatalf("a bare POST: at %s %.300s", resp.Request.URL, page)
		}
		if _, me := api(t, b, http.MethodGet, "/me", "", nil); me["picture"] == nil {
			t.Fatal("a POST without confirmation deleted the photo")
		}
		resp, page = b.post("/profile/photo/delete", hidden(page))
		if resp.Request.URL.Path != "/profile" || !strings.Contains(page, "Your photo is deleted") {
			t.Fatalf("after confirming: at %s %.300s", resp.Request.URL, page)
		}
		if resp, _ := b.get(srv.URL + "/profile/photo/delete"); resp.Request.URL.Path != "/profile/edit" {
			t.Errorf("the confirmation without a photo: at %s, want the edit page", resp.Request.URL)
		}
	})

	t.Run("end the current session", func(t *testing.T) {
		current := currentSession(t, b)
		_, page := b.get(srv.URL + "/profile/sessions")
		if !strings.Contains(page, `<form method="get" action="/profile/sessions/end">`) {
			t.Error("End on the current session does not lead to a confirmation")
		}
		resp, page := b.post("/profile/sessions/end", url.Values{"csrf": {csrf()}, "id": {current}})
		if resp.Request.URL.Path != "/profile/sessions/end" || !strings.Contains(page, "the session you are using now") {
			t.Fatalf("a bare POST: at %s %.300s", resp.Request.URL, page)
		}
		if !signedIn(t, b) {
			t.Fatal("a POST without confirmation ended the current session")
		}
		if resp, _ := b.get(srv.URL + "/profile/sessions/end?id=" + otherSession); resp.StatusCode != http.StatusNotFound {
			t.Errorf("another person's session: %d, want 404", resp.StatusCode)
		}
		if resp, _ := b.post("/profile/sessions/end", url.Values{"csrf": {csrf()}, "id": {otherSession}, "confirm": {"yes"}}); resp.StatusCode != http.StatusNotFound {
			t.Errorf("ending another person's session: %d, want 404", resp.StatusCode)
		}
		if !signedIn(t, other) {
			t.Fatal("another person's session was ended")
		}
		// Another session of one's own ends with one click, as before.
		laptop := newBrowser(t, srv)
		signInDirectly(t, laptop, "wt-confirm-user", "ask-me-first-44")
		if resp, _ := b.post("/profile/sessions/end", url.Values{"csrf": {csrf()}, "id": {currentSession(t, laptop)}}); resp.Request.URL.Path != "/profile/sessions" || signedIn(t, laptop) {
			t.Errorf("ending another own session: at %s", resp.Request.URL)
		}
		resp, _ = b.post("/profile/sessions/end", hidden(page))
		if resp.Request.URL.Path != "/signed-out" || signedIn(t, b) {
			t.Fatalf("after confirming: at %s", resp.Request.URL)
		}
	})

	t.Run("log out of all devices", func(t *testing.T) {
		signInDirectly(t, b, "wt-confirm-user", "ask-me-first-44")
		tok := signInDeclining(t, b, rp, "c2", "", "")
		phone := newBrowser(t, srv)
		signInDirectly(t, phone, "wt-confirm-user", "ask-me-first-44")
		_, page := b.get(srv.URL + "/profile/sessions")
		if !strings.Contains(page, `<form method="get" action="/profile/sessions/end-all">`) {
			t.Error("Log out of all devices does not lead to a confirmation")
		}
		resp, page := b.post("/profile/sessions/end-all", url.Values{"csrf": {csrf()}})
		if resp.Request.URL.Path != "/profile/sessions/end-all" || !strings.Contains(page, "Every session ends") {
			t.Fatalf("a bare POST: at %s %.300s", resp.Request.URL, page)
		}
		if !signedIn(t, b) || !signedIn(t, phone) {
			t.Fatal("a POST without confirmation logged out everywhere")
		}
		resp, page = b.post("/profile/sessions/end-all", hidden(page))
		if resp.Request.URL.Path != "/signin" || !strings.Contains(page, "signed out on every device") {
			t.Fatalf("after confirming: at %s", resp.Request.URL)
		}
		if signedIn(t, b) || signedIn(t, phone) {
			t.Error("still signed in somewhere")
		}
		rp.grantRevoked(t, tok, secret, "a confirmed log-out everywhere")
		if !signedIn(t, other) {
			t.Error("another person was logged out")
		}
	})
}

// TestPasswordChangeNeedsTheSameNewPasswordTwice: a different repeat is a message next to the
// repeat field and changes nothing; the page loads its show/hide script as a file and without
// it the fields are plain password fields.
func TestPasswordChangeNeedsTheSameNewPasswordTwice(t *testing.T) {
	srv := startServer(t, "")
	setupSelfUser(t, "wt-repeat", "first-password-46")
	b := newBrowser(t, srv)
	signInDirectly(t, b, "wt-repeat", "first-password-46")

	_, page := b.get(srv.URL + "/profile/password")
	if got := strings.Count(page, `type="password"`); got != 3 || !strings.Contains(page, `name="repeat_password"`) {
		t.Errorf("%d password fields, want current, new and repeat", got)
	}
	if !strings.Contains(page, `<script src="/static/reveal.js" defer></script>`) || regexp.MustCompile(`<script>|<script [^s]| on[a-z]+="`).MatchString(page) {
		t.Error("the show/hide script must come as a file, with no inline script or handler")
	}
	if strings.Contains(page, `class="reveal`) {
		t.Error("the page itself has show/hide buttons: without JavaScript they would do nothing")
	}
	if resp, js := b.get(srv.URL + "/static/reveal.js"); resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/javascript") || !strings.Contains(js, "data-reveal") {
		t.Errorf("/static/reveal.js: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}

	resp, page := formPost(t, b, "/profile/password", "/profile/password", "current_password", "first-password-46",
		"new_password", "second-password-47", "repeat_password", "second-pasword-47")
	if resp.StatusCode != http.StatusBadRequest || !regexp.MustCompile(`id="e-repeat" role="alert">The repeated password is not the same as the new one.`).MatchString(page) {
		t.Fatalf("a different repeat: %d %.600s", resp.StatusCode, page)
	}
	if !signedIn(t, b) {
		t.Fatal("a refused change signed the person out")
	}
	signInDirectly(t, newBrowser(t, srv), "wt-repeat", "first-password-46") // unchanged
	resp, _ = formPost(t, b, "/profile/password", "/profile/password", "current_password", "first-password-46",
		"new_password", "second-password-47")
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("no repeat at all: %d, want 400", resp.StatusCode)
	}
	resp, _ = formPost(t, b, "/profile/password", "/profile/password", "current_password", "first-password-46",
		"new_password", "second-password-47", "repeat_password", "second-password-47")
	if resp.Request.URL.Path != "/signin" {
		t.Fatalf("the same password twice: at %s", resp.Request.URL)
	}
	signInDirectly(t, newBrowser(t, srv), "wt-repeat", "second-password-47")
}

// signedIn reports whether the browser still has a cabinet session.
func signedIn(t *testing.T, b *browser) bool {
	t.Helper()
	resp, _ := b.get(b.base + "/profile")
	return resp.Request.URL.Path == "/profile"
}

var currentTab = regexp.MustCompile(`<a href="([^"]+)" aria-current="page">`)

// TestCabinetTabsMarkTheCurrentPage: every cabinet page marks its tab, the tabs include
// privacy, two factors and deletion, and the avatar's initial comes from the public name.
func TestCabinetTabsMarkTheCurrentPage(t *testing.T) {
	srv := startServer(t, "")
	id := setupSelfUser(t, "wt-tabs", "tabs-and-avatar-48")
	b := newBrowser(t, srv)
	if _, page := b.get(srv.URL + "/signin"); strings.Contains(page, `class="tabs"`) {
		t.Error("the sign-in page shows the cabinet's tabs")
	}
	signInDirectly(t, b, "wt-tabs", "tabs-and-avatar-48")
	for path, tab := range map[string]string{
		"/profile": "/profile", "/profile/edit": "/profile/edit", "/profile/apps": "/profile/apps",
		"/profile/sessions": "/profile/sessions", "/profile/password": "/profile/password", "/profile/2fa": "/profile/2fa",
		"/profile/delete": "/profile/delete", "/profile/email": "/profile", "/profile/sessions/end-all": "/profile/sessions",
		"/profile?saved=main": "/profile",
	} {
		_, page := b.get(srv.URL + path)
		if n := strings.Count(page, `<nav class="tabs"`); n != 1 {
			t.Errorf("%s: %d tab bars", path, n)
			continue
		}
		marked := currentTab.FindAllStringSubmatch(page, -1)
		if len(marked) != 1 || marked[0][1] != tab {
			t.Errorf("%s: current tab %v, want %s", path, marked, tab)
		}
		for _, href := range []string{`href="/profile#privacy"`, `href="/profile/2fa"`, `href="/profile/delete"`} {
			if !strings.Contains(page, href) {
				t.Errorf("%s: no tab %s", path, href)
			}
		}
	}

	avatar := regexp.MustCompile(`class="avatar-empty"[^>]*>([^<]*)<`)
	if _, page := b.get(srv.URL + "/profile"); avatar.FindStringSubmatch(page)[1] != "W" {
		t.Errorf("without a public name the initial is the login's: %q", avatar.FindStringSubmatch(page)[1])
	}
	api(t, b, http.MethodPatch, "/me", "", map[string]any{"nickname": "zebra"})
	for _, p := range []string{"/profile", "/profile/edit"} {
		if _, page := b.get(srv.URL + p); avatar.FindStringSubmatch(page)[1] != "Z" {
			t.Errorf("%s: initial %q, want Z from the public name", p, avatar.FindStringSubmatch(page)[1])
		}
	}

	// Once the deletion is scheduled the person is signed out: no tabs on that page.
	resp, page := formPost(t, b, "/profile/delete", "/profile/delete", "password", "tabs-and-avatar-48")
	// The database is shared: restore at once, so no account and no final email wait for the purge.
	if err := openDB(t).RestoreAccount(context.Background(), id); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || strings.Contains(page, `class="tabs"`) {
		t.Errorf("the page after scheduling the deletion: %d, tabs shown %v", resp.StatusCode, strings.Contains(page, `class="tabs"`))
	}
}

// TestPublicPageShowsTheNameOnce: a person who shows only a public name sees it once on
// their public page, not as a heading and again as @name.
func TestPublicPageShowsTheNameOnce(t *testing.T) {
	srv := startServer(t, "")
	id := setupSelfUser(t, "wt-person", "one-name-once-49")
	b := newBrowser(t, srv)
	signInDirectly(t, b, "wt-person", "one-name-once-49")
	api(t, b, http.MethodPatch, "/me", "", map[string]any{"nickname": "Enchantress"})
	mainOf := func(page string) string { return page[strings.Index(page, "<main>"):strings.Index(page, "</main>")] }

	_, page := newBrowser(t, srv).get(srv.URL + "/people/" + id)
	if n := strings.Count(mainOf(page), "Enchantress"); n != 1 {
		t.Errorf("the public name appears %d times: %s", n, mainOf(page))
	}
	api(t, b, http.MethodPatch, "/me/publicity", "", map[string]any{"fields": map[string]string{"given_name": "public", "family_name": "public"}})
	_, page = newBrowser(t, srv).get(srv.URL + "/people/" + id)
	if m := mainOf(page); strings.Count(m, "Ada Lovelace") != 1 || strings.Count(m, "@Enchantress") != 1 {
		t.Errorf("names and public name: %s", m)
	}
}

// TestUsedEmailLinkSaysSoInWords: an expired, used or mangled email-confirmation link leads
// to a page that says so and what to do, in the reader's language, never "Not Found".
func TestUsedEmailLinkSaysSoInWords(t *testing.T) {
	mb := newMailbox(t)
	srv := startServer(t, "", mb.env()...)
	setupSelfUser(t, "wt-link", "email-link-once-50")
	b := newBrowser(t, srv)
	signInDirectly(t, b, "wt-link", "email-link-once-50")
	formPost(t, b, "/profile/email", "/profile/email", "value", "wt-link.new@example.org")
	link := linkInMail.FindStringSubmatch(mb.wait(t, "wt-link.new@example.org").Text)
	if link == nil {
		t.Fatal("no link in the mail")
	}
	mail := newBrowser(t, srv)
	_, page := mail.get(link[1])
	form := hidden(page)
	if _, page := mail.post("/confirm/email", form); !strings.Contains(page, "Email address confirmed") {
		t.Fatalf("the link's first use: %.300s", page)
	}
	check := func(what string, resp *http.Response, page string) {
		t.Helper()
		if resp.StatusCode != http.StatusGone || !strings.Contains(page, "This link no longer works") ||
			!strings.Contains(page, "expired or was already used") || strings.Contains(page, "Not Found") || !strings.Contains(page, `href="/profile/email"`) {
			t.Errorf("%s: %d %.500s", what, resp.StatusCode, page)
		}
	}
	resp, page := mail.post("/confirm/email", form)
	check("the link used again", resp, page)
	resp, page = mail.get(srv.URL + "/confirm/email?token=cut-short")
	check("a cut-short link", resp, page)
	resp, page = mail.post("/confirm/email", url.Values{"csrf": {form.Get("csrf")}, "token": {strings.Repeat("A", 43)}})
	check("an unknown token", resp, page)

	ru := newBrowser(t, srv)
	ru.Transport = langTransport{"ru"}
	if resp, page := ru.get(srv.URL + "/confirm/email?token=x"); resp.StatusCode != http.StatusGone || !strings.Contains(page, "Эта ссылка больше не работает") {
		t.Errorf("in Russian: %d %.300s", resp.StatusCode, page)
	}
}

// TestWalkthroughPagesInRussian: the pages this walk-through added, in a state that shows
// all their sentences, have no English left.
func TestWalkthroughPagesInRussian(t *testing.T) {
	cat, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	srv := startServer(t, "")
	secret := setupClient(t, "wt-ru")
	id := setupSelfUser(t, "wt-ru-user", "russian-words-51")
	if _, err := openDB(t).Pool().Exec(context.Background(),
		`UPDATE accounts SET phone = '+3725559876', phone_verified = true WHERE id = $1`, id); err != nil {
		t.Fatal(err)
	}
	joinOrg(t, setupOrg(t, "wt-ru-org", "Орг"), id, false, "Инженер")
	b := newBrowser(t, srv)
	b.Transport = langTransport{"ru"}
	signInDeclining(t, b, newRP(t, srv, "wt-ru", secret, "profile", "email", "phone"), "r1", "wt-ru-user", "russian-words-51", "phone")
	api(t, b, http.MethodPut, "/me/photo", "", pngImage(t, 20, 20))
	if _, err := openDB(t).Pool().Exec(context.Background(), `UPDATE accounts SET birthdate = '1990-01-02' WHERE id = $1`, id); err != nil {
		t.Fatal(err)
	}
	api(t, b, http.MethodPatch, "/me/publicity", "", map[string]any{"fields": map[string]string{"birthdate": "on_request"}})
	allowed := []string{"wt-ru-user", "wt-ru-user@example.com", "Ada", "Lovelace", "wt-ru", "App wt-ru", "Passport", "+3725559876"}
	check := func(where, page string) {
		t.Helper()
		if left := englishLeft(cat, "ru", visibleText(page), allowed...); len(left) > 0 {
			t.Errorf("%s in ru still shows English: %q", where, left)
		}
	}
	for p, want := range map[string]string{
		"/profile/apps":                        `action="/profile/apps/decisions"`,
		"/profile/apps/revoke?client_id=wt-ru": `id="confirm"`, "/profile/photo/delete": `id="confirm"`,
		"/profile/sessions/end-all": `id="confirm"`, "/profile/sessions/end?id=" + currentSession(t, b): `id="confirm"`,
		"/profile/edit": `id="f-organization"`, "/confirm/email?token=x": `href="/profile/email"`,
	} {
		resp, page := b.get(srv.URL + p)
		if resp.StatusCode/100 == 5 || resp.StatusCode == http.StatusNotFound || !strings.Contains(page, want) {
			t.Errorf("%s: %d, without %s", p, resp.StatusCode, want)
		}
		check(p, page)
	}
	_, page := formPost(t, b, "/profile/password", "/profile/password", "current_password", "x", "new_password", "a", "repeat_password", "b")
	check("a different repeat", page)
	api(t, b, http.MethodPatch, "/me/publicity", "", map[string]any{"private_profile": true})
	check("/profile, private", readPage(t, b, srv.URL+"/profile"))
	check("/profile/apps, private", readPage(t, b, srv.URL+"/profile/apps"))
}

// TestBrowserPasswordShowHide: in Chromium the show/hide buttons appear (from the static
// script, under the pages' CSP) and switch each field between hidden and shown; the new
// pages fit a 360 px screen.
func TestBrowserPasswordShowHide(t *testing.T) {
	srv := startServer(t, "")
	setupSelfUser(t, "wt-reveal", "show-me-typed-52")
	ctx := newChrome(t, 360, 800)
	var buttons int
	var typeAfter, typeBack, label, value string
	err := chromedp.Run(ctx,
		chromedp.Navigate(srv.URL+"/signin"),
		chromedp.WaitVisible(`#login`),
		chromedp.SendKeys(`#login`, "wt-reveal"),
		chromedp.SendKeys(`#password`, "show-me-typed-52"),
		chromedp.Submit(`#password`),
		chromedp.WaitVisible(`#main-info`),
		chromedp.Navigate(srv.URL+"/profile/password"),
		chromedp.WaitVisible(`#f-new + button.reveal`),
		chromedp.Evaluate(`document.querySelectorAll('button.reveal').length`, &buttons),
		chromedp.SendKeys(`#f-new`, "typed-secret-1"),
		chromedp.Click(`#f-new + button.reveal`),
		chromedp.Evaluate(`document.querySelector('#f-new').type`, &typeAfter),
		chromedp.Text(`#f-new + button.reveal`, &label),
		chromedp.Value(`#f-new`, &value),
		shot(t, ctx, "30-password-shown"),
		chromedp.Click(`#f-new + button.reveal`),
		chromedp.Evaluate(`document.querySelector('#f-new').type`, &typeBack),
	)
	if err != nil {
		t.Fatal(err)
	}
	if buttons != 3 || typeAfter != "text" || label != "Hide" || value != "typed-secret-1" || typeBack != "password" {
		t.Errorf("show/hide: %d buttons, shown as %q (button %q, value %q), back to %q", buttons, typeAfter, label, value, typeBack)
	}
	// A different repeat comes back with the message next to the repeat field.
	var msg string
	err = chromedp.Run(ctx,
		chromedp.SendKeys(`#f-current`, "show-me-typed-52"),
		chromedp.SendKeys(`#f-repeat`, "typed-secret-2"),
		chromedp.Click(`button.primary`),
		chromedp.WaitVisible(`#e-repeat`),
		chromedp.Text(`#e-repeat`, &msg),
	)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(msg, "not the same") {
		t.Errorf("the repeat's message: %q", msg)
	}
	for _, p := range []string{"/profile/password", "/profile/sessions/end-all", "/profile/apps"} {
		sticking := stickingOut(t, ctx, srv.URL+p)
		if len(sticking) > 0 {
			t.Errorf("360 px, %s: sticks out: %v", p, sticking)
		}
	}
}
