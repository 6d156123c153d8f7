package web

import (
	"crypto/hmac"
	"net/http"

	"github.com/labstack/echo/v4"
)

type signoutPage struct {
	Base
	Redirect string
	Sig      string
}

// handleSignoutForm asks the person to confirm a logout that an application started without
// id_token_hint (OpenID RP-Initiated Logout §2), or that the person asked for.
func (s *Server) handleSignoutForm(c echo.Context) error {
	redirect, sig := c.QueryParam("redirect"), c.QueryParam("sig")
	if !s.validRedirect(redirect, sig) {
		redirect, sig = "", ""
	}
	if browserOf(c).Session == nil {
		return c.Redirect(http.StatusFound, s.afterSignout(redirect))
	}
	return s.page(c, http.StatusOK, "signout", signoutPage{Base: s.base(c, "Sign out"), Redirect: redirect, Sig: sig})
}

// handleSignoutSubmit ends the browser's session.
func (s *Server) handleSignoutSubmit(c echo.Context) error {
	redirect, sig := c.FormValue("redirect"), c.FormValue("sig")
	if !s.validRedirect(redirect, sig) {
		redirect = ""
	}
	b := browserOf(c)
	if b.Session != nil {
		if err := s.db.EndSession(c.Request().Context(), b.Session.ID); err != nil {
			return err
		}
		b.Session = nil
	}
	s.setCookie(c, s.cookie.session, "", -1)
	return c.Redirect(http.StatusSeeOther, s.afterSignout(redirect))
}

func (s *Server) validRedirect(redirect, sig string) bool {
	return redirect != "" && hmac.Equal([]byte(sig), []byte(signRedirect(s.cfg.Key, redirect)))
}

func (s *Server) afterSignout(redirect string) string {
	if redirect != "" {
		return redirect
	}
	return "/signed-out"
}

func (s *Server) handleSignedOut(c echo.Context) error {
	return s.page(c, http.StatusOK, "signed_out", struct{ Base }{s.base(c, "Signed out")})
}
