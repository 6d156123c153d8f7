package main

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func countRows(t *testing.T, query string, args ...any) int {
	t.Helper()
	var n int
	if err := openDB(t).Pool().QueryRow(context.Background(), query, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestCLIUserCreate(t *testing.T) {
	out := mustCLI(t, "user", "create", "--login", "Émilie", "--email", "emilie@EXAMPLE.org", "--password", "principia-1759",
		"--given-name", "Émilie", "--family-name", "du Châtelet")
	if !regexp.MustCompile(`^[0-9a-f-]{36}\n$`).MatchString(out) {
		t.Fatalf("want the new id, got %q", out)
	}
	a, err := openDB(t).AccountByLogin(context.Background(), "ÉMILIE")
	if err != nil || a.Email != "emilie@example.org" || a.FamilyName != "du Châtelet" || !strings.HasPrefix(a.PasswordHash, "$argon2id$") {
		t.Fatalf("stored account: %+v, %v", a, err)
	}

	for name, tc := range map[string]struct {
		args []string
		want string
	}{
		"duplicate login, other case": {[]string{"--login", "émilie", "--email", "x@example.org", "--password", "another-pass-12"}, "already taken"},
		"bad email":                   {[]string{"--login", "bad-email", "--email", "not-an-email", "--password", "another-pass-12"}, "--email"},
		"short password":              {[]string{"--login", "short-pw", "--email", "s@example.org", "--password", "a1"}, "at least 8"},
		"password without digit":      {[]string{"--login", "nodigit", "--email", "s@example.org", "--password", "onlyletters"}, "letter and one digit"},
		"password equals login":       {[]string{"--login", "samename1", "--email", "s@example.org", "--password", "SameName1"}, "same as the login"},
		"common password":             {[]string{"--login", "commoner", "--email", "s@example.org", "--password", "password1"}, "too common"},
		"missing login":               {[]string{"--email", "s@example.org", "--password", "another-pass-12"}, "Login is required"},
		"login with a space":          {[]string{"--login", "two words", "--email", "s@example.org", "--password", "another-pass-12"}, "spaces"},
	} {
		t.Run(name, func(t *testing.T) {
			before := countRows(t, `SELECT count(*) FROM accounts`)
			code, stdout, stderr := cli(t, env(), append([]string{"user", "create"}, tc.args...)...)
			if code != 1 || stdout != "" || !strings.Contains(stderr, tc.want) {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit 1 and %q", code, stdout, stderr, tc.want)
			}
			if after := countRows(t, `SELECT count(*) FROM accounts`); after != before {
				t.Errorf("accounts: %d before, %d after; want nothing written", before, after)
			}
		})
	}
}

func TestCLIClientCreate(t *testing.T) {
	out := mustCLI(t, "client", "create", "--id", "cli-app", "--redirect-uri", "https://app.example/cb",
		"--redirect-uri", "http://localhost:3000/cb", "--post-logout-redirect-uri", "https://app.example/", "--name", "CLI App")
	m := regexp.MustCompile(`client_secret: (\S+)`).FindStringSubmatch(out)
	if m == nil || len(m[1]) < 32 {
		t.Fatalf("want a generated secret, got %q", out)
	}
	c, err := openDB(t).Client(context.Background(), "cli-app")
	if err != nil || len(c.RedirectURIs) != 2 || c.Public || c.Name != "CLI App" {
		t.Fatalf("stored client: %+v, %v", c, err)
	}
	mustCLI(t, "client", "create", "--id", "cli-spa", "--public", "--redirect-uri", "com.example.app:/cb")

	for name, tc := range map[string]struct {
		args []string
		want string
	}{
		"duplicate id":       {[]string{"--id", "cli-app", "--redirect-uri", "https://a.example/cb"}, "already exists"},
		"no redirect":        {[]string{"--id", "cli-none"}, "redirect URI is required"},
		"http redirect":      {[]string{"--id", "cli-http", "--redirect-uri", "http://app.example/cb"}, "plain http"},
		"fragment":           {[]string{"--id", "cli-frag", "--redirect-uri", "https://app.example/cb#x"}, "fragment"},
		"relative":           {[]string{"--id", "cli-rel", "--redirect-uri", "/cb"}, "absolute"},
		"public with secret": {[]string{"--id", "cli-pub", "--public", "--secret", "0123456789abcdef", "--redirect-uri", "https://a.example/cb"}, "public client has no secret"},
		"short secret":       {[]string{"--id", "cli-short", "--secret", "abc", "--redirect-uri", "https://a.example/cb"}, "at least 16"},
		"bad id":             {[]string{"--id", "has:colon", "--redirect-uri", "https://a.example/cb"}, "Client ID"},
		"unknown grant":      {[]string{"--id", "cli-grant", "--grant-type", "password", "--redirect-uri", "https://a.example/cb"}, "Unknown grant type"},
		"public cc":          {[]string{"--id", "cli-pcc", "--public", "--grant-type", "client_credentials"}, "cannot use client_credentials"},
	} {
		t.Run(name, func(t *testing.T) {
			before := countRows(t, `SELECT count(*) FROM clients`)
			code, stdout, stderr := cli(t, env(), append([]string{"client", "create"}, tc.args...)...)
			if code != 1 || stdout != "" || !strings.Contains(stderr, tc.want) {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit 1 and %q", code, stdout, stderr, tc.want)
			}
			if after := countRows(t, `SELECT count(*) FROM clients`); after != before {
				t.Errorf("clients: %d before, %d after; want nothing written", before, after)
			}
		})
	}
}

func TestCLIUsageAndConfig(t *testing.T) {
	for _, args := range [][]string{{"serve", "--help"}, {"migrate", "-h"}, {"user", "create", "--help"}, {"client", "create", "--help"}, {"help"}} {
		code, stdout, stderr := cli(t, env(), args...)
		if code != 0 || !strings.Contains(stdout+stderr, "Usage") {
			t.Errorf("%v: exit %d, output %q", args, code, stdout+stderr)
		}
	}
	if code, _, stderr := cli(t, env(), "frobnicate"); code != 2 || !strings.Contains(stderr, "unknown command") {
		t.Errorf("unknown command: exit %d %q", code, stderr)
	}
	if code, _, _ := cli(t, env(), "user", "create", "--no-such-flag"); code != 2 {
		t.Errorf("unknown flag: exit %d, want 2", code)
	}
	if code, _, _ := cli(t, env()); code != 2 {
		t.Errorf("no command: exit %d, want 2", code)
	}

	// A bad value stops start-up with a message that names the key.
	for key, value := range map[string]string{
		"PASSPORT_ISSUER":                       "not a url",
		"PASSPORT_LISTEN":                       "8080",
		"PASSPORT_DATABASE_URL":                 "mysql://x",
		"PASSPORT_SECRET_KEY":                   "c2hvcnQ=",
		"PASSPORT_TOKENS_ACCESS_TOKEN_LIFETIME": "soon",
		"PASSPORT_LOG_LEVEL":                    "loud",
		"PASSPORT_RATE_LIMIT_SIGNIN_PER_IP":     "many",
	} {
		code, _, stderr := cli(t, env(key, value), "serve")
		name := strings.ToLower(strings.TrimPrefix(key, "PASSPORT_"))
		if code != 1 || !(strings.Contains(stderr, key) || strings.Contains(stderr, name) || strings.Contains(strings.ReplaceAll(stderr, ".", "_"), name)) {
			t.Errorf("%s=%q: exit %d, stderr %q; want the key named", key, value, code, stderr)
		}
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "passport.toml")
	if err := os.WriteFile(file, []byte("issuer = \"http://localhost:8080\"\n[tokens]\naccess_token_lifetim = \"5m\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := cli(t, env(), "migrate", "--config", file); code != 1 || !strings.Contains(stderr, "tokens.access_token_lifetim") {
		t.Errorf("unknown key in file: exit %d %q", code, stderr)
	}
	// The shipped example configuration loads as it is.
	if code, out, stderr := cli(t, env(), "migrate", "--config", "../../config/passport.example.toml"); code != 0 || !strings.Contains(out, "up to date") {
		t.Errorf("example config: exit %d %q %q", code, out, stderr)
	}
}
