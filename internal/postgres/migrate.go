package postgres

import (
	"context"
	"fmt"
	"io/fs"
	"sort"

	"github.com/jackc/pgx/v5"

	"github.com/passport-idp/passport/migrations"
)

// migrationLock is the pg_advisory_lock key that serialises migrations across replicas.
const migrationLock = 7_420_001

// Migrate applies every migration not yet applied, in name order, each in its own
// transaction, and returns the names it applied. It holds a session advisory lock on one
// connection for the whole run, so replicas that start together apply each file once.
func (db *DB) Migrate(ctx context.Context) ([]string, error) {
	return Migrate(ctx, db.pool.Config().ConnConfig.ConnString())
}

// Migrate connects to dsn and applies pending migrations (see DB.Migrate).
func Migrate(ctx context.Context, dsn string) ([]string, error) {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return nil, fmt.Errorf("postgres: cannot reach the database: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))

	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", migrationLock); err != nil {
		return nil, fmt.Errorf("postgres: migration lock: %w", err)
	}
	defer conn.Exec(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", migrationLock) //nolint:errcheck // closing the connection releases it too

	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	rows, _ := conn.Query(ctx, "SELECT name FROM schema_migrations")
	done, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	applied := map[string]bool{}
	for _, n := range done {
		applied[n] = true
	}
	names, err := fs.Glob(migrations.FS, "*.sql")
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	var ran []string
	for _, name := range names {
		if applied[name] {
			continue
		}
		sql, err := fs.ReadFile(migrations.FS, name)
		if err != nil {
			return ran, err
		}
		err = pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, string(sql)); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, "INSERT INTO schema_migrations (name) VALUES ($1)", name)
			return err
		})
		if err != nil {
			return ran, fmt.Errorf("postgres: migration %s: %w", name, err)
		}
		ran = append(ran, name)
	}
	return ran, nil
}
