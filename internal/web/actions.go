package web

import (
	"github.com/labstack/echo/v4"

	"github.com/passport-idp/passport/internal/account"
)

// Required actions after sign-in (helper B).

// actionRoutes registers this part's routes.
func (s *Server) actionRoutes(e *echo.Echo, api, adm *echo.Group, page []echo.MiddlewareFunc) {}

// memberActionsView is this part's section of the admin member page.
type memberActionsView struct{}

// memberActions loads this part's section of the admin member page.
func (s *Server) memberActions(c echo.Context, m *account.Member) (memberActionsView, error) {
	return memberActionsView{}, nil
}
