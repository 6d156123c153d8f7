// Package postgres stores Passport's domain in PostgreSQL through pgx. It knows nothing
// about HTTP or the OpenID protocol. Each exported method is one transaction.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/passport-idp/passport/internal/passport"
)

// DB is the PostgreSQL store.
type DB struct {
	pool *pgxpool.Pool
	// Now is the clock used for every expiry decision; tests move it.
	Now func() time.Time
}

// Open connects to the database at dsn with at most maxConns connections and checks that
// it answers.
func Open(ctx context.Context, dsn string, maxConns int) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("postgres: bad database URL: %w", err)
	}
	if maxConns > 0 {
		cfg.MaxConns = int32(maxConns)
	}
	cfg.ConnConfig.Tracer = faultTracer{}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: cannot reach the database: %w", err)
	}
	return &DB{pool: pool, Now: time.Now}, nil
}

// Close closes every connection.
func (db *DB) Close() { db.pool.Close() }

// Ping checks that the database answers.
func (db *DB) Ping(ctx context.Context) error { return db.pool.Ping(ctx) }

// Pool exposes the pool for tests and tools.
func (db *DB) Pool() *pgxpool.Pool { return db.pool }

func (db *DB) now() time.Time { return db.Now().UTC() }

// tx runs fn in a transaction and commits when it returns nil.
func (db *DB) tx(ctx context.Context, fn func(pgx.Tx) error) error {
	return pgx.BeginFunc(ctx, db.pool, fn)
}

// mapErr turns driver errors into domain errors once, here: no rows → notFound (an
// ENOTFOUND error whose sentence says what is missing), unique violation → ECONFLICT.
// Anything else stays an internal error.
func mapErr(err error, notFound *passport.Error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return notFound
	}
	if isUniqueViolation(err) {
		return passport.Errorf(passport.ECONFLICT, "It already exists.")
	}
	return err
}

// isUniqueViolation reports whether err is PostgreSQL's unique_violation.
func isUniqueViolation(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "23505"
}

var uuidPattern = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

// isUUID guards look-ups by id so that a malformed id is "not found", not a driver error.
func isUUID(s string) bool { return uuidPattern.MatchString(s) }
