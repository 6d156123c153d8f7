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
//
// The message is not built here: Message is a sentence of the catalogue (internal/i18n),
// written as its English text and a fmt format, and Args are its arguments. The web layer
// shows it in the person's language; logs and the command line show the English. An
// argument of type Text is itself a sentence of the catalogue (a field's label) and is
// translated too.
type Error struct {
	Code    string
	Message string
	Args    []any
	// Field names the input the message is about, when there is one.
	Field string
}

// Text is an argument of a message that is itself a sentence of the catalogue.
type Text string

// Count is a number argument that chooses the message's plural form: the catalogue keeps
// the sentence's forms under its English plural ("Wrong code. %d attempts left.").
type Count int

// PluralCount makes Count known to the catalogue.
func (c Count) PluralCount() int { return int(c) }

// English is the message in English, its arguments filled in.
func (e *Error) English() string {
	if len(e.Args) == 0 {
		return e.Message
	}
	return fmt.Sprintf(e.Message, e.Args...)
}

func (e *Error) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("passport: %s: %s (%s)", e.Code, e.English(), e.Field)
	}
	return fmt.Sprintf("passport: %s: %s", e.Code, e.English())
}

// Errorf returns an *Error with the given code and a message of the catalogue with its
// arguments (formatted only when shown).
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: format, Args: args}
}

// FieldError returns an EINVALID error about one input field.
func FieldError(field, format string, args ...any) *Error {
	return &Error{Code: EINVALID, Field: field, Message: format, Args: args}
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

// internalError is what a person is told about a failure that is ours.
var internalError = &Error{Code: EINTERNAL, Message: "Something went wrong on our side. Please try again later."}

// AsError returns err's *Error, or a generic internal one that reveals nothing.
func AsError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return internalError
}

// ErrorMessage returns the safe message of err in English (for logs and the command line),
// or a generic one for internal errors.
func ErrorMessage(err error) string { return AsError(err).English() }
