package web

import (
	"github.com/labstack/echo/v4"

	"github.com/passport-idp/passport/internal/passport"
)

// The admin console's pages. (Skeleton: each handler is written by the console's author.)

func (s *Server) handleAdminNeedsTwoFactor(c echo.Context, a *passport.Account) error {
	return adminNotFound()
}
func (s *Server) handleAdminHome(c echo.Context, a *passport.Account) error { return adminNotFound() }
func (s *Server) handleAdminReauthForm(c echo.Context, a *passport.Account) error {
	return adminNotFound()
}
func (s *Server) handleAdminReauth(c echo.Context, a *passport.Account) error { return adminNotFound() }
func (s *Server) handleAdminOrgs(c echo.Context, a *passport.Account) error   { return adminNotFound() }
func (s *Server) handleAdminOrgCreate(c echo.Context, a *passport.Account) error {
	return adminNotFound()
}
func (s *Server) handleAdminOrg(c echo.Context, a *passport.Account) error { return adminNotFound() }
func (s *Server) handleAdminOrgUpdate(c echo.Context, a *passport.Account) error {
	return adminNotFound()
}
func (s *Server) handleAdminRoleSave(c echo.Context, a *passport.Account) error {
	return adminNotFound()
}
func (s *Server) handleAdminRoleDelete(c echo.Context, a *passport.Account) error {
	return adminNotFound()
}
func (s *Server) handleAdminMembers(c echo.Context, a *passport.Account) error {
	return adminNotFound()
}
func (s *Server) handleAdminMemberAdd(c echo.Context, a *passport.Account) error {
	return adminNotFound()
}
func (s *Server) handleAdminMember(c echo.Context, a *passport.Account) error { return adminNotFound() }
func (s *Server) handleAdminMemberUpdate(c echo.Context, a *passport.Account) error {
	return adminNotFound()
}
func (s *Server) handleAdminMemberRemoveForm(c echo.Context, a *passport.Account) error {
	return adminNotFound()
}
func (s *Server) handleAdminMemberRemove(c echo.Context, a *passport.Account) error {
	return adminNotFound()
}
func (s *Server) handleAdminMemberBlock(c echo.Context, a *passport.Account) error {
	return adminNotFound()
}
func (s *Server) handleAdminMemberUnblock(c echo.Context, a *passport.Account) error {
	return adminNotFound()
}
func (s *Server) handleAdminMemberEndSessions(c echo.Context, a *passport.Account) error {
	return adminNotFound()
}
func (s *Server) handleAdminEvents(c echo.Context, a *passport.Account) error { return adminNotFound() }
