package web

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// routes registers every route of Passport, so the whole surface reads at a glance. The
// OpenID Provider gets explicit paths and methods, so Echo answers 404 and 405 itself.
func (s *Server) routes() {
	e := s.echo
	e.Use(s.requestID, s.logRequests, s.recoverPanics)

	// Probes.
	e.GET("/healthz", s.handleHealthz)
	e.GET("/readyz", s.handleReadyz)

	// Static files.
	e.GET("/static/*", s.handleStatic)

	// Pages. browser loads the browser cookie and session; csrf guards every unsafe method.
	// (Not an echo.Group: a group with middleware and an empty prefix catches every path.)
	page := []echo.MiddlewareFunc{s.pageHeaders, s.browser, s.csrf}
	e.GET("/", s.handleHome, page...)
	e.GET("/signin", s.handleSigninForm, page...)
	e.POST("/signin", s.handleSigninSubmit, page...)
	e.POST("/signin/cancel", s.handleSigninCancel, page...)
	e.GET("/consent", s.handleConsentForm, page...)
	e.POST("/consent", s.handleConsentSubmit, page...)
	e.GET("/signout", s.handleSignoutForm, page...)
	e.POST("/signout", s.handleSignoutSubmit, page...)
	e.GET("/signed-out", s.handleSignedOut, page...)

	// OpenID Provider. Routes a browser visits get the browser in their context; /authorize
	// errors that the library prints as plain text become an HTML page.
	h := echo.WrapHandler(s.oidc)
	get := []string{http.MethodGet, http.MethodOptions}
	post := []string{http.MethodPost, http.MethodOptions}
	getPost := []string{http.MethodGet, http.MethodPost, http.MethodOptions}
	e.Match(get, "/.well-known/openid-configuration", h, s.protocolHeaders)
	e.Match(get, "/keys", h, s.protocolHeaders)
	e.Match(getPost, "/authorize", h, s.protocolHeaders, s.browser, s.htmlErrors)
	e.GET("/authorize/callback", h, s.protocolHeaders, s.browser, s.htmlErrors)
	e.Match(getPost, "/end_session", h, s.protocolHeaders, s.browser)
	e.Match(post, "/oauth/token", h, s.protocolHeaders, noStore)
	e.Match(post, "/oauth/introspect", h, s.protocolHeaders, noStore)
	e.Match(post, "/revoke", h, s.protocolHeaders, noStore)
	e.Match(getPost, "/userinfo", h, s.protocolHeaders, noStore, s.bearerErrors)
}
