package web

import (
	"github.com/labstack/echo/v4"

	"github.com/passport-idp/passport/internal/passport"
)

// The person's own security events. (Skeleton: written by the events' author.)

func (s *Server) handleEvents(c echo.Context, a *passport.Account) error { return adminNotFound() }
func (s *Server) apiMyEvents(c echo.Context) error                       { return adminNotFound() }
