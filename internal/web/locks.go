package web

import (
	"github.com/labstack/echo/v4"

	"github.com/passport-idp/passport/internal/account"
)

// Locked fields and unlocking (helper D).

// lockRoutes registers this part's routes.
func (s *Server) lockRoutes(e *echo.Echo, api, adm *echo.Group, page []echo.MiddlewareFunc) {}

// memberLocksView is this part's section of the admin member page.
type memberLocksView struct{}

// memberLocks loads this part's section of the admin member page.
func (s *Server) memberLocks(c echo.Context, m *account.Member) (memberLocksView, error) {
	return memberLocksView{}, nil
}
