package main

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/passport-idp/passport/internal/passport"
)

// TestSigninReturnsToTheConsolePage: a console page opened without a session sends the
// browser to sign in and, after the password and the code, back to that page; a return
// address that is not a console page (another site, a scheme-relative URL) is ignored.
func TestSigninReturnsToTheConsolePage(t *testing.T) {
	srv := startServer(t, "")
	org := setupOrg(t, "ret-org", "Return Org")
	_, key, _ := consoleAdmin(t, srv, "ret-admin", passport.RoleOrgAdmin, org)

	b := newBrowser(t, srv)
	resp, page := b.get(srv.URL + "/admin/orgs/ret-org") // followed to the sign-in page
	if resp.Request.URL.Path != "/signin" || !strings.Contains(page, `name="return" value="/admin/orgs/ret-org"`) {
		t.Fatalf("the console without a session: at %s, %.300s", resp.Request.URL, page)
	}
	form := hidden(page)
	form.Set("login", "ret-admin")
	form.Set("password", "console-admin-pw-9")
	resp, page = b.post("/signin", form)
	if !strings.Contains(page, `name="return" value="/admin/orgs/ret-org"`) {
		t.Fatalf("the code step lost the return: %d %.300s", resp.StatusCode, page)
	}
	code, err := totp.GenerateCode(key, time.Now().Add(30*time.Second)) // enrolment used this step's
	if err != nil {
		t.Fatal(err)
	}
	form = hidden(page)
	form.Set("code", code)
	if resp, _ = b.post("/signin/2fa", form); resp.Request.URL.Path != "/admin/orgs/ret-org" {
		t.Errorf("after the code: at %s, want /admin/orgs/ret-org", resp.Request.URL)
	}

	for _, bad := range []string{"https://evil.example/admin", "//evil.example/admin", "/profile", "/\\evil.example"} {
		anon := newBrowser(t, srv)
		_, page := anon.get(srv.URL + "/signin?" + url.Values{"return": {bad}}.Encode())
		if strings.Contains(page, `name="return"`) {
			t.Errorf("return %q is carried by the sign-in form", bad)
		}
	}
	setupUser(t, "ret-person", "person-password-4")
	signedIn := newBrowser(t, srv)
	signInDirectly(t, signedIn, "ret-person", "person-password-4")
	signedIn.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, _ = signedIn.get(srv.URL + "/signin?" + url.Values{"return": {"//evil.example/admin"}}.Encode())
	if loc := resp.Header.Get("Location"); loc != "/" {
		t.Errorf("a signed-in browser with a foreign return goes to %q, want /", loc)
	}
}
