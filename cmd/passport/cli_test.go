package main

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/passport-idp/passport/internal/passport"
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
	for _, args := range [][]string{{"serve", "--help"}, {"migrate", "-h"}, {"user", "create", "--help"}, {"client", "create", "--help"}, {"help"},
		{"org", "create", "--help"}, {"org", "list", "-h"}, {"org", "role", "--help"}, {"admin", "grant", "--help"},
		{"admin", "revoke", "--help"}, {"member", "add", "--help"}} {
		code, stdout, stderr := cli(t, env(), args...)
		if code != 0 || !strings.Contains(stdout+stderr, "Usage") {
			t.Errorf("%v: exit %d, output %q", args, code, stdout+stderr)
		}
	}
	if code, _, stderr := cli(t, env(), "frobnicate"); code != 2 || !strings.Contains(stderr, "unknown command") {
		t.Errorf("unknown command: exit %d %q", code, stderr)
	}
	if code, _, stderr := cli(t, env(), "org", "frobnicate"); code != 2 || !strings.Contains(stderr, `unknown command "org frobnicate"`) {
		t.Errorf("unknown org subcommand: exit %d %q", code, stderr)
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

// refused runs a command that must fail: exit 1, nothing on stdout, want in the message,
// and no row added to any of tables.
func refused(t *testing.T, want string, tables []string, args ...string) {
	t.Helper()
	before := map[string]int{}
	for _, tb := range tables {
		before[tb] = countRows(t, `SELECT count(*) FROM `+tb)
	}
	code, stdout, stderr := cli(t, env(), args...)
	if code != 1 || stdout != "" || !strings.Contains(stderr, want) {
		t.Errorf("%s: exit %d, stdout %q, stderr %q; want exit 1 and %q", strings.Join(args, " "), code, stdout, stderr, want)
	}
	for _, tb := range tables {
		if after := countRows(t, `SELECT count(*) FROM `+tb); after != before[tb] {
			t.Errorf("%s: %s has %d rows, had %d; want nothing written", strings.Join(args, " "), tb, after, before[tb])
		}
	}
}

var adminTables = []string{"organisations", "org_roles", "memberships", "admin_grants", "clients", "security_events"}

// TestCLIOrganisations: org create prints the id and records org.created; org list shows
// it; org role saves a role named per language; refused lines write nothing.
func TestCLIOrganisations(t *testing.T) {
	out := mustCLI(t, "org", "create", "--alias", "cli-acme", "--name", "  Acme Haulage  ")
	id := strings.TrimSpace(out)
	if !regexp.MustCompile(`^[0-9a-f-]{36}\n$`).MatchString(out) {
		t.Fatalf("want the new id, got %q", out)
	}
	o, err := openDB(t).OrgByAlias(context.Background(), "cli-acme")
	if err != nil || o.ID != id || o.Name != "Acme Haulage" || o.Status != "active" {
		t.Fatalf("stored organisation: %+v, %v", o, err)
	}
	if n := countRows(t, `SELECT count(*) FROM security_events WHERE type = 'org.created' AND org_id = $1 AND actor_kind = 'system'`, id); n != 1 {
		t.Errorf("org.created events: %d, want 1", n)
	}
	list := mustCLI(t, "org", "list")
	if !regexp.MustCompile(`(?m)^cli-acme\s+Acme Haulage\s+active\s+`+id+`$`).MatchString(list) || !strings.HasPrefix(list, "ALIAS") {
		t.Errorf("org list: %q", list)
	}

	if out := mustCLI(t, "org", "role", "--org", "cli-acme", "--key", "senior_operator", "--name-en", "Senior operator",
		"--name-ru", "Старший оператор"); !strings.Contains(out, "senior_operator") {
		t.Errorf("org role: %q", out)
	}
	roles, err := openDB(t).Roles(context.Background(), id)
	if err != nil || len(roles) != 1 || roles[0].Key != "senior_operator" || roles[0].Names["ru"] != "Старший оператор" ||
		len(roles[0].Names) != 2 {
		t.Fatalf("stored roles: %+v, %v", roles, err)
	}
	// Saving it again renames it.
	mustCLI(t, "org", "role", "--org", "cli-acme", "--key", "senior_operator", "--name-en", "Lead operator")
	if roles, _ := openDB(t).Roles(context.Background(), id); len(roles) != 1 || roles[0].Name("en") != "Lead operator" {
		t.Errorf("renamed role: %+v", roles)
	}

	for name, tc := range map[string]struct {
		want string
		args []string
	}{
		"duplicate alias":     {"--alias: This alias is taken", []string{"org", "create", "--alias", "cli-acme", "--name", "Other"}},
		"bad alias":           {"--alias: An alias is 1 to 63", []string{"org", "create", "--alias", "Not An Alias", "--name", "X"}},
		"blank name":          {"--name:", []string{"org", "create", "--alias", "cli-blank", "--name", "   "}},
		"role, unknown org":   {`--org: no organisation has the alias "cli-nowhere"`, []string{"org", "role", "--org", "cli-nowhere", "--key", "driver", "--name-en", "Driver"}},
		"role, bad key":       {"--key: A role key is", []string{"org", "role", "--org", "cli-acme", "--key", "Driver!", "--name-en", "Driver"}},
		"role, no name":       {"--name-*: Give the role a name", []string{"org", "role", "--org", "cli-acme", "--key", "driver"}},
		"role, only a blank":  {"--name-*: Give the role a name", []string{"org", "role", "--org", "cli-acme", "--key", "driver", "--name-sv", "  "}},
		"role, org by no one": {"no organisation has the alias", []string{"org", "role", "--org", "00000000-0000-0000-0000-000000000000", "--key", "x", "--name-en", "X"}},
	} {
		t.Run(name, func(t *testing.T) { refused(t, tc.want, adminTables, tc.args...) })
	}
	// A missing flag is a usage mistake.
	if code, _, stderr := cli(t, env(), "org", "create", "--alias", "cli-noname"); code != 2 || !strings.Contains(stderr, "--name is required") {
		t.Errorf("missing --name: exit %d %q", code, stderr)
	}
}

// TestCLIAdminGrant: grant and revoke each administrative role by login, with events;
// unknown logins, organisations and roles are refused and write nothing.
func TestCLIAdminGrant(t *testing.T) {
	orgID := setupOrg(t, "cli-grants", "Grants Ltd")
	id := setupUser(t, "cli-boss", "grant-me-power-7")
	grants := func() []passport.Grant {
		t.Helper()
		g, err := openDB(t).AdminGrants(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		return g
	}
	if out := mustCLI(t, "admin", "grant", "--login", "CLI-Boss", "--role", "org_admin", "--org", "cli-grants"); out != "granted org_admin of cli-grants to cli-boss\n" {
		t.Errorf("grant: %q", out)
	}
	mustCLI(t, "admin", "grant", "--login", "cli-boss", "--role", "service_admin")
	mustCLI(t, "admin", "grant", "--login", "cli-boss", "--role", "reviewer", "--org", "cli-grants")
	want := []passport.Grant{{Role: "org_admin", OrgID: orgID}, {Role: "reviewer", OrgID: orgID}, {Role: "service_admin"}}
	if g := grants(); !reflect.DeepEqual(g, want) {
		t.Errorf("grants: %+v, want %+v", g, want)
	}
	if n := countRows(t, `SELECT count(*) FROM security_events WHERE type = 'admin.granted' AND account_id = $1`, id); n != 3 {
		t.Errorf("admin.granted events: %d, want 3", n)
	}
	// Granting again changes nothing and records nothing.
	mustCLI(t, "admin", "grant", "--login", "cli-boss", "--role", "service_admin")
	if n := countRows(t, `SELECT count(*) FROM security_events WHERE type = 'admin.granted' AND account_id = $1`, id); n != 3 {
		t.Errorf("admin.granted events after a repeated grant: %d, want 3", n)
	}

	if out := mustCLI(t, "admin", "revoke", "--login", "cli-boss", "--role", "service_admin"); out != "revoked service_admin from cli-boss\n" {
		t.Errorf("revoke: %q", out)
	}
	mustCLI(t, "admin", "revoke", "--login", "cli-boss", "--role", "reviewer", "--org", "cli-grants")
	if g := grants(); !reflect.DeepEqual(g, want[:1]) {
		t.Errorf("grants after revoking: %+v", g)
	}

	for name, tc := range map[string]struct {
		want string
		args []string
	}{
		"unknown login":               {`--login: no account has the login "nobody-here"`, []string{"admin", "grant", "--login", "nobody-here", "--role", "service_admin"}},
		"unknown org":                 {`--org: no organisation has the alias "cli-nowhere"`, []string{"admin", "grant", "--login", "cli-boss", "--role", "org_admin", "--org", "cli-nowhere"}},
		"bad role":                    {"--role: Choose one of the roles", []string{"admin", "grant", "--login", "cli-boss", "--role", "superuser"}},
		"org admin without an org":    {"--org: Name the organisation", []string{"admin", "grant", "--login", "cli-boss", "--role", "org_admin"}},
		"service admin with an org":   {"--org: A service administrator has no organisation", []string{"admin", "grant", "--login", "cli-boss", "--role", "service_admin", "--org", "cli-grants"}},
		"revoke what is not held":     {"cli-boss does not hold service_admin", []string{"admin", "revoke", "--login", "cli-boss", "--role", "service_admin"}},
		"revoke, unknown login":       {"--login: no account", []string{"admin", "revoke", "--login", "nobody-here", "--role", "org_admin", "--org", "cli-grants"}},
		"revoke, another org's grant": {"does not hold reviewer of cli-grants", []string{"admin", "revoke", "--login", "cli-boss", "--role", "reviewer", "--org", "cli-grants"}},
	} {
		t.Run(name, func(t *testing.T) { refused(t, tc.want, adminTables, tc.args...) })
	}
	if code, _, stderr := cli(t, env(), "admin", "grant", "--login", "cli-boss"); code != 2 || !strings.Contains(stderr, "--role is required") {
		t.Errorf("missing --role: exit %d %q", code, stderr)
	}
	if g := grants(); !reflect.DeepEqual(g, want[:1]) {
		t.Errorf("grants after the refused commands: %+v", g)
	}
}

// TestCLIMemberAdd: an existing account joins an organisation unmanaged, with catalogue
// roles and a position; the membership reaches the organization claim's source.
func TestCLIMemberAdd(t *testing.T) {
	orgID := setupOrg(t, "cli-members", "Members Ltd", "driver", "operator")
	id := setupUser(t, "cli-joiner", "join-the-club-8")
	if out := mustCLI(t, "member", "add", "--org", "cli-members", "--login", "cli-joiner", "--role", "driver", "--role", "operator",
		"--position", " Night shift "); out != id+"\n" {
		t.Errorf("member add: %q, want the account id", out)
	}
	a, err := openDB(t).Account(context.Background(), id)
	if err != nil || len(a.Memberships) != 1 {
		t.Fatalf("account: %+v, %v", a, err)
	}
	m := a.Memberships[0]
	if m.OrgID != orgID || m.Managed || !m.Primary || m.Position != "Night shift" || !reflect.DeepEqual(m.Roles, []string{"driver", "operator"}) {
		t.Errorf("membership: %+v", m)
	}
	if n := countRows(t, `SELECT count(*) FROM security_events WHERE type = 'member.added' AND account_id = $1 AND org_id = $2`, id, orgID); n != 1 {
		t.Errorf("member.added events: %d, want 1", n)
	}
	setupUser(t, "cli-joiner2", "join-the-club-9")
	for name, tc := range map[string]struct {
		want string
		args []string
	}{
		"already a member": {"already a member", []string{"member", "add", "--org", "cli-members", "--login", "cli-joiner"}},
		"unknown login":    {"--login: No account has this login", []string{"member", "add", "--org", "cli-members", "--login", "nobody-here"}},
		"unknown org":      {`--org: no organisation has the alias "cli-nowhere"`, []string{"member", "add", "--org", "cli-nowhere", "--login", "cli-joiner2"}},
		"bad role":         {"--role: The organisation has no role pilot", []string{"member", "add", "--org", "cli-members", "--login", "cli-joiner2", "--role", "driver", "--role", "pilot"}},
		"long position":    {"--position:", []string{"member", "add", "--org", "cli-members", "--login", "cli-joiner2", "--position", strings.Repeat("x", 300)}},
	} {
		t.Run(name, func(t *testing.T) { refused(t, tc.want, adminTables, tc.args...) })
	}
}

// TestCLIServiceAccountClient: --admin-org binds a client_credentials client with scope
// passport:admin to an organisation; without both, or for an unknown organisation, nothing
// is created.
func TestCLIServiceAccountClient(t *testing.T) {
	orgID := setupOrg(t, "cli-svc", "Service Ltd")
	out := mustCLI(t, "client", "create", "--id", "cli-svc-account", "--grant-type", "client_credentials",
		"--scope", "passport:admin", "--admin-org", "cli-svc")
	if !strings.Contains(out, "client_secret: ") || !strings.Contains(out, "service account of organisation cli-svc") {
		t.Errorf("output: %q", out)
	}
	c, err := openDB(t).Client(context.Background(), "cli-svc-account")
	if err != nil || c.AdminOrgID != orgID || !c.HasGrant("client_credentials") {
		t.Fatalf("stored client: %+v, %v", c, err)
	}
	// Without --admin-org the client is not bound.
	mustCLI(t, "client", "create", "--id", "cli-svc-unbound", "--grant-type", "client_credentials", "--scope", "passport:admin")
	if c, err := openDB(t).Client(context.Background(), "cli-svc-unbound"); err != nil || c.AdminOrgID != "" {
		t.Errorf("unbound client: %+v, %v", c, err)
	}
	for name, tc := range map[string]struct {
		want string
		args []string
	}{
		"no admin scope":   {"--admin-org: a service account needs", []string{"--id", "cli-svc-a", "--grant-type", "client_credentials", "--admin-org", "cli-svc"}},
		"no cc grant":      {"--admin-org: a service account needs", []string{"--id", "cli-svc-b", "--redirect-uri", "https://a.example/cb", "--scope", "passport:admin", "--admin-org", "cli-svc"}},
		"unknown org":      {`--admin-org: no organisation has the alias "cli-nowhere"`, []string{"--id", "cli-svc-c", "--grant-type", "client_credentials", "--scope", "passport:admin", "--admin-org", "cli-nowhere"}},
		"duplicate client": {"already exists", []string{"--id", "cli-svc-account", "--grant-type", "client_credentials", "--scope", "passport:admin", "--admin-org", "cli-svc"}},
	} {
		t.Run(name, func(t *testing.T) {
			refused(t, tc.want, adminTables, append([]string{"client", "create"}, tc.args...)...)
		})
	}
}
