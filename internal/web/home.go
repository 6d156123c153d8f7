package web

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// handleHome sends a signed-in person to the cabinet, anyone else to sign in.
func (s *Server) handleHome(c echo.Context) error {
	if browserOf(c).Session == nil {
		return c.Redirect(http.StatusFound, "/signin")
	}
	return c.Redirect(http.StatusFound, "/profile")
}
