// Package pgtest gives each test package its own throwaway PostgreSQL database, cloned from
// a template that is migrated once per schema version. It fails loudly when no server is
// reachable: `make test` always brings one up.
package pgtest

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/passport-idp/passport/internal/postgres"
	"github.com/passport-idp/passport/migrations"
)

// AdminURL is the server to create test databases on: PASSPORT_TEST_DATABASE_URL, else the
// local server that `make test` brings up.
func AdminURL() string {
	if u := os.Getenv("PASSPORT_TEST_DATABASE_URL"); u != "" {
		return u
	}
	return "postgres://passport:passport@127.0.0.1:5432/postgres?sslmode=disable"
}

// templateLock serialises template creation between test packages running in parallel.
const templateLock = 7_420_100

// NewURL creates a fresh database for the calling test package, migrated to the current
// schema, and returns its URL. The database is dropped when cleanup is called.
func NewURL() (dsn string, cleanup func(), err error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	admin, err := pgx.Connect(ctx, AdminURL())
	if err != nil {
		return "", nil, fmt.Errorf("pgtest: no PostgreSQL at %s (run `make test`, or set PASSPORT_TEST_DATABASE_URL): %w", redact(AdminURL()), err)
	}
	defer admin.Close(context.Background())

	tmpl, err := ensureTemplate(ctx, admin)
	if err != nil {
		return "", nil, err
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "passport_test_" + hex.EncodeToString(b)
	if _, err := admin.Exec(ctx, fmt.Sprintf(`CREATE DATABASE %s TEMPLATE %s`, name, tmpl)); err != nil {
		return "", nil, fmt.Errorf("pgtest: create database: %w", err)
	}
	cleanup = func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if c, err := pgx.Connect(ctx, AdminURL()); err == nil {
			_, _ = c.Exec(ctx, fmt.Sprintf(`DROP DATABASE IF EXISTS %s WITH (FORCE)`, name))
			c.Close(ctx)
		}
	}
	return withDatabase(AdminURL(), name), cleanup, nil
}

// ensureTemplate returns the name of a migrated template database for the current set of
// migrations, creating it once.
func ensureTemplate(ctx context.Context, admin *pgx.Conn) (string, error) {
	names, _ := fs.Glob(migrations.FS, "*.sql")
	sort.Strings(names)
	h := sha256.New()
	for _, n := range names {
		b, _ := fs.ReadFile(migrations.FS, n)
		h.Write([]byte(n))
		h.Write(b)
	}
	tmpl := "passport_tmpl_" + hex.EncodeToString(h.Sum(nil))[:16]

	if _, err := admin.Exec(ctx, `SELECT pg_advisory_lock($1)`, templateLock); err != nil {
		return "", fmt.Errorf("pgtest: %w", err)
	}
	defer admin.Exec(context.Background(), `SELECT pg_advisory_unlock($1)`, templateLock) //nolint:errcheck // released on close too

	var exists bool
	if err := admin.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, tmpl).Scan(&exists); err != nil {
		return "", fmt.Errorf("pgtest: %w", err)
	}
	if exists {
		return tmpl, nil
	}
	building := tmpl + "_wip"
	if _, err := admin.Exec(ctx, fmt.Sprintf(`DROP DATABASE IF EXISTS %s WITH (FORCE)`, building)); err != nil {
		return "", fmt.Errorf("pgtest: %w", err)
	}
	if _, err := admin.Exec(ctx, fmt.Sprintf(`CREATE DATABASE %s`, building)); err != nil {
		return "", fmt.Errorf("pgtest: create template: %w", err)
	}
	if _, err := postgres.Migrate(ctx, withDatabase(AdminURL(), building)); err != nil {
		return "", fmt.Errorf("pgtest: migrate template: %w", err)
	}
	if _, err := admin.Exec(ctx, fmt.Sprintf(`ALTER DATABASE %s RENAME TO %s`, building, tmpl)); err != nil {
		return "", fmt.Errorf("pgtest: %w", err)
	}
	return tmpl, nil
}

// New opens a fresh migrated database for one test package or test. It fails the test when
// PostgreSQL is unreachable and drops the database when the test ends.
func New(t testing.TB) *postgres.DB {
	t.Helper()
	dsn, cleanup, err := NewURL()
	if err != nil {
		t.Fatal(err)
	}
	db, err := postgres.Open(context.Background(), dsn, 10)
	if err != nil {
		cleanup()
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close(); cleanup() })
	return db
}

func withDatabase(dsn, name string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return dsn
	}
	u.Path = "/" + name
	return u.String()
}

func redact(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return "(bad URL)"
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxx")
	}
	return strings.ReplaceAll(u.String(), "%20", " ")
}
