package web

import "github.com/labstack/echo/v4"

// CSV imports of members (helper C).

// importRoutes registers this part's routes.
func (s *Server) importRoutes(e *echo.Echo, api, adm *echo.Group, page []echo.MiddlewareFunc) {}
