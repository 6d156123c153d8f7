package web

import (
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/passport-idp/passport/internal/passport"
	"github.com/passport-idp/passport/internal/postgres"
)

// statusOf maps a domain error code to its HTTP status.
var statusOf = map[string]int{
	passport.EINVALID:      http.StatusBadRequest,
	passport.ENOTFOUND:     http.StatusNotFound,
	passport.ECONFLICT:     http.StatusConflict,
	passport.EUNAUTHORIZED: http.StatusUnauthorized,
	passport.EFORBIDDEN:    http.StatusForbidden,
	passport.ELIMITED:      http.StatusTooManyRequests,
	passport.ETOOLARGE:     http.StatusRequestEntityTooLarge,
	passport.EUNAVAILABLE:  http.StatusServiceUnavailable,
	passport.EINTERNAL:     http.StatusInternalServerError,
}

// asUnavailable turns a failure in a request that met an unreachable database into
// EUNAVAILABLE (503, try again), whatever error the code on the way made of it ("not found",
// "forbidden"): it is nobody's mistake, and the answer must not say otherwise.
func asUnavailable(c echo.Context, err error) error {
	code := passport.ErrorCode(err)
	if code != passport.EUNAVAILABLE && (unavailable(c) || (code == passport.EINTERNAL && postgres.Unavailable(err))) {
		return passport.Errorf(passport.EUNAVAILABLE, "Passport is temporarily unavailable. Try again in a few seconds.")
	}
	return err
}

type errorPage struct {
	Base
	// Heading, Message and Detail are in the request's language already.
	Heading string
	Message string
	Detail  string // technical detail for the application's developer
}

// httpErrorMessages explain the router's own errors.
var httpErrorMessages = map[int]*passport.Error{
	http.StatusNotFound:              {Message: "There is no page at this address."},
	http.StatusMethodNotAllowed:      {Message: "This address does not accept this kind of request."},
	http.StatusRequestEntityTooLarge: {Message: "What you sent is too large."},
}

// handleError is the one place errors become responses. Domain errors show their safe
// message; anything else is logged with the request id and shown as a generic page, never
// with its text.
func (s *Server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	err = asUnavailable(c, err)
	if passport.ErrorCode(err) == passport.EUNAVAILABLE {
		c.Response().Header().Set("Retry-After", retryAfter)
	}
	// The API and the JSON documents (profile.json) answer errors in JSON.
	if p := c.Request().URL.Path; strings.HasPrefix(p, "/api/") || strings.HasSuffix(p, ".json") {
		s.apiErrorResponse(c, err)
		return
	}
	// The heading is a sentence of the catalogue: "Something went wrong", or the status's
	// text ("Not Found"), which the catalogue has too.
	status, heading, message := http.StatusInternalServerError, "Something went wrong", passport.AsError(err)
	var he *echo.HTTPError
	switch {
	case errors.As(err, &he):
		status = he.Code
		heading = http.StatusText(he.Code)
		message = httpErrorMessages[he.Code]
		if message == nil {
			message = &passport.Error{Message: "The request could not be processed."}
		}
	case passport.ErrorCode(err) != passport.EINTERNAL:
		status = statusOf[passport.ErrorCode(err)]
		heading = http.StatusText(status)
	default:
		s.logInternal(c, err)
	}
	if err := s.renderError(c, status, heading, message); err != nil {
		s.log.ErrorContext(c.Request().Context(), "rendering the error page", slog.String("error", err.Error()))
		_ = c.String(status, message.English())
	}
}

// renderError shows an error page; heading is a sentence of the catalogue.
func (s *Server) renderError(c echo.Context, status int, heading string, message *passport.Error) error {
	if c.Request().Method == http.MethodHead {
		return c.NoContent(status)
	}
	c.Response().Header().Set("Content-Security-Policy", cspPage)
	c.Response().Header().Set("Cache-Control", "no-store")
	return s.page(c, status, "error", errorPage{Base: s.base(c, heading), Heading: s.text(c, heading), Message: s.errText(c, message)})
}

// unavailablePage is the 503 page for a request the database's absence broke.
func (s *Server) unavailablePage(c echo.Context) error {
	c.Response().Header().Set("Retry-After", retryAfter)
	return s.renderError(c, http.StatusServiceUnavailable, "Temporarily unavailable",
		&passport.Error{Message: "Passport cannot answer right now. Wait a few seconds and try again."})
}

func (s *Server) logInternal(c echo.Context, err error) {
	s.log.ErrorContext(c.Request().Context(), "internal error", slog.String("error", err.Error()),
		slog.String("path", c.Request().URL.Path))
}

// asDomain is errors.As for *passport.Error.
func asDomain(err error, target **passport.Error) bool { return errors.As(err, target) }
