package web

import (
	"github.com/labstack/echo/v4"

	"github.com/passport-idp/passport/internal/account"
)

// Issuing members and credentials (helper A).

// issueRoutes registers this part's routes.
func (s *Server) issueRoutes(e *echo.Echo, api, adm *echo.Group, page []echo.MiddlewareFunc) {}

// memberCredentialsView is this part's section of the admin member page.
type memberCredentialsView struct{}

// memberCredentials loads this part's section of the admin member page.
func (s *Server) memberCredentials(c echo.Context, m *account.Member) (memberCredentialsView, error) {
	return memberCredentialsView{}, nil
}
