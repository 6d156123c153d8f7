package main

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/passport-idp/passport/internal/passport"
)

// Accounts issued by organisations, end to end (SPEC §6): an administrator creates a member
// in the console and issues a generated password, the login details arrive by email, the
// person signs in with the login in another letter case; re-issuing kills the first
// password, an expired one is refused; the admin API does the same, and another
// organisation's id is a 404.

var (
	issuedPassword = regexp.MustCompile(`id="issued-password">([^<]+)<`)
	issueRow       = regexp.MustCompile(`<tr data-issue="[^"]+" data-status="([^"]+)"`)
)

// trySignIn posts the sign-in form without following the answer and returns its status
// and where it sends the browser: accepted is a redirect away from /signin.
func trySignIn(t *testing.T, srv *server, login, password string) (int, string) {
	t.Helper()
	b := newBrowser(t, srv)
	form := hidden(readPage(t, b, srv.URL+"/signin"))
	form.Set("login", login)
	form.Set("password", password)
	req, err := http.NewRequest(http.MethodPost, srv.URL+"/signin", strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := consoleNoFollow(b).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	readBody(t, resp)
	return resp.StatusCode, resp.Header.Get("Location")
}

func signInAccepted(status int, location string) bool {
	return (status == http.StatusFound || status == http.StatusSeeOther) && !strings.HasPrefix(location, "/signin")
}

func TestIssuedAccountEndToEnd(t *testing.T) {
	mb := newMailbox(t)
	srv := startServer(t, "", mb.env()...)
	org := setupOrg(t, "iss-e2e", "Issue Taxi", "driver", "operator")
	setupOrg(t, "iss-e2e-other", "Somebody Else")
	b, _, _ := consoleAdmin(t, srv, "iss-e2e-admin", passport.RoleOrgAdmin, org)
	newPage := "/admin/orgs/iss-e2e/members/new"

	t.Run("the form", func(t *testing.T) {
		resp, page := b.get(srv.URL + newPage)
		if resp.StatusCode != http.StatusOK || !strings.Contains(page, `name="issue"`) || !strings.Contains(page, `value="driver"`) ||
			!strings.Contains(page, `name="csrf"`) {
			t.Fatalf("create form: %d %.300s", resp.StatusCode, page)
		}
		if resp, _ := b.get(srv.URL + "/admin/orgs/iss-e2e-other/members/new"); resp.StatusCode != http.StatusNotFound {
			t.Errorf("another organisation's form: %d, want 404", resp.StatusCode)
		}
	})

	form := func(login, email string) url.Values {
		return url.Values{"login": {login}, "email": {email}, "given_name": {"Anna"}, "family_name": {"Kask"},
			"birthdate": {"1990-04-23"}, "position": {"Driver"}, "roles": {"driver"}, "issue": {"yes"}, "mode": {"generate"},
			"template": {"standard"}, "channel": {"email"}, "message_locale": {"en"}}
	}

	t.Run("refusals write nothing", func(t *testing.T) {
		before := countRows(t, `SELECT count(*) FROM accounts`)
		bad := form("iss-bad", "not-an-address")
		if resp, page := consolePost(t, b, newPage, newPage, bad); resp.StatusCode != http.StatusUnprocessableEntity ||
			!strings.Contains(page, `id="e-email"`) {
			t.Errorf("bad email: %d %.300s", resp.StatusCode, page)
		}
		if resp, _ := consolePost(t, b, "/admin/orgs/iss-e2e-other/members/new", newPage, form("iss-foreign", "f@example.org")); resp.StatusCode != http.StatusNotFound {
			t.Errorf("another organisation: %d, want 404", resp.StatusCode)
		}
		noCSRF := form("iss-nocsrf", "n@example.org")
		noCSRF.Set("csrf", "forged")
		if resp, _ := consolePost(t, b, newPage, newPage, noCSRF); resp.StatusCode < 400 {
			t.Errorf("a forged CSRF token: %d", resp.StatusCode)
		}
		if n := countRows(t, `SELECT count(*) FROM accounts`); n != before {
			t.Errorf("%d accounts written by refused requests", n-before)
		}
	})

	var memberID, first string
	t.Run("create and issue: the password is shown once and mailed", func(t *testing.T) {
		resp, page := consolePost(t, b, newPage, newPage, form("Anna.Issued", "anna.issued@example.org"))
		m := issuedPassword.FindStringSubmatch(page)
		if resp.StatusCode != http.StatusOK || m == nil {
			t.Fatalf("create: %d %.500s", resp.StatusCode, page)
		}
		first = html.UnescapeString(m[1])
		if cc := resp.Header.Get("Cache-Control"); !strings.Contains(cc, "no-store") {
			t.Errorf("the password page may be stored: Cache-Control %q", cc)
		}
		if err := openDB(t).Pool().QueryRow(context.Background(), `SELECT id FROM accounts WHERE login = 'Anna.Issued'`).Scan(&memberID); err != nil {
			t.Fatal(err)
		}
		mail := mb.wait(t, "anna.issued@example.org")
		if !strings.Contains(mail.Text, first) || !strings.Contains(mail.Text, "Anna.Issued") || !strings.Contains(mail.Text, srv.URL+"/signin") {
			t.Errorf("login details mail: %q / %q", mail.Subject, mail.Text)
		}
		if n := countRows(t, `SELECT count(*) FROM security_events WHERE account_id = $1 AND details::text LIKE '%' || $2 || '%'`, memberID, first); n != 0 {
			t.Error("an event holds the password")
		}
		_, page = b.get(srv.URL + memberURLFor("iss-e2e", memberID))
		if strings.Contains(page, first) {
			t.Error("the member page shows the password again")
		}
		if rows := issueRow.FindAllStringSubmatch(page, -1); len(rows) != 1 {
			t.Errorf("delivery status rows: %v", rows)
		}
	})

	t.Run("sign in with the login in another letter case", func(t *testing.T) {
		if status, loc := trySignIn(t, srv, "ANNA.ISSUED", first); !signInAccepted(status, loc) {
			t.Fatalf("sign-in with the issued password: %d to %q", status, loc)
		}
	})

	var second string
	t.Run("re-issue: the first password is refused", func(t *testing.T) {
		p := memberURLFor("iss-e2e", memberID) + "/credentials"
		if resp, page := b.get(srv.URL + p); resp.StatusCode != http.StatusOK || !strings.Contains(page, `name="mode"`) {
			t.Fatalf("credentials form: %d", resp.StatusCode)
		}
		resp, page := consolePost(t, b, p, p, url.Values{"mode": {"generate"}, "template": {"standard"}, "channel": {"email"}})
		m := issuedPassword.FindStringSubmatch(page)
		if resp.StatusCode != http.StatusOK || m == nil {
			t.Fatalf("re-issue: %d %.300s", resp.StatusCode, page)
		}
		second = html.UnescapeString(m[1])
		mb.wait(t, "anna.issued@example.org")
		if status, loc := trySignIn(t, srv, "anna.issued", first); signInAccepted(status, loc) || status != http.StatusUnauthorized {
			t.Errorf("the first password after re-issuing: %d to %q, want 401", status, loc)
		}
		if status, loc := trySignIn(t, srv, "anna.issued", second); !signInAccepted(status, loc) {
			t.Errorf("the second password: %d to %q", status, loc)
		}
		_, page = b.get(srv.URL + memberURLFor("iss-e2e", memberID))
		if rows := issueRow.FindAllStringSubmatch(page, -1); len(rows) != 2 || !strings.Contains(page, `data-voided="yes"`) {
			t.Errorf("delivery status after re-issuing: %v", rows)
		}
		// Typed twice, differently: a field error, nothing issued.
		before := countRows(t, `SELECT count(*) FROM credential_issues WHERE account_id = $1`, memberID)
		resp, _ = consolePost(t, b, p, p, url.Values{"mode": {"typed"}, "password": {"Typed-pass-2026"}, "repeat": {"Typed-pass-2027"},
			"channel": {"none"}})
		if resp.StatusCode != http.StatusUnprocessableEntity || countRows(t, `SELECT count(*) FROM credential_issues WHERE account_id = $1`, memberID) != before {
			t.Errorf("typed twice differently: %d", resp.StatusCode)
		}
	})

	t.Run("an expired issued password is refused", func(t *testing.T) {
		if _, err := openDB(t).Pool().Exec(context.Background(),
			`UPDATE accounts SET password_expires_at = now() - interval '1 minute' WHERE id = $1`, memberID); err != nil {
			t.Fatal(err)
		}
		if status, loc := trySignIn(t, srv, "anna.issued", second); signInAccepted(status, loc) {
			t.Errorf("an expired issued password signs in: %d to %q", status, loc)
		}
	})

	t.Run("reset two factors and ask for a contact confirmation", func(t *testing.T) {
		p := memberURLFor("iss-e2e", memberID)
		resp, body := consolePost(t, b, p+"/two-factor/reset", p, url.Values{})
		consoleWantRedirect(t, "reset two factors", resp, body, p)
		resp, body = consolePost(t, b, p+"/contact-confirmation", p, url.Values{"kinds": {"email"}})
		consoleWantRedirect(t, "contact confirmation", resp, body, p)
		mb.wait(t, "anna.issued@example.org")
		if n := countRows(t, `SELECT count(*) FROM contact_changes WHERE account_id = $1 AND kind = 'email' AND cancelled_at IS NULL`, memberID); n != 1 {
			t.Errorf("%d pending email confirmations", n)
		}
		if resp, _ := consolePost(t, b, "/admin/orgs/iss-e2e-other/members/"+memberID+"/two-factor/reset", p, url.Values{}); resp.StatusCode != http.StatusNotFound {
			t.Errorf("through another organisation: %d", resp.StatusCode)
		}
	})

	t.Run("admin API", func(t *testing.T) {
		api := &apiCaller{name: "org admin", b: b}
		out := api.mustCall(t, srv, http.StatusCreated, http.MethodPost, "/admin/orgs/iss-e2e/members", map[string]any{
			"login": "Api.Issued", "email": "api.issued@example.org", "given_name": "Api", "family_name": "Issued", "roles": []string{"operator"},
			"credentials": map[string]any{"generate": true, "channel": "none"}})
		cred, _ := out["credentials"].(map[string]any)
		id, _ := out["account_id"].(string)
		password, _ := cred["password"].(string)
		if id == "" || len(password) != passport.IssuedPasswordLength || out["managed"] != true {
			t.Fatalf("create: %v", out)
		}
		if status, loc := trySignIn(t, srv, "api.ISSUED", password); !signInAccepted(status, loc) {
			t.Errorf("sign-in with the API's password: %d %q", status, loc)
		}
		out = api.mustCall(t, srv, http.StatusCreated, http.MethodPost, "/admin/orgs/iss-e2e/members/"+id+"/credentials",
			map[string]any{"password": "Typed-by-api-77", "channel": "none"})
		if out["password"] != nil || out["expires_at"] == nil {
			t.Errorf("typed credentials: %v", out)
		}
		out = api.mustCall(t, srv, http.StatusOK, http.MethodGet, "/admin/orgs/iss-e2e/members/"+id+"/credentials", nil)
		issues, _ := out["issues"].([]any)
		if len(issues) != 2 || issues[0].(map[string]any)["status"] != "handed_over" || issues[1].(map[string]any)["voided_at"] == nil {
			t.Errorf("delivery status: %v", out)
		}
		status, out := api.call(t, srv, http.MethodPost, "/admin/orgs/iss-e2e/members", map[string]any{"login": "Api.Issued",
			"email": "x@example.org"})
		if status != http.StatusUnprocessableEntity || fieldOf(out)["login"] == nil {
			t.Errorf("duplicate login: %d %v", status, out)
		}
		for _, p := range []string{"/admin/orgs/iss-e2e-other/members/" + id + "/credentials", "/admin/orgs/iss-e2e-other/members/" + id + "/two-factor/reset"} {
			if status, _ := api.call(t, srv, http.MethodPost, p, map[string]any{"generate": true}); status != http.StatusNotFound {
				t.Errorf("%s: %d, want 404", p, status)
			}
		}
		if status, _ := api.call(t, srv, http.MethodPost, "/admin/orgs/iss-e2e-other/members", map[string]any{"login": "x1",
			"email": "x1@example.org"}); status != http.StatusNotFound {
			t.Errorf("create in another organisation: %d", status)
		}
		// The existing-account path of the same route still works.
		setupUser(t, "iss-joiner", "joiner-pass-2026")
		out = api.mustCall(t, srv, http.StatusCreated, http.MethodPost, "/admin/orgs/iss-e2e/members", map[string]any{"login": "iss-joiner"})
		if out["managed"] != false {
			t.Errorf("adding an existing account: %v", out)
		}
		api.mustCall(t, srv, http.StatusNoContent, http.MethodPost, "/admin/orgs/iss-e2e/members/"+id+"/two-factor/reset", nil)
		status, out = api.call(t, srv, http.MethodPost, "/admin/orgs/iss-e2e/members/"+id+"/contact-confirmation", map[string]any{"phone": true})
		if status != http.StatusUnprocessableEntity || fieldOf(out)["phone"] == nil {
			t.Errorf("confirming a phone the member lacks: %d %v", status, out)
		}
		if status, _ := api.call(t, srv, http.MethodGet, "/admin/templates", nil); status != http.StatusOK {
			t.Errorf("templates: %d", status)
		}
		if status, _ := api.call(t, srv, http.MethodPut, "/admin/templates/welcome", map[string]any{"names": map[string]string{"en": "W"},
			"bodies": map[string]any{"en": map[string]string{"text": "{password}"}}}); status != http.StatusForbidden {
			t.Errorf("an organisation's admin saves a template: %d, want 403", status)
		}
	})
}

// TestCredentialTemplatesConsole: a service administrator keeps the templates in the console;
// an organisation's administrator does not see the page.
func TestCredentialTemplatesConsole(t *testing.T) {
	srv := startServer(t, "")
	org := setupOrg(t, "iss-tpl", "Template Taxi")
	sa, _, _ := consoleAdmin(t, srv, "iss-tpl-service", passport.RoleServiceAdmin, "")
	oa, _, _ := consoleAdmin(t, srv, "iss-tpl-org", passport.RoleOrgAdmin, org)
	if resp, _ := oa.get(srv.URL + "/admin/templates"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("an organisation's admin: %d, want 404", resp.StatusCode)
	}
	resp, page := consolePost(t, sa, "/admin/templates", "/admin/templates", url.Values{"key": {"welcome"}, "name_en": {"Welcome"},
		"text_en": {"no placeholder"}})
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(page, "{password}") {
		t.Errorf("a text without {password}: %d", resp.StatusCode)
	}
	resp, page = consolePost(t, sa, "/admin/templates", "/admin/templates", url.Values{"key": {"welcome"}, "name_en": {"Welcome"},
		"subject_en": {"Hi {name}"}, "text_en": {"Login {login} password {password} until {expires}"}})
	consoleWantRedirect(t, "save", resp, page, "/admin/templates/welcome")
	if _, page := sa.get(srv.URL + "/admin/templates/welcome"); !strings.Contains(page, "until {expires}") {
		t.Errorf("edit form: %.300s", page)
	}
	if _, page := oa.get(srv.URL + "/admin/orgs/iss-tpl/members/new"); !strings.Contains(page, `value="welcome"`) {
		t.Error("the stored template is not offered when creating a member")
	}
	resp, page = consolePost(t, sa, "/admin/templates/welcome/delete", "/admin/templates/welcome", url.Values{})
	consoleWantRedirect(t, "delete", resp, page, "/admin/templates")
}

func memberURLFor(org, id string) string { return "/admin/orgs/" + org + "/members/" + id }
