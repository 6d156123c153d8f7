package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/pquerna/otp/totp"
	"golang.org/x/oauth2"
)

// screenshotDir keeps the browser tests' screenshots (git-ignored).
var screenshotDir = filepath.Join("..", "..", "test-artifacts", "screenshots")

// newChrome starts Debian's headless Chromium with a fresh profile. It fails, not skips,
// when Chromium is missing: `make test` installs it.
func newChrome(t *testing.T, width, height int) context.Context {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatal("chromium is not installed: run `make test` (scripts/browser-up.sh installs Debian's package)")
	}
	profile, err := os.MkdirTemp("", "passport-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path), chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("disable-quic", true),
		chromedp.UserDataDir(profile), chromedp.WindowSize(width, height))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(func() {
		cancelTimeout()
		cancel()
		cancelAlloc() // waits for the browser process to exit
		_ = os.RemoveAll(profile)
	})
	if err := chromedp.Run(ctx); err != nil {
		t.Fatalf("starting chromium: %v", err)
	}
	return ctx
}

// shot saves a full-page screenshot as a test artifact.
func shot(t *testing.T, ctx context.Context, name string) chromedp.Action {
	return chromedp.ActionFunc(func(ctx context.Context) error {
		var png []byte
		if err := chromedp.FullScreenshot(&png, 100).Do(ctx); err != nil {
			return err
		}
		if err := os.MkdirAll(screenshotDir, 0o755); err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(screenshotDir, name+".png"), png, 0o644)
	})
}

// TestBrowserCabinetAndConsent drives real Chromium through the cabinet: sign in, edit the
// profile, change a field's publicity, then approve a consent screen for an application.
func TestBrowserCabinetAndConsent(t *testing.T) {
	srv := startServer(t, "")
	codes := make(chan string, 1)
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/cb" {
			select {
			case codes <- r.URL.Query().Get("code"):
			default:
			}
			_, _ = w.Write([]byte("<!doctype html><title>App</title><p id=done>Signed in</p>"))
		}
	}))
	t.Cleanup(app.Close)
	mustCLI(t, "client", "create", "--id", "browser-app", "--secret", "browser-app-secret-123", "--name", "Browser App",
		"--redirect-uri", app.URL+"/cb")
	sub := setupSelfUser(t, "chromium-user", "headless-browser-9")
	ctx := newChrome(t, 1280, 900)

	var flash, nickname string
	err := chromedp.Run(ctx,
		chromedp.Navigate(srv.URL+"/signin"),
		chromedp.WaitVisible(`#login`),
		chromedp.SendKeys(`#login`, "chromium-user"),
		chromedp.SendKeys(`#password`, "headless-browser-9"),
		shot(t, ctx, "01-signin"),
		chromedp.Submit(`#password`),
		chromedp.WaitVisible(`#main-info`),
		shot(t, ctx, "02-profile"),

		// Edit the main information.
		chromedp.Navigate(srv.URL+"/profile/edit"),
		chromedp.WaitVisible(`#f-nickname`),
		chromedp.SetValue(`#f-nickname`, "chromie"),
		chromedp.SetValue(`#f-birthdate`, "1990-04-23"),
		shot(t, ctx, "03-edit"),
		chromedp.Submit(`#f-nickname`),
		chromedp.WaitVisible(`.flash`),
		chromedp.Text(`.flash`, &flash),
		chromedp.Text(`#main-info .facts dd`, &nickname),

		// Make the email public.
		chromedp.SetValue(`#level-email`, "public"),
		chromedp.Submit(`#level-email`),
		chromedp.WaitVisible(`.flash`),
		shot(t, ctx, "04-privacy-saved"),
	)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(flash, "saved") || nickname != "chromie" {
		t.Errorf("after editing: flash %q, nickname %q", flash, nickname)
	}
	var emailLevel string
	if err := chromedp.Run(ctx, chromedp.Value(`#level-email`, &emailLevel)); err != nil || emailLevel != "public" {
		t.Errorf("email level in the page: %q (%v)", emailLevel, err)
	}

	// An application asks for profile and email: the consent screen lists the on-request
	// fields as checkboxes and the public ones as always shared.
	conf := oauth2.Config{ClientID: "browser-app", ClientSecret: "browser-app-secret-123", RedirectURL: app.URL + "/cb",
		Endpoint: oauth2.Endpoint{AuthURL: srv.URL + "/authorize", TokenURL: srv.URL + "/oauth/token"},
		Scopes:   []string{"openid", "profile", "email"}}
	verifier := oauth2.GenerateVerifier()
	var boxes, public int
	err = chromedp.Run(ctx,
		chromedp.Navigate(conf.AuthCodeURL("browser-state", oauth2.S256ChallengeOption(verifier))),
		chromedp.WaitVisible(`button[value=allow]`),
		chromedp.Evaluate(`document.querySelectorAll('input[type=checkbox][name^=share_]').length`, &boxes),
		chromedp.Evaluate(`document.querySelectorAll('.level-public').length`, &public),
		shot(t, ctx, "05-consent"),
		chromedp.Click(`button[value=allow]`),
		chromedp.WaitVisible(`#done`),
	)
	if err != nil {
		t.Fatal(err)
	}
	// given_name, family_name and login are on request; nickname and email public, plus the
	// always-shared Passport ID line; the birth date is private by default.
	if boxes != 3 || public != 3 {
		t.Errorf("consent screen: %d checkboxes and %d public lines, want 3 and 3", boxes, public)
	}
	var code string
	select {
	case code = <-codes:
	case <-time.After(10 * time.Second):
		t.Fatal("the application never received a code")
	}
	tok, err := conf.Exchange(context.Background(), code, oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}
	got := userinfo(t, srv, tok)
	if got["sub"] != sub || got["nickname"] != "chromie" || got["email"] != "chromium-user@example.com" ||
		got["given_name"] != "Ada" || got["birthdate"] != nil {
		t.Errorf("userinfo after the browser consent: %v", got)
	}
}

// TestBrowserPhoneLayout renders the cabinet at a phone's width and checks that nothing
// overflows sideways.
func TestBrowserPhoneLayout(t *testing.T) {
	srv := startServer(t, "")
	setupSelfUser(t, "phone-user", "small-screen-360")
	ctx := newChrome(t, 360, 740)
	var overflow bool
	err := chromedp.Run(ctx,
		chromedp.Navigate(srv.URL+"/signin"),
		chromedp.WaitVisible(`#login`),
		chromedp.SendKeys(`#login`, "phone-user"),
		chromedp.SendKeys(`#password`, "small-screen-360"),
		chromedp.Submit(`#password`),
		chromedp.WaitVisible(`#privacy`),
		chromedp.Evaluate(`document.documentElement.scrollWidth > window.innerWidth`, &overflow),
		shot(t, ctx, "06-profile-phone"),
	)
	if err != nil {
		t.Fatal(err)
	}
	if overflow {
		t.Error("the profile page scrolls sideways on a 360 px screen")
	}
}

// TestBrowserEmailChangeWithDevSink changes the email address in Chromium, reading the code
// from the development sink's page as a developer would.
func TestBrowserEmailChangeWithDevSink(t *testing.T) {
	srv := startServer(t, "", "PASSPORT_DEV_MESSAGES_PAGE", "true")
	setupSelfUser(t, "sink-user", "read-the-code-7")
	ctx := newChrome(t, 1024, 900)
	var sinkText, flash string
	err := chromedp.Run(ctx,
		chromedp.Navigate(srv.URL+"/signin"),
		chromedp.WaitVisible(`#login`),
		chromedp.SendKeys(`#login`, "sink-user"),
		chromedp.SendKeys(`#password`, "read-the-code-7"),
		chromedp.Submit(`#password`),
		chromedp.WaitVisible(`#main-info`),
		chromedp.Navigate(srv.URL+"/profile/email"),
		chromedp.WaitVisible(`#f-value`),
		chromedp.SendKeys(`#f-value`, "sink.new@example.org"),
		chromedp.Submit(`#f-value`),
		chromedp.WaitVisible(`#f-code`),
		shot(t, ctx, "07-email-code"),
		chromedp.Navigate(srv.URL+"/dev/messages"),
		chromedp.WaitVisible(`pre.message`),
		chromedp.Text(`pre.message`, &sinkText),
		shot(t, ctx, "08-dev-messages"),
	)
	if err != nil {
		t.Fatal(err)
	}
	code := codeInMail.FindStringSubmatch(sinkText)
	if code == nil {
		t.Fatalf("no code on the sink page: %q", sinkText)
	}
	err = chromedp.Run(ctx,
		chromedp.Navigate(srv.URL+"/profile/email"),
		chromedp.WaitVisible(`#f-code`),
		chromedp.SendKeys(`#f-code`, code[1]),
		chromedp.Submit(`#f-code`),
		chromedp.WaitVisible(`.flash`),
		chromedp.Text(`.flash`, &flash),
		shot(t, ctx, "09-email-confirmed"),
	)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(flash, "confirmed") {
		t.Errorf("flash: %q", flash)
	}
	if email, verified := accountEmail(t, "sink-user"); email != "sink.new@example.org" || !verified {
		t.Errorf("email after the browser flow: %s %v", email, verified)
	}
}

// TestBrowserTwoFactorEnrolment enrols in Chromium: reads the key from the page, answers
// with a code computed from it, then signs in again with the next code.
func TestBrowserTwoFactorEnrolment(t *testing.T) {
	srv := startServer(t, "")
	setupSelfUser(t, "totp-browser", "authenticator-app-1")
	ctx := newChrome(t, 1024, 1000)
	var key string
	var codes, qrWidth int
	err := chromedp.Run(ctx,
		chromedp.Navigate(srv.URL+"/signin"),
		chromedp.WaitVisible(`#login`),
		chromedp.SendKeys(`#login`, "totp-browser"),
		chromedp.SendKeys(`#password`, "authenticator-app-1"),
		chromedp.Submit(`#password`),
		chromedp.WaitVisible(`#main-info`),
		chromedp.Navigate(srv.URL+"/profile/2fa"),
		chromedp.Click(`#turn-on`, chromedp.NodeVisible),
		chromedp.WaitVisible(`#totp-secret`),
		chromedp.Text(`#totp-secret`, &key),
		chromedp.Evaluate(`document.querySelector('img.qr').naturalWidth`, &qrWidth),
		shot(t, ctx, "10-2fa-enrol"),
	)
	if err != nil {
		t.Fatal(err)
	}
	if qrWidth != 240 {
		t.Errorf("the QR code did not render (natural width %d)", qrWidth)
	}
	code, err := totp.GenerateCode(strings.TrimSpace(key), time.Now())
	if err != nil {
		t.Fatalf("key %q: %v", key, err)
	}
	err = chromedp.Run(ctx,
		chromedp.SendKeys(`#f-password`, "authenticator-app-1"),
		chromedp.SendKeys(`#f-code`, code),
		chromedp.Submit(`#f-code`),
		chromedp.WaitVisible(`#recovery-codes`),
		chromedp.Evaluate(`document.querySelectorAll('#recovery-codes li').length`, &codes),
		shot(t, ctx, "11-2fa-recovery-codes"),
	)
	if err != nil {
		t.Fatal(err)
	}
	if codes != 10 {
		t.Errorf("%d recovery codes shown, want 10", codes)
	}
	next, _ := totp.GenerateCode(strings.TrimSpace(key), time.Now().Add(30*time.Second))
	var path string
	err = chromedp.Run(ctx,
		chromedp.Navigate(srv.URL+"/profile/sessions"),
		chromedp.WaitVisible(`form[action="/profile/sessions/end-all"] button`),
		chromedp.Click(`form[action="/profile/sessions/end-all"] button`),
		chromedp.Click(`#confirm button.danger`, chromedp.NodeVisible), // the confirmation page
		chromedp.WaitVisible(`#login`),
		chromedp.SendKeys(`#login`, "totp-browser"),
		chromedp.SendKeys(`#password`, "authenticator-app-1"),
		chromedp.Submit(`#password`),
		chromedp.WaitVisible(`#code`),
		shot(t, ctx, "12-2fa-sign-in"),
		chromedp.SendKeys(`#code`, next),
		chromedp.Submit(`#code`),
		chromedp.WaitVisible(`#main-info`),
		chromedp.Evaluate(`location.pathname`, &path),
	)
	if err != nil {
		t.Fatal(err)
	}
	if path != "/profile" {
		t.Errorf("after the second factor: %s", path)
	}
}
