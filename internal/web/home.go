package web

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/passport-idp/passport/internal/passport"
)

type homePage struct {
	Base
	Session *passport.Session
}

// handleHome is the signed-in landing page; the personal cabinet grows from here.
func (s *Server) handleHome(c echo.Context) error {
	sess := browserOf(c).Session
	if sess == nil {
		return c.Redirect(http.StatusFound, "/signin")
	}
	a, err := s.db.Account(c.Request().Context(), sess.AccountID)
	if err != nil {
		return err
	}
	page := homePage{Base: s.base(c, "Your Passport"), Session: sess}
	page.Account = a
	return s.page(c, http.StatusOK, "home", page)
}
