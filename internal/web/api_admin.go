package web

import "github.com/labstack/echo/v4"

// The admin API (/api/v1/admin). (Skeleton: each handler is written by the API's author.)

func (s *Server) apiAdminOrgs(c echo.Context) error         { return adminNotFound() }
func (s *Server) apiAdminOrgCreate(c echo.Context) error    { return adminNotFound() }
func (s *Server) apiAdminOrg(c echo.Context) error          { return adminNotFound() }
func (s *Server) apiAdminOrgUpdate(c echo.Context) error    { return adminNotFound() }
func (s *Server) apiAdminRoles(c echo.Context) error        { return adminNotFound() }
func (s *Server) apiAdminRolePut(c echo.Context) error      { return adminNotFound() }
func (s *Server) apiAdminRoleDelete(c echo.Context) error   { return adminNotFound() }
func (s *Server) apiAdminMembers(c echo.Context) error      { return adminNotFound() }
func (s *Server) apiAdminOrgMembers(c echo.Context) error   { return adminNotFound() }
func (s *Server) apiAdminMemberAdd(c echo.Context) error    { return adminNotFound() }
func (s *Server) apiAdminMember(c echo.Context) error       { return adminNotFound() }
func (s *Server) apiAdminMemberUpdate(c echo.Context) error { return adminNotFound() }
func (s *Server) apiAdminMemberRemove(c echo.Context) error { return adminNotFound() }
func (s *Server) apiAdminMemberRoles(c echo.Context) error  { return adminNotFound() }
func (s *Server) apiAdminMemberEvents(c echo.Context) error { return adminNotFound() }
func (s *Server) apiAdminBlock(c echo.Context) error        { return adminNotFound() }
func (s *Server) apiAdminUnblock(c echo.Context) error      { return adminNotFound() }
func (s *Server) apiAdminEndSessions(c echo.Context) error  { return adminNotFound() }
func (s *Server) apiAdminOrgEvents(c echo.Context) error    { return adminNotFound() }
func (s *Server) apiAdminEvents(c echo.Context) error       { return adminNotFound() }
