package web

import (
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/passport-idp/passport/internal/account"
	"github.com/passport-idp/passport/internal/passport"
)

// Who may enter the admin console (/admin) and the admin API (/api/v1/admin), SPEC §12.
// Both doors end in internal/account, which scopes every action to the actor's authority;
// here we only establish who the actor is:
//   - a person signed in to the cabinet whose account holds an administrative grant (the
//     console, and the API with the session cookie and X-CSRF-Token);
//   - a bearer token with scope passport:admin: a person's (their grants apply) or a
//     client_credentials token of a client bound to one organisation (a service account).
// Anyone else gets 404 from the console and the API alike: the admin side does not say it
// exists to people who cannot use it.

// AdminSettings configures the admin side.
type AdminSettings struct {
	// RequireTwoFactor closes the console and the admin API to an administrator whose account
	// has no second factor (they are sent to turn it on).
	RequireTwoFactor bool
	// ReauthAfter bounds the age of the sign-in behind an administrator's change: an older
	// one is asked for the password (and code) again (step-up).
	ReauthAfter time.Duration
}

const actorKey = "passport.actor"

// actorOf returns the administrator acting in this request (set by console or adminAPIAuth).
func actorOf(c echo.Context) passport.Actor {
	a, _ := c.Get(actorKey).(passport.Actor)
	return a
}

func (s *Server) setActor(c echo.Context, a passport.Actor) {
	c.Set(actorKey, a)
	c.SetRequest(c.Request().WithContext(passport.WithActor(c.Request().Context(), a)))
}

// adminNotFound is what a non-administrator learns of the admin side.
func adminNotFound() error { return passport.Errorf(passport.ENOTFOUND, "Page not found.") }

// console wraps an admin console page: signed in (else the sign-in page), holding an
// administrative grant (else 404), with two factors when required (else a page that sends
// them to turn it on), and, for a change, a sign-in younger than ReauthAfter (else the
// step-up page, which comes back here).
func (s *Server) console(h func(echo.Context, *passport.Account) error) echo.HandlerFunc {
	return func(c echo.Context) error {
		a, err := s.signedIn(c)
		if err != nil {
			return err
		}
		if a == nil {
			if c.Request().Method == http.MethodGet {
				return c.Redirect(http.StatusFound, "/signin?"+url.Values{"return": {c.Request().URL.RequestURI()}}.Encode())
			}
			return c.Redirect(http.StatusSeeOther, "/signin")
		}
		if a.Status != passport.StatusActive {
			return adminNotFound()
		}
		sess := browserOf(c).Session
		actor, err := s.acct.Admin(c.Request().Context(), a.ID, c.RealIP(), c.Request().UserAgent(), "")
		if err != nil {
			return err
		}
		if !actor.Authority.Admin() {
			return adminNotFound()
		}
		// An administrator's own required actions come first (actions.go).
		if to, err := s.actionGate(c.Request().Context(), a); err != nil {
			return err
		} else if to != "" {
			return c.Redirect(http.StatusSeeOther, to)
		}
		withAccount(c, a)
		s.setActor(c, actor)
		if s.cfg.Admin.RequireTwoFactor {
			if on, err := s.twoFactorOn(c.Request().Context(), a.ID); err != nil {
				return err
			} else if !on {
				return s.handleAdminNeedsTwoFactor(c, a)
			}
		}
		if c.Request().Method != http.MethodGet && c.Request().Method != http.MethodHead &&
			!strings.HasPrefix(c.Path(), "/admin/reauth") && s.stale(sess) {
			return c.Redirect(http.StatusSeeOther, "/admin/reauth?"+url.Values{"return": {adminReturn(c)}}.Encode())
		}
		return h(c, a)
	}
}

// stale reports whether a session's sign-in is too old for an administrator's change.
func (s *Server) stale(sess *passport.Session) bool {
	return sess == nil || s.db.Now().Sub(sess.AuthTime) > s.cfg.Admin.ReauthAfter
}

// adminReturn is where the step-up page leads back to: the page the change was posted from
// when it is a console page of this site, else the console's start.
func adminReturn(c echo.Context) string {
	if ref, err := url.Parse(c.Request().Referer()); err == nil && ref.Path != "" &&
		strings.HasPrefix(ref.Path, "/admin") && !strings.HasPrefix(ref.Path, "/admin/reauth") {
		if u := ref.RequestURI(); safeAdminPath(u) {
			return u
		}
	}
	return "/admin"
}

// safeAdminPath accepts only a path of the console on this site (no scheme, host or //).
func safeAdminPath(p string) bool {
	return strings.HasPrefix(p, "/admin") && !strings.HasPrefix(p, "//") && !strings.ContainsAny(p, "\\\r\n") &&
		!strings.Contains(p, "://")
}

// adminAPIAuth authenticates the admin API: a bearer token with scope passport:admin, or the
// session cookie with X-CSRF-Token (the rules of /api/v1/me, and the console's: an
// administrator, two factors when required, and a recent sign-in for a change). Anyone else
// gets 404 for every route: the API does not say what exists.
func (s *Server) adminAPIAuth(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		ctx := c.Request().Context()
		c.Response().Header().Set("Cache-Control", "no-store")
		var actor passport.Actor
		if auth := c.Request().Header.Get("Authorization"); auth != "" {
			t, err := s.bearer(c, auth, passport.ScopeAdmin)
			if err != nil {
				return err
			}
			if t.AccountID == "" {
				// A service account: a client bound to one organisation.
				cl, err := s.db.Client(ctx, t.ClientID)
				if err != nil {
					return err
				}
				if cl.AdminOrgID == "" || cl.Disabled {
					return adminNotFound()
				}
				// A disabled organisation's service account acts no more (its grants neither).
				if o, err := s.db.Org(ctx, cl.AdminOrgID); err != nil || o.Status != passport.OrgActive {
					if err != nil && passport.ErrorCode(err) != passport.ENOTFOUND {
						return err
					}
					return adminNotFound()
				}
				actor = account.ServiceAccount(cl.ID, cl.AdminOrgID, c.RealIP(), c.Request().UserAgent())
			} else {
				a, err := s.db.Account(ctx, t.AccountID)
				if passport.ErrorCode(err) == passport.ENOTFOUND || (err == nil && a.Status != passport.StatusActive) {
					return passport.Errorf(passport.EUNAUTHORIZED, "This account cannot use the API.")
				}
				if err != nil {
					return err
				}
				if actor, err = s.adminPerson(c, a, t.ClientID); err != nil {
					return err
				}
				// The step-up holds for tokens too: a change needs a sign-in younger than
				// ReauthAfter behind the token (refreshing does not renew it).
				if m := c.Request().Method; m != http.MethodGet && m != http.MethodHead &&
					(t.AuthTime == nil || s.db.Now().Sub(*t.AuthTime) > s.cfg.Admin.ReauthAfter) {
					return passport.Errorf(passport.EFORBIDDEN,
						"The sign-in behind this token is too old for this change: sign in again and try again.")
				}
			}
		} else {
			if err := s.browser(func(echo.Context) error { return nil })(c); err != nil {
				return err
			}
			b := browserOf(c)
			if b.Session == nil {
				c.Response().Header().Set("WWW-Authenticate", `Bearer realm="passport"`)
				return passport.Errorf(passport.EUNAUTHORIZED, "Sign in, or send a bearer access token.")
			}
			if err := s.csrf(func(echo.Context) error { return nil })(c); passport.ErrorCode(err) == passport.EFORBIDDEN {
				return passport.Errorf(passport.EFORBIDDEN,
					"With the session cookie, send the X-CSRF-Token header with this session's token, from this site.")
			} else if err != nil {
				return err
			}
			a, err := s.db.Account(ctx, b.Session.AccountID)
			if passport.ErrorCode(err) == passport.ENOTFOUND || (err == nil && a.Status != passport.StatusActive) {
				return passport.Errorf(passport.EUNAUTHORIZED, "This account cannot use the API.")
			}
			if err != nil {
				return err
			}
			if err := s.gateAPI(ctx, a); err != nil {
				return err
			}
			if actor, err = s.adminPerson(c, a, ""); err != nil {
				return err
			}
			if m := c.Request().Method; m != http.MethodGet && m != http.MethodHead && s.stale(b.Session) {
				return passport.Errorf(passport.EFORBIDDEN,
					"Your sign-in is too old for this change: confirm your password in the console (/admin/reauth) and try again.")
			}
			withAccount(c, a)
		}
		s.setActor(c, actor)
		return next(c)
	}
}

// adminPerson is the actor of a person using the admin API: 404 unless they administer
// something, 403 while two factors are required and off.
func (s *Server) adminPerson(c echo.Context, a *passport.Account, clientID string) (passport.Actor, error) {
	actor, err := s.acct.Admin(c.Request().Context(), a.ID, c.RealIP(), c.Request().UserAgent(), clientID)
	if err != nil {
		return actor, err
	}
	if !actor.Authority.Admin() {
		return actor, adminNotFound()
	}
	if s.cfg.Admin.RequireTwoFactor {
		if on, err := s.twoFactorOn(c.Request().Context(), a.ID); err != nil {
			return actor, err
		} else if !on {
			return actor, passport.Errorf(passport.EFORBIDDEN, "Administrators must turn on two-factor authentication first.")
		}
	}
	return actor, nil
}
