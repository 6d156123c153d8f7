package postgres

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/passport-idp/passport/internal/passport"
)

// Unavailable reports whether err means the database could not be reached or could not
// serve (connection refused or lost, server shutting down or starting, too many
// connections), as opposed to a query that the database answered with an error.
func Unavailable(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) {
		return false
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		// 08: connection exception; 57P01-03: admin or crash shutdown, cannot connect now;
		// 53300: too many connections.
		return strings.HasPrefix(pgErr.Code, "08") || pgErr.Code == "57P01" || pgErr.Code == "57P02" ||
			pgErr.Code == "57P03" || pgErr.Code == "53300"
	}
	var connectErr *pgconn.ConnectError
	var netErr net.Error
	return errors.As(err, &connectErr) || errors.As(err, &netErr) || errors.Is(err, io.EOF) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) || pgconn.Timeout(err) ||
		pgconn.SafeToRetry(err) || errors.Is(err, context.DeadlineExceeded) ||
		strings.Contains(err.Error(), "conn closed")
}

// faultTracer notes in the request's context (passport.NoteUnavailable) every failure to
// reach the database, wherever it happens — a query, a transaction, taking a connection
// from the pool — so the web layer can answer "temporarily unavailable" instead of turning
// the failure into something that blames the caller.
type faultTracer struct{}

var (
	_ pgx.QueryTracer       = faultTracer{}
	_ pgxpool.AcquireTracer = faultTracer{}
)

func (faultTracer) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	return ctx
}

func (faultTracer) TraceQueryEnd(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryEndData) {
	if Unavailable(d.Err) {
		passport.NoteUnavailable(ctx)
	}
}

func (faultTracer) TraceAcquireStart(ctx context.Context, _ *pgxpool.Pool, _ pgxpool.TraceAcquireStartData) context.Context {
	return ctx
}

func (faultTracer) TraceAcquireEnd(ctx context.Context, _ *pgxpool.Pool, d pgxpool.TraceAcquireEndData) {
	if Unavailable(d.Err) {
		passport.NoteUnavailable(ctx)
	}
}
