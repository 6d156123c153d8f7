package passport

import "context"

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
