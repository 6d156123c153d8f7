package main

import (
	"html"
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

// langTransport sends an Accept-Language header with every request.
type langTransport struct{ lang string }

func (l langTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r.Header.Set("Accept-Language", l.lang)
	return http.DefaultTransport.RoundTrip(r)
}

var htmlLang = regexp.MustCompile(`<html lang="([a-z]+)"`)

func pageLang(t *testing.T, page string) string {
	t.Helper()
	m := htmlLang.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no <html lang>: %.200s", page)
	}
	return m[1]
}

// TestLanguageIsChosenInOrder: SPEC §11's order — the authorization request's ui_locales,
// the account's language, the switcher's choice, Accept-Language, the default — and the
// switcher, which also becomes the signed-in person's language.
func TestLanguageIsChosenInOrder(t *testing.T) {
	srv := startServer(t, "")
	secret := setupClient(t, "lang-app")
	setupSelfUser(t, "polyglot", "many-tongues-42")

	b := newBrowser(t, srv)
	_, page := b.get(srv.URL + "/signin")
	if got := pageLang(t, page); got != "en" {
		t.Errorf("no preference: %s, want the default en", got)
	}
	b.Transport = langTransport{"et-EE,et;q=0.9,en;q=0.5"}
	_, page = b.get(srv.URL + "/signin")
	if got := pageLang(t, page); got != "et" {
		t.Errorf("Accept-Language et: %s", got)
	}
	if !strings.Contains(page, `lang="et"`) || !strings.Contains(page, "Eesti") {
		t.Error("the switcher is not on the sign-in page")
	}

	// The switcher: a form on every page; its choice beats Accept-Language.
	resp, _ := b.post("/language", url.Values{"csrf": {hidden(page).Get("csrf")}, "lang": {"nl"}, "back": {"/signin?x=1"}})
	if resp.Request.URL.Path != "/signin" || pageLang(t, readPage(t, b, srv.URL+"/signin")) != "nl" {
		t.Errorf("after choosing nl: at %s, page in %s", resp.Request.URL, pageLang(t, readPage(t, b, srv.URL+"/signin")))
	}
	// It goes back only to this site, and refuses what it does not offer.
	noFollow := *b.Client
	noFollow.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	for back, want := range map[string]string{"//evil.example/x": "/", "https://evil.example/": "/", "/\\evil.example": "/", "/profile": "/profile"} {
		resp, err := noFollow.PostForm(srv.URL+"/language", url.Values{"csrf": {hidden(page).Get("csrf")}, "lang": {"nl"}, "back": {back}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if loc := resp.Header.Get("Location"); loc != want {
			t.Errorf("back=%q: Location %q, want %q", back, loc, want)
		}
	}
	resp, _ = b.post("/language", url.Values{"csrf": {hidden(page).Get("csrf")}, "lang": {"de"}, "back": {"/"}})
	if resp.StatusCode == http.StatusSeeOther || resp.StatusCode >= 500 {
		t.Errorf("an unoffered language: %d", resp.StatusCode)
	}
	resp, _ = b.post("/language", url.Values{"lang": {"sv"}, "back": {"/"}})
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("the switcher without its CSRF token: %d, want 403", resp.StatusCode)
	}

	// The account's language beats the switcher's cookie; choosing with the switcher while
	// signed in makes it the account's language.
	signInDirectly(t, b, "polyglot", "many-tongues-42")
	if code, _ := api(t, b, http.MethodPatch, "/me", "", map[string]any{"locale": "ru"}); code != http.StatusOK {
		t.Fatalf("setting the account's language: %d", code)
	}
	if got := pageLang(t, readPage(t, b, srv.URL+"/profile")); got != "ru" {
		t.Errorf("account in ru, cookie nl: %s", got)
	}
	_, page = b.get(srv.URL + "/profile")
	b.post("/language", url.Values{"csrf": {hidden(page).Get("csrf")}, "lang": {"sv"}, "back": {"/profile"}})
	if _, me := api(t, b, http.MethodGet, "/me", "", nil); me["locale"] != "sv" {
		t.Errorf("after the switcher, the account's language is %v, want sv", me["locale"])
	}

	// ui_locales of the authorization request beats the account's language.
	rp := newRP(t, srv, "lang-app", secret)
	resp, page = b.get(rp.authURL("l1", oauth2.GenerateVerifier(), oauth2.SetAuthURLParam("ui_locales", "fr-CA et"),
		oauth2.SetAuthURLParam("prompt", "consent")))
	if got := pageLang(t, page); got != "et" || !strings.HasPrefix(resp.Request.URL.Path, "/consent") {
		t.Errorf("ui_locales 'fr-CA et' on %s: %s, want et", resp.Request.URL.Path, got)
	}
}

func readPage(t *testing.T, b *browser, u string) string {
	t.Helper()
	_, page := b.get(u)
	return page
}

var (
	tagOrScript = regexp.MustCompile(`(?s)<script.*?</script>|<style.*?</style>|<[^>]*>`)
	attrText    = regexp.MustCompile(`(?:placeholder|aria-label|title|alt)="([^"]*)"`)
	space       = regexp.MustCompile(`\s+`)
	fmtArg      = regexp.MustCompile(`%(?:\[\d+\])?[-+# 0]*\d*(?:\.\d+)?[a-zA-Z]`)
	// englishWords are words none of ru, et, nl and sv uses: their presence means a sentence
	// escaped the catalogue.
	englishWords = regexp.MustCompile(`(?i)\b(the|your|you|with|this|please|sign in|signed|password|cancel|save|delete|change|email address)\b`)
)

// visibleText is a page's text as a person meets it: text nodes and the attributes that
// are read out or shown.
func visibleText(page string) string {
	var attrs []string
	for _, m := range attrText.FindAllStringSubmatch(page, -1) {
		attrs = append(attrs, m[1])
	}
	text := tagOrScript.ReplaceAllString(page, " ") + " " + strings.Join(attrs, " ")
	return space.ReplaceAllString(html.UnescapeString(text), " ")
}

// englishLeft returns the English the text of a page in lang still holds: catalogue
// sentences shown untranslated, and English words that escaped the catalogue. allowed are
// strings the test put there itself (names, addresses).
func englishLeft(cat *i18n.Catalog, lang, text string, allowed ...string) []string {
	for _, a := range allowed {
		text = strings.ReplaceAll(text, a, " ")
	}
	var found []string
	l := cat.For(lang)
	for _, id := range cat.IDs("en") {
		if strings.Contains(id, ".") && !strings.Contains(id, " ") { // format.date, month.1
			continue
		}
		if l.Sprintf(id) == id { // the same in both languages ("Passport", "OK")
			continue
		}
		for _, frag := range fmtArg.Split(id, -1) {
			frag = strings.TrimSpace(frag)
			if len(frag) >= 12 && strings.Contains(frag, " ") && strings.Contains(text, frag) {
				found = append(found, frag)
			}
		}
	}
	for _, w := range englishWords.FindAllString(text, -1) {
		found = append(found, "word: "+w)
	}
	return found
}

// TestPagesHaveNoEnglishLeft walks the pages a person sees, in each language other than
// English, and fails on English text left on them (SPEC §11: every page in five languages).
func TestPagesHaveNoEnglishLeft(t *testing.T) {
	cat, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	srv := startServer(t, "", signupOn...)
	secret := setupClient(t, "tolk-app")
	for _, lang := range []string{"ru", "et", "nl", "sv"} {
		t.Run(lang, func(t *testing.T) {
			login := "tolk-" + lang
			id := setupSelfUser(t, login, "translated-pages-7")
			b := newBrowser(t, srv)
			b.Transport = langTransport{lang}
			allowed := []string{login, login + "@example.com", "Ada", "Lovelace", "tolk-app", "App tolk-app", "Passport"}

			check := func(where, page string) {
				t.Helper()
				if got := pageLang(t, page); got != lang {
					t.Errorf("%s: <html lang=%q>", where, got)
				}
				if left := englishLeft(cat, lang, visibleText(page), allowed...); len(left) > 0 {
					t.Errorf("%s in %s still shows English: %q", where, lang, left)
				}
			}
			check("/signin", readPage(t, b, srv.URL+"/signin"))
			check("a 404 page", readPage(t, b, srv.URL+"/no/such/page"))
			check("/policy", readPage(t, b, srv.URL+"/policy"))
			check("/signin/forgot", readPage(t, b, srv.URL+"/signin/forgot"))
			_, codePage := askReset(t, b, login)
			check("the forgotten password's code page", codePage)
			check("the reset link's page", readPage(t, b, srv.URL+"/signin/forgot/link?token=x"))

			func() { // Self sign-up: the form, a refused form, the code step and a wrong code.
				allowed = append(allowed, "new-"+lang, "new-"+lang+"@example.org")
				page := readPage(t, b, srv.URL+"/signup")
				check("/signup", page)
				_, page = startSignup(t, b, page, "x", "short", "not-an-address", "12345")
				check("a refused sign-up", page)
				_, page = startSignup(t, b, page, "new-"+lang, "translated-signup-8", "new-"+lang+"@example.org", "")
				if hidden(page).Get("id") == "" {
					t.Fatalf("no sign-up code step: %.300s", page)
				}
				check("the sign-up code step", page)
				_, page = b.post("/signup/confirm", url.Values{"csrf": {hidden(page).Get("csrf")}, "id": {hidden(page).Get("id")}, "code": {"abc"}})
				check("a wrong sign-up code", page)
			}()

			// The consent page of an application, reached through the sign-in form.
			rp := newRP(t, srv, "tolk-app", secret, "profile", "email")
			_, page := b.get(rp.authURL("t-"+lang, oauth2.GenerateVerifier()))
			check("the sign-in form of an application", page)
			form := hidden(page)
			form.Set("login", login)
			form.Set("password", "wrong password")
			_, page = b.post("/signin", form)
			check("a refused sign-in", page)
			form.Set("csrf", hidden(page).Get("csrf"))
			form.Set("password", "translated-pages-7")
			resp, page := b.post("/signin", form)
			if resp.Request.URL.Path != "/consent" {
				t.Fatalf("after signing in: at %s, want the consent page", resp.Request.URL.Path)
			}
			check("the consent page", page)

			for _, p := range []string{"/profile", "/profile/edit", "/profile/apps", "/profile/email", "/profile/phone",
				"/profile/password", "/profile/sessions", "/profile/2fa", "/profile/delete", "/people/" + id,
				"/profile/sessions/end-all", "/confirm/email?token=expired"} {
				check(p, readPage(t, b, srv.URL+p))
			}
			// The admin console: the page asking an administrator for two factors, then (with
			// two factors on) every console page.
			org := setupOrg(t, "tolk-org-"+lang, "Tolk Cabs", "driver")
			member := consoleMember(t, org, "tolk-member-"+lang, true, "driver")
			grantAdmin(t, id, passport.RoleOrgAdmin, org)
			allowed = append(allowed, "tolk-org-"+lang, "Tolk Cabs", "tolk-member-"+lang, "tolk-member-"+lang+"@example.com", "driver")
			check("the console's two-factor page", readPage(t, b, srv.URL+"/admin/members"))
			twoFactorPages(t, b, "translated-pages-7", check) // the key step, codes shown once, the page when on
			consolePages(t, b, "tolk-org-"+lang, member, check)
		})
	}
}

// TestBrowserShowsNoEnglish: the same check in a real Chromium, on the text the person
// actually sees (document.body.innerText), for Russian.
func TestBrowserShowsNoEnglish(t *testing.T) {
	cat, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	srv := startServer(t, "")
	setupSelfUser(t, "chrome-ru", "russian-pages-9")
	ctx := newChrome(t, 1024, 900)
	var lang, text string
	if err := chromedp.Run(ctx,
		chromedp.Navigate(srv.URL+"/signin"),
		chromedp.Click(`button[name="lang"][value="ru"]`, chromedp.NodeVisible),
		chromedp.WaitVisible(`html[lang="ru"]`),
		chromedp.SendKeys(`#login`, "chrome-ru"),
		chromedp.SendKeys(`#password`, "russian-pages-9"),
		chromedp.Submit(`#password`),
		chromedp.WaitVisible(`a.who`),
	); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/profile", "/profile/edit", "/profile/sessions", "/profile/2fa", "/profile/delete"} {
		if err := chromedp.Run(ctx, chromedp.Navigate(srv.URL+p),
			chromedp.AttributeValue("html", "lang", &lang, nil),
			chromedp.Evaluate(`document.body.innerText`, &text)); err != nil {
			t.Fatal(err)
		}
		if lang != "ru" {
			t.Errorf("%s: lang %q", p, lang)
		}
		if left := englishLeft(cat, "ru", text, "chrome-ru", "Ada", "Lovelace", "Passport"); len(left) > 0 {
			t.Errorf("%s shows English in Chromium: %q", p, left)
		}
	}
}
