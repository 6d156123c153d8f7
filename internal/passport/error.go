// Package passport is the domain at the centre of Passport: accounts, clients, sessions,
// auth requests and the pure rules that govern them (login folding, password policy and
// hashing, claim release). It imports nothing of ours and knows nothing of HTTP or SQL.
package passport

import (
	"errors"
	"fmt"
)

// Error codes. Each maps to one HTTP status in the web layer.
const (
	EINVALID      = "invalid"      // the caller's input is wrong
	ENOTFOUND     = "not_found"    // no such thing
	ECONFLICT     = "conflict"     // it already exists / state does not allow it
	EUNAUTHORIZED = "unauthorized" // who you are is unknown or wrong
	EFORBIDDEN    = "forbidden"    // you may not
	ELIMITED      = "rate_limited" // too many attempts
	ETOOLARGE     = "too_large"    // the request body is over its limit
	EUNAVAILABLE  = "unavailable"  // busy or a dependency is down: try again shortly
	EINTERNAL     = "internal"     // our fault; never shown in detail
)

// Error is a domain error: a code and a message that is safe to show to a person.
type Error struct {
	Code    string
	Message string
	// Field names the input the message is about, when there is one.
	Field string
}

func (e *Error) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("passport: %s: %s (%s)", e.Code, e.Message, e.Field)
	}
	return fmt.Sprintf("passport: %s: %s", e.Code, e.Message)
}

// Errorf returns an *Error with the given code and a formatted, human-readable message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// FieldError returns an EINVALID error about one input field.
func FieldError(field, format string, args ...any) *Error {
	return &Error{Code: EINVALID, Field: field, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of err if it is (or wraps) an *Error, EINTERNAL otherwise
// and "" for nil.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the safe message of err, or a generic one for internal errors.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "Something went wrong on our side. Please try again later."
}
