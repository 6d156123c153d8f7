package main

import (
	"bytes"
	"context"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/passport-idp/passport/internal/i18n"
	"github.com/passport-idp/passport/internal/passport"
)

var fieldErrorsOn = regexp.MustCompile(`(id="e-[a-z_]+"|role="alert")[^<]*<`)

// TestIssuedAccountPagesHaveNoEnglishLeft: the pages of issue 13 — creating a member,
// issuing login details (the form and the answer showing the password), the member page
// with its login-details, required-actions and profile-fields sections, the CSV import
// page with a dry run's report, the message templates, and the person's first-sign-in
// step — in Russian, Estonian, Dutch and Swedish, in a state that shows their sentences,
// have no English left (SPEC §11).
func TestIssuedAccountPagesHaveNoEnglishLeft(t *testing.T) {
	cat, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	srv := startServer(t, "", "PASSPORT_ADMIN_REQUIRE_TWO_FACTOR", "false")
	setupOrg(t, "tolk-iss", "Tolk Org", "driver")
	for _, lang := range []string{"ru", "et", "nl", "sv"} {
		t.Run(lang, func(t *testing.T) {
			admin := "tolk-iss-admin-" + lang
			adminID := setupSelfUser(t, admin, "translated-admin-7")
			grantAdmin(t, adminID, passport.RoleServiceAdmin, "")
			b := newBrowser(t, srv)
			b.Transport = langTransport{lang}
			signInDirectly(t, b, admin, "translated-admin-7")
			member := "tolk-issued-" + lang
			allowed := []string{admin, member, member + "@example.org", "Tolk Org", "tolk-iss", "driver", "Passport", "Mari", "Tamm",
				"CSV", "UTF-8", "standard", "welcome", "{login}", "{password}", "{name}", "{expires}", "{signin_url}", "{organisation}",
				"login", "email", "phone", "given_name", "family_name", "birthdate", "position", "roles", "issue_credentials",
				"template", "channel", "locale", "yes", "no", "none", "sms", "TOTP", "SMS", "E.164", "+372", "Welcome"}
			check := func(where, page string) {
				t.Helper()
				if got := pageLang(t, page); got != lang {
					t.Errorf("%s: <html lang=%q>", where, got)
				}
				if left := englishLeft(cat, lang, visibleText(page), allowed...); len(left) > 0 {
					t.Errorf("%s in %s still shows English: %q", where, lang, left)
				}
			}
			newPage := "/admin/orgs/tolk-iss/members/new"
			check("the create-member form", readPage(t, b, srv.URL+newPage))
			resp, page := consolePost(t, b, newPage, newPage, url.Values{"login": {member}, "email": {member + "@example.org"},
				"given_name": {"Mari"}, "family_name": {"Tamm"}, "roles": {"driver"}, "issue": {"yes"}, "mode": {"generate"},
				"template": {"standard"}, "channel": {"none"}})
			if resp.StatusCode != http.StatusOK || issuedPassword.FindStringSubmatch(page) == nil {
				t.Fatalf("create: %d %q", resp.StatusCode, fieldErrorsOn.FindAllString(page, -1))
			}
			check("the password shown once", page)
			var id string
			if err := openDB(t).Pool().QueryRow(context.Background(), `SELECT id FROM accounts WHERE login = $1`, member).Scan(&id); err != nil {
				t.Fatal(err)
			}
			memberPage := "/admin/orgs/tolk-iss/members/" + id
			check("the member page", readPage(t, b, srv.URL+memberPage))
			check("the login-details form", readPage(t, b, srv.URL+memberPage+"/credentials"))
			_, page = consolePost(t, b, newPage, newPage, url.Values{"login": {"x"}, "email": {"not-an-address"}})
			check("a refused create form", page)
			check("the message templates", readPage(t, b, srv.URL+"/admin/templates"))
			check("the org page", readPage(t, b, srv.URL+"/admin/orgs/tolk-iss"))

			// The import page with a dry run's report.
			imports := readPage(t, b, srv.URL+"/admin/orgs/tolk-iss/imports")
			check("the import page", imports)
			var body bytes.Buffer
			mw := multipart.NewWriter(&body)
			_ = mw.WriteField("csrf", hidden(imports).Get("csrf"))
			_ = mw.WriteField("action", "check")
			fw, _ := mw.CreateFormFile("file", "members.csv")
			_, _ = fw.Write([]byte("login,email,phone,roles,issue_credentials\nbad-" + lang + ",bad@,123,pilot,maybe\n"))
			_ = mw.Close()
			req, _ := http.NewRequest(http.MethodPost, srv.URL+"/admin/orgs/tolk-iss/imports", &body)
			req.Header.Set("Content-Type", mw.FormDataContentType())
			resp, err := b.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			report := readBody(t, resp)
			if !strings.Contains(report, `id="report"`) {
				t.Fatalf("no dry-run report: %d %.300s", resp.StatusCode, report)
			}
			check("a dry run's report", report)

			// The person's first sign-in: the password step.
			if _, err := openDB(t).Pool().Exec(context.Background(), `UPDATE accounts SET password_hash = $2 WHERE id = $1`, id,
				passport.HashIssuedPassword("Temporary-Pass-42")); err != nil {
				t.Fatal(err)
			}
			p := newBrowser(t, srv)
			p.Transport = langTransport{lang}
			form := hidden(readPage(t, p, srv.URL+"/signin"))
			form.Set("login", member)
			form.Set("password", "Temporary-Pass-42")
			resp, page = p.post("/signin", form) // redirected to the first step
			if resp.StatusCode != http.StatusOK || !strings.Contains(page, `action="/signin/actions/password"`) {
				t.Fatalf("first sign-in: %d %.300s", resp.StatusCode, visibleText(page))
			}
			check("the first-sign-in password step", page)
			_, page = formPost(t, p, "/signin/actions/password", "/signin/actions/password", "new_password", "short", "repeat_password", "other")
			check("a refused password step", page)
		})
	}
}
