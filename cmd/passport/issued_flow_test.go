package main

import (
	"context"
	"html"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"golang.org/x/oauth2"

	"github.com/passport-idp/passport/internal/passport"
)

// TestBrowserIssuedAccountFirstSignIn is the issued account's whole life across the doors
// (SPEC §6), as the issue describes it: an organisation's administrator creates a member in
// the console and issues a generated password; the "login details issued" email arrives
// through the queue and the SMTP server; the person signs in in Chromium with the login in
// other letters' case, is made to choose their own password before anything else (the
// cabinet stays shut), and lands in the cabinet; an application then signs them in with the
// new password, and the issued one no longer works anywhere. A second member's issued
// password, left unused past its lifetime (the clock moved), is refused.
func TestBrowserIssuedAccountFirstSignIn(t *testing.T) {
	mb := newMailbox(t)
	srv := startServer(t, "", mb.env()...)
	org := setupOrg(t, "flow-iss", "Flow Buses", "driver")
	admin, _, _ := consoleAdmin(t, srv, "flow-iss-admin", passport.RoleOrgAdmin, org)
	newPage := "/admin/orgs/flow-iss/members/new"
	create := func(login, email string) string {
		t.Helper()
		resp, page := consolePost(t, admin, newPage, newPage, url.Values{"login": {login}, "email": {email},
			"given_name": {"Mari"}, "family_name": {"Tamm"}, "roles": {"driver"}, "issue": {"yes"}, "mode": {"generate"},
			"template": {"standard"}, "channel": {"email"}, "message_locale": {"en"}})
		m := issuedPassword.FindStringSubmatch(page)
		if resp.StatusCode != 200 || m == nil {
			t.Fatalf("create %s: %d %.400s", login, resp.StatusCode, page)
		}
		return html.UnescapeString(m[1])
	}
	issued := create("Mari.Tamm", "mari.tamm@example.org")
	mail := mb.wait(t, "mari.tamm@example.org")
	if !strings.Contains(mail.Text, issued) || !strings.Contains(mail.Text, "Mari.Tamm") {
		t.Fatalf("the login details email lacks the login or password: %q", mail.Text)
	}
	// The worker marks the message sent (and erases its content) right after the SMTP
	// server took it.
	waitFor(t, func() bool {
		var readable int
		if err := openDB(t).Pool().QueryRow(context.Background(), `SELECT count(*) FROM messages
			WHERE kind LIKE 'login_details%' AND recipient = 'mari.tamm@example.org' AND payload IS NOT NULL`).Scan(&readable); err != nil {
			t.Fatal(err)
		}
		return readable == 0
	})

	// The person, in Chromium: the login typed in capitals, the issued password, then the
	// forced choice of their own. The cabinet is closed until it is done.
	const own = "my-own-bus-pass-42"
	ctx := newChrome(t, 1024, 900)
	var path, afterGate string
	err := chromedp.Run(ctx,
		chromedp.Navigate(srv.URL+"/signin"),
		chromedp.WaitVisible(`#login`),
		chromedp.SendKeys(`#login`, "MARI.TAMM"),
		chromedp.SendKeys(`#password`, issued),
		chromedp.Submit(`#password`),
		chromedp.WaitVisible(`#f-new`),
		chromedp.Evaluate(`location.pathname`, &path),
		shot(t, ctx, "issued-00-choose-password"),
		chromedp.Navigate(srv.URL+"/profile"),
		chromedp.WaitVisible(`#f-new`),
		chromedp.Evaluate(`location.pathname`, &afterGate),
		chromedp.SendKeys(`#f-new`, own),
		chromedp.SendKeys(`#f-repeat`, own),
		chromedp.Submit(`#f-repeat`),
		chromedp.WaitVisible(`#main-info`),
		shot(t, ctx, "issued-01-cabinet"),
	)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(path, "/signin/actions") || !strings.HasPrefix(afterGate, "/signin/actions") {
		t.Errorf("the forced change: at %q, the cabinet led to %q", path, afterGate)
	}

	// An application signs the person in with their own password, straight to the code.
	secret := setupClient(t, "flow-iss-app")
	rp := newRP(t, srv, "flow-iss-app", secret)
	code := rp.signIn(newBrowser(t, srv), "st-1", "verifier-flow-iss-0123456789012345678901234", "mari.tamm", own)
	if _, err := rp.exchange(code, "verifier-flow-iss-0123456789012345678901234"); err != nil {
		t.Fatalf("the code after the change: %v", err)
	}
	// The issued password is void everywhere: the sign-in page and an application's flow.
	if status, _ := trySignIn(t, srv, "mari.tamm", issued); status != 401 {
		t.Errorf("the issued password after the change: %d, want 401", status)
	}
	b := newBrowser(t, srv)
	_, page := b.get(rp.authURL("st-2", "verifier-flow-iss-0123456789012345678901234", oauth2.AccessTypeOnline))
	form := hidden(page)
	form.Set("login", "mari.tamm")
	form.Set("password", issued)
	if resp, page := b.post("/signin", form); resp.StatusCode != 401 || !strings.Contains(page, "Wrong login or password.") {
		t.Errorf("the issued password in an application's flow: %d %.200s", resp.StatusCode, page)
	}

	// Another member's issued password works for seven days ([issued] password_lifetime);
	// unused past that (the server's clock cannot move, so the stored end moves back by as
	// much), it is refused.
	late := create("Jaan.Late", "jaan.late@example.org")
	mb.wait(t, "jaan.late@example.org")
	var left time.Duration
	if err := openDB(t).Pool().QueryRow(context.Background(),
		`SELECT extract(epoch FROM password_expires_at - now())::bigint * 1000000000 FROM accounts WHERE login = 'Jaan.Late'`).Scan(&left); err != nil {
		t.Fatal(err)
	}
	if left < 7*24*time.Hour-time.Hour || left > 7*24*time.Hour {
		t.Errorf("the issued password works for %s, want seven days", left)
	}
	if _, err := openDB(t).Pool().Exec(context.Background(),
		`UPDATE accounts SET password_expires_at = password_expires_at - interval '7 days 1 minute' WHERE login = 'Jaan.Late'`); err != nil {
		t.Fatal(err)
	}
	status, _ := trySignIn(t, srv, "JAAN.LATE", late)
	if status != 403 {
		t.Errorf("an expired issued password: %d, want 403", status)
	}
}
