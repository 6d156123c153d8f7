// Package web serves Passport over HTTP with Echo: the sign-in and consent pages, health
// probes, and the OpenID Provider, which it receives as a plain http.Handler. It never
// imports the oidc package: it talks to it through the OIDC interface and the browser it
// puts in the request context.
package web

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"html/template"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/passport-idp/passport/internal/account"
	"github.com/passport-idp/passport/internal/i18n"
	"github.com/passport-idp/passport/internal/passport"
	"github.com/passport-idp/passport/internal/postgres"
)

// OIDC is what the web layer needs from the OpenID Provider.
type OIDC interface {
	// ServeHTTP serves the protocol endpoints.
	http.Handler
	// CallbackURL is where the browser goes once an auth request is done.
	CallbackURL(authRequestID string) string
	// Fail sends an OAuth error (access_denied, login_required, …) to the application and
	// ends the auth request.
	Fail(w http.ResponseWriter, r *http.Request, req *passport.AuthRequest, code, description string)
	// AccessToken returns the valid access token behind a bearer value. Returns ENOTFOUND
	// for anything else.
	AccessToken(ctx context.Context, bearer string) (*passport.AccessToken, error)
}

// Config is what the web layer needs to know.
type Config struct {
	Issuer          string
	Secure          bool     // issuer is https: Secure cookies with the __Host- prefix, HSTS
	Key             [32]byte // signs CSRF tokens and logout redirects
	SessionLifetime time.Duration
	Argon2          passport.Argon2Params
	RateWindow      time.Duration
	RatePerAccount  int // failed sign-ins per login from unknown browsers, and per known browser
	RatePerIP       int // failed sign-ins per client address
	RateIPAttempts  int // every sign-in attempt per client address: a much higher ceiling
	// TrustedProxies are the only peers whose X-Forwarded-For is believed.
	TrustedProxies []string
	AssetsDir      string // development: read templates and static files from here
	Rules          passport.Rules
	Photo          passport.PhotoLimits
	Policies       map[string][]byte // the personal-data policy (Markdown) by language; "" for the rest
	Sealer         passport.Sealer   // message content at rest
	TOTPSealer     passport.Sealer   // TOTP secrets at rest
	DeletionGrace  time.Duration
	MessagesDir    string // overrides for message templates
	DefaultLocale  string
	Codes          CodeSettings
	// DevMessagesPage serves /dev/messages, where the development sink's messages (codes
	// included) can be read by anyone who can reach the server: development only.
	DevMessagesPage bool
	Signup          SignupSettings // self sign-up (signup.go)
	Admin           AdminSettings  // the console and the admin API (admin.go)
	Issued          IssuedSettings // accounts issued by organisations
}

// IssuedSettings set accounts issued by organisations (SPEC §6).
type IssuedSettings struct {
	PasswordLifetime time.Duration // an issued password works this long
	ImportMaxRows    int           // the most rows of one CSV import
}

// CodeSettings bound one-time confirmation codes.
type CodeSettings struct {
	Key         [32]byte // HMAC key: codes are stored as HMACs, useless without it
	Lifetime    time.Duration
	MaxAttempts int
	ResendAfter time.Duration
	MaxSends    int
	PhoneRegion string
}

// Server is the HTTP side of Passport.
type Server struct {
	cfg   Config
	db    *postgres.DB
	oidc  OIDC
	log   *slog.Logger
	echo  *echo.Echo
	pages *renderer
	cat   *i18n.Catalog
	// acct carries out account and organisation actions for every door (internal/account).
	acct *account.Service
	// getRoutes are the GET routes' paths, split at "/" (for the language switcher's return).
	getRoutes [][]string
	// policies is cfg.Policies rendered as HTML once, by language.
	policies map[string]template.HTML
	msgs     *messageTemplates
	cookie   cookieNames
	// dummyHash is checked when a login is unknown, so a wrong login costs as much time as
	// a wrong password and timing does not reveal which logins exist.
	dummyHash string
}

// New builds the server and its routes.
func New(cfg Config, db *postgres.DB, provider OIDC, log *slog.Logger) (*Server, error) {
	cat, err := i18n.Load()
	if err != nil {
		return nil, err
	}
	pages, err := newRenderer(cfg.AssetsDir, cat)
	if err != nil {
		return nil, err
	}
	dummy, err := passport.HashPassword(context.Background(), passport.NewToken(), cfg.Argon2)
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, db: db, oidc: provider, log: log, pages: pages, cat: cat, dummyHash: dummy,
		cookie: newCookieNames(cfg.Secure), msgs: newMessageTemplates(cfg.MessagesDir, cfg.DefaultLocale)}
	s.acct = &account.Service{DB: db, Rules: cfg.Rules, Argon2: cfg.Argon2, DeletionGrace: cfg.DeletionGrace,
		Limits: account.Limits{Window: cfg.RateWindow, PerAccount: cfg.RatePerAccount}, Notices: s.notices, DeletionNotices: s.deletionNotices,
		IssuedPasswordLifetime: cfg.Issued.PasswordLifetime, CredentialMessage: s.credentialMessage}
	s.policies = map[string]template.HTML{}
	for lang, doc := range cfg.Policies {
		if s.policies[lang], err = markdown(doc); err != nil {
			return nil, fmt.Errorf("profile.policy_file: %w", err)
		}
	}
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = s.handleError
	e.IPExtractor = ipExtractor(cfg.TrustedProxies)
	s.echo = e
	s.routes()
	return s, nil
}

// ServeHTTP makes the server an http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.echo.ServeHTTP(w, headAsGet(r)) }

// ipExtractor believes X-Forwarded-For only from the configured proxies. Echo's extractor
// also trusts every loopback, link-local and private address by default, which would let
// anyone on the same host or network name any address (and dodge the per-address limits):
// those defaults are switched off.
func ipExtractor(trusted []string) echo.IPExtractor {
	if len(trusted) == 0 {
		return echo.ExtractIPDirect()
	}
	opts := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
	for _, cidr := range trusted {
		if _, n, err := net.ParseCIDR(cidr); err == nil {
			opts = append(opts, echo.TrustIPRange(n))
		}
	}
	return echo.ExtractIPFromXFFHeader(opts...)
}

// ConfirmLogoutURL returns the function the OIDC provider uses to send a logout without
// id_token_hint to the confirmation page. The redirect is signed so the page cannot be
// turned into an open redirector.
func ConfirmLogoutURL(key [32]byte) func(redirect string) string {
	return func(redirect string) string {
		return "/signout?" + url.Values{"redirect": {redirect}, "sig": {signRedirect(key, redirect)}}.Encode()
	}
}

func signRedirect(key [32]byte, redirect string) string {
	m := hmac.New(sha256.New, key[:])
	m.Write([]byte("logout-redirect\x00" + redirect))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}
