package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/pquerna/otp/totp"

	"github.com/passport-idp/passport/internal/account"
	"github.com/passport-idp/passport/internal/i18n"
	"github.com/passport-idp/passport/internal/passport"
)

// TestBrowserAdminConsole walks the console in Chromium, in English and then in Russian: an
// organisation's administrator signs in with two factors, opens the members, filters them,
// opens a member, changes their roles and sees the change among the member's events; no
// English is left on the Russian pages.
func TestBrowserAdminConsole(t *testing.T) {
	cat, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	srv := startServer(t, "")
	org := setupOrg(t, "cons-chrome", "Chrome Cabs")
	svc := &account.Service{DB: openDB(t)}
	for key, names := range map[string]map[string]string{
		"driver":   {"en": "Driver", "ru": "Водитель", "et": "Juht", "nl": "Chauffeur", "sv": "Förare"},
		"operator": {"en": "Operator", "ru": "Оператор", "et": "Operaator", "nl": "Operator", "sv": "Operatör"},
	} {
		if err := svc.SaveRole(context.Background(), account.System(), org, passport.Role{Key: key, Names: names}); err != nil {
			t.Fatal(err)
		}
	}
	for _, login := range []string{"cons-c-anna", "cons-c-boris", "cons-c-vera"} {
		consoleMember(t, org, login, true, "driver")
	}
	adminID := setupSelfUser(t, "cons-c-admin", "chrome-console-7")
	grantAdmin(t, adminID, passport.RoleOrgAdmin, org)
	_, key := adminBrowser(t, srv, "cons-c-admin", "chrome-console-7") // turns two factors on
	// The enrolment used this step's code: the sign-in takes the next one.
	code, err := totp.GenerateCode(key, time.Now().Add(30*time.Second))
	if err != nil {
		t.Fatal(err)
	}

	ctx := newChrome(t, 1280, 1000)
	var path, rows string
	err = chromedp.Run(ctx,
		chromedp.Navigate(srv.URL+"/signin"),
		chromedp.WaitVisible(`#login`),
		chromedp.SendKeys(`#login`, "cons-c-admin"),
		chromedp.SendKeys(`#password`, "chrome-console-7"),
		chromedp.Submit(`#password`),
		chromedp.WaitVisible(`#code`),
		chromedp.SendKeys(`#code`, code),
		chromedp.Submit(`#code`),
		chromedp.WaitVisible(`#main-info`),

		// /admin leads to the organisation's members.
		chromedp.Navigate(srv.URL+"/admin"),
		chromedp.WaitVisible(`#members`),
		chromedp.Evaluate(`location.pathname + location.search`, &path),
		chromedp.Evaluate(`[...document.querySelectorAll('#members tbody tr')].map(r => r.dataset.login).join(' ')`, &rows),
		shot(t, ctx, "admin-00-members"),
	)
	if err != nil {
		t.Fatal(err)
	}
	if path != "/admin/members?org=cons-chrome" || rows != "cons-c-anna cons-c-boris cons-c-vera" {
		t.Fatalf("the console's start: %s with %q", path, rows)
	}

	var flash, events string
	var checked []string
	err = chromedp.Run(ctx,
		// Filter by a search.
		chromedp.SetValue(`#f-q`, "boris"),
		chromedp.Click(`#apply-filters`),
		// The filtered page has replaced the list only once the others are gone.
		chromedp.WaitNotPresent(`tr[data-login="cons-c-anna"]`),
		chromedp.WaitVisible(`tr[data-login="cons-c-boris"]`),
		chromedp.Evaluate(`[...document.querySelectorAll('#members tbody tr')].map(r => r.dataset.login).join(' ')`, &rows),
		shot(t, ctx, "admin-01-filtered"),
		// Open the member and make them an operator too.
		chromedp.Click(`tr[data-login="cons-c-boris"] a.member-link`),
		chromedp.WaitVisible(`#membership`),
		shot(t, ctx, "admin-02-member"),
		chromedp.Click(`#membership input[name="roles"][value="operator"]`),
		chromedp.Click(`#save-membership`),
		chromedp.WaitVisible(`.flash`),
		chromedp.Text(`.flash`, &flash),
		chromedp.Evaluate(`[...document.querySelectorAll('#membership input[name="roles"]:checked')].map(i => i.value)`, &checked),
		chromedp.Evaluate(`[...document.querySelectorAll('#events tbody tr')].map(r => r.dataset.type).join(' ')`, &events),
		shot(t, ctx, "admin-03-roles-changed"),
	)
	if err != nil {
		t.Fatal(err)
	}
	if rows != "cons-c-boris" {
		t.Errorf("filtered by boris: %q", rows)
	}
	if flash != "The membership is saved." || strings.Join(checked, " ") != "driver operator" {
		t.Errorf("after changing roles: flash %q, ticked %v", flash, checked)
	}
	if !strings.HasPrefix(events, passport.EventMembershipChanged) {
		t.Errorf("the member's events do not start with the change: %q", events)
	}

	// Russian: the switcher, then every page the walk visits, and one more change.
	var lang, text, member string
	err = chromedp.Run(ctx,
		chromedp.Evaluate(`location.pathname`, &member),
		chromedp.Click(`button[name="lang"][value="ru"]`, chromedp.NodeVisible),
		chromedp.WaitVisible(`html[lang="ru"]`),
	)
	if err != nil {
		t.Fatal(err)
	}
	allowed := []string{"cons-c-anna", "cons-c-boris", "cons-c-vera", "cons-c-admin", "@example.com", "Chrome Cabs", "cons-chrome",
		"driver", "operator", "Ada", "Lovelace", "Passport", "English"}
	look := func(name, p string) {
		t.Helper()
		if err := chromedp.Run(ctx, chromedp.Navigate(srv.URL+p), chromedp.WaitVisible(`footer`),
			chromedp.AttributeValue("html", "lang", &lang, nil),
			chromedp.Evaluate(`document.body.innerText`, &text), shot(t, ctx, name)); err != nil {
			t.Fatal(err)
		}
		if lang != "ru" {
			t.Errorf("%s: lang %q", p, lang)
		}
		if left := englishLeft(cat, "ru", text, allowed...); len(left) > 0 {
			t.Errorf("%s shows English in Chromium: %q", p, left)
		}
	}
	look("admin-04-ru-members", "/admin/members?org=cons-chrome")
	look("admin-05-ru-filtered", "/admin/members?org=cons-chrome&role=operator&q=boris")
	look("admin-06-ru-member", member)
	look("admin-07-ru-remove", member+"/remove")
	look("admin-08-ru-org", "/admin/orgs/cons-chrome")
	look("admin-09-ru-orgs", "/admin/orgs")
	look("admin-10-ru-events", "/admin/events")

	err = chromedp.Run(ctx,
		chromedp.Navigate(srv.URL+member),
		chromedp.WaitVisible(`#membership`),
		chromedp.Click(`#membership input[name="roles"][value="driver"]`),
		chromedp.Click(`#save-membership`),
		chromedp.WaitVisible(`.flash`),
		chromedp.Text(`.flash`, &flash),
		chromedp.Evaluate(`[...document.querySelectorAll('#membership input[name="roles"]:checked')].map(i => i.value)`, &checked),
		chromedp.Evaluate(`document.body.innerText`, &text),
		shot(t, ctx, "admin-11-ru-roles-changed"),
	)
	if err != nil {
		t.Fatal(err)
	}
	if flash != cat.For("ru").T("The membership is saved.") || strings.Join(checked, " ") != "operator" {
		t.Errorf("the Russian change: flash %q, ticked %v", flash, checked)
	}
	if left := englishLeft(cat, "ru", text, allowed...); len(left) > 0 {
		t.Errorf("the member page after a change shows English: %q", left)
	}
}
