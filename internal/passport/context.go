package passport

import (
	"context"
	"sync/atomic"
)

type ctxKey int

const (
	browserKey ctxKey = iota
	requestIDKey
)

// WithBrowser returns a context carrying the browser of the current request.
func WithBrowser(ctx context.Context, b *Browser) context.Context {
	return context.WithValue(ctx, browserKey, b)
}

// BrowserFrom returns the browser of the current request, or nil.
func BrowserFrom(ctx context.Context) *Browser {
	b, _ := ctx.Value(browserKey).(*Browser)
	return b
}

// WithRequestID returns a context carrying the request id for logs.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey, id)
}

// RequestID returns the request id of ctx, or "".
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey).(string)
	return id
}

// Faults records, for one request, that a dependency failed in a way that is not the
// caller's doing (today: the database could not be reached). The store notes it where it
// sees the failure; the web layer reads it when it answers, so a database outage becomes
// "503, try again" and never "your credentials are wrong".
type Faults struct{ unavailable atomic.Bool }

const faultsKey ctxKey = requestIDKey + 1

// WithFaults returns a context that records faults in f.
func WithFaults(ctx context.Context, f *Faults) context.Context {
	return context.WithValue(ctx, faultsKey, f)
}

// NoteUnavailable records in ctx's Faults, if any, that the database was unreachable.
func NoteUnavailable(ctx context.Context) {
	if f, _ := ctx.Value(faultsKey).(*Faults); f != nil {
		f.unavailable.Store(true)
	}
}

// Unavailable reports whether the request of ctx met an unreachable database.
func Unavailable(ctx context.Context) bool {
	f, _ := ctx.Value(faultsKey).(*Faults)
	return f != nil && f.unavailable.Load()
}
