package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/passport-idp/passport/internal/passport"
)

// Attacks on the doors of issue 13 that issue members and credentials and import CSV files
// (review): every foreign id is a 404 that writes nothing, a malformed body is a 4xx, never
// a 500, and a generated password is in the one answer that issues it and nowhere else.

// lockedBuffer is a log the server writes while the test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// startLoggedServer is startServer keeping the server's log in logs.
func startLoggedServer(t *testing.T, logs io.Writer, kv ...string) *server {
	t.Helper()
	addr := freePort(t)
	u := "http://" + addr
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	args := append([]string{"PASSPORT_LISTEN", addr, "PASSPORT_ISSUER", u, "PASSPORT_LOG_LEVEL", "debug"}, kv...)
	go func() { done <- run(ctx, []string{"serve"}, env(args...), logs, logs) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			t.Error("serve did not shut down")
		}
	})
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(u + "/healthz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return &server{URL: u, Issuer: u}
			}
		}
		select {
		case code := <-done:
			t.Fatalf("serve exited early with %d", code)
		case <-time.After(20 * time.Millisecond):
		}
	}
	t.Fatal("server did not become healthy")
	return nil
}

// rawCall sends body as it is (not marshalled) to /api/v1<path>.
func rawCall(t *testing.T, srv *server, c *apiCaller, method, path, contentType, body string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL+"/api/v1"+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	client := http.DefaultClient
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	} else {
		client = c.b.Client
		if c.csrf == "" {
			_, page := c.b.get(srv.URL + "/profile")
			c.csrf = hidden(page).Get("csrf")
		}
		req.Header.Set("X-CSRF-Token", c.csrf)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp, readBody(t, resp)
}

func TestIssueDoorsAttack(t *testing.T) {
	logs := &lockedBuffer{}
	srv := startLoggedServer(t, logs, "PASSPORT_ADMIN_REQUIRE_TWO_FACTOR", "false")
	db := openDB(t)
	ctx := context.Background()
	const pw = "review-issue-Passw0rd!"
	orgA := setupOrg(t, "rvi-a", "Review A", "driver")
	orgB := setupOrg(t, "rvi-b", "Review B", "driver")
	adminA := setupUser(t, "rvi-admin-a", pw)
	grantAdmin(t, adminA, passport.RoleOrgAdmin, orgA)
	joinOrg(t, orgA, adminA, true, "") // the administrator is a managed member of A themselves
	adminB := setupUser(t, "rvi-admin-b", pw)
	grantAdmin(t, adminB, passport.RoleOrgAdmin, orgB)
	managedA := setupUser(t, "rvi-managed-a", pw)
	joinOrg(t, orgA, managedA, true, "")
	joinedA := setupUser(t, "rvi-joined-a", pw)
	joinOrg(t, orgA, joinedA, false, "")
	managedB := setupUser(t, "rvi-managed-b", pw)
	joinOrg(t, orgB, managedB, true, "")
	bothByB := setupUser(t, "rvi-both", pw) // managed by B, joined A
	joinOrg(t, orgB, bothByB, true, "")
	joinOrg(t, orgA, bothByB, false, "")
	service := setupUser(t, "rvi-service", pw) // a service administrator, managed by A
	grantAdmin(t, service, passport.RoleServiceAdmin, "")
	joinOrg(t, orgA, service, true, "")
	saSecret := setupClient(t, "rvi-sa", "--grant-type", "client_credentials", "--scope", passport.ScopeAdmin, "--admin-org", "rvi-a")

	a := adminCookie(t, srv, "admin of A", "rvi-admin-a", pw, orgA)
	sa := &apiCaller{name: "service account of A", token: serviceAccountToken(t, srv, "rvi-sa", saSecret, passport.ScopeAdmin), home: orgA}
	b := adminCookie(t, srv, "admin of B", "rvi-admin-b", pw, orgB)

	hashes := func(ids ...string) map[string]string {
		out := map[string]string{}
		for _, id := range ids {
			var h string
			if err := db.Pool().QueryRow(ctx, `SELECT coalesce(password_hash, '') FROM accounts WHERE id = $1`, id).Scan(&h); err != nil {
				t.Fatal(err)
			}
			out[id] = h
		}
		return out
	}
	untouchable := []string{managedB, bothByB, joinedA, service, adminA}

	t.Run("foreign and protected members: 404 or 403, nothing written", func(t *testing.T) {
		beforeHash := hashes(untouchable...)
		beforeEvents := eventCount(t, db, nil, untouchable)
		beforeIssues := countRows(t, `SELECT count(*) FROM credential_issues`)
		type target struct {
			org, id string
			want    int
		}
		targets := []target{
			{orgA, managedB, http.StatusNotFound},     // not a member of A
			{orgB, managedB, http.StatusNotFound},     // B's member under B's URL
			{orgB, managedA, http.StatusNotFound},     // A's member under B's URL
			{"rvi-b", managedB, http.StatusNotFound},  // by alias
			{orgA, "not-a-uuid", http.StatusNotFound}, // not an id
			{orgA, "00000000-0000-0000-0000-000000000000", http.StatusNotFound},
			{orgA, strings.ToUpper(managedA), http.StatusNotFound}, // an id in capitals is no id
			{orgA, joinedA, http.StatusForbidden},                  // joined A: not A's to manage
			{orgA, bothByB, http.StatusForbidden},                  // managed by B, joined A
			{orgA, service, http.StatusForbidden},                  // a service administrator
		}
		for _, c := range []*apiCaller{a, sa} {
			all := targets
			if c == a {
				// The administrator's own account. (A's service account may reset A's
				// administrators: they hold no rights beyond its own.)
				all = append(all, target{orgA, adminA, http.StatusForbidden})
			}
			for _, tg := range all {
				base := "/admin/orgs/" + tg.org + "/members/" + tg.id
				for _, r := range []struct {
					method, path string
					body         any
					want         int
				}{
					{"POST", base + "/credentials", map[string]any{"generate": true, "channel": "none"}, tg.want},
					{"POST", base + "/two-factor/reset", nil, tg.want},
					{"POST", base + "/contact-confirmation", map[string]any{"email": true}, tg.want},
				} {
					status, out := c.call(t, srv, r.method, r.path, r.body)
					if status != r.want {
						t.Errorf("%s: %s %s: %d %v, want %d", c.name, r.method, r.path, status, out, r.want)
					}
					if out["password"] != nil {
						t.Errorf("%s: %s %s: a password in the answer", c.name, r.method, r.path)
					}
				}
				// Reading the delivery status: a foreign member is a 404; A's own
				// members (joined or not) show A's issues only.
				status, _ := c.call(t, srv, "GET", base+"/credentials", nil)
				if tg.want == http.StatusNotFound && status != http.StatusNotFound {
					t.Errorf("%s: GET %s/credentials: %d, want 404", c.name, base, status)
				}
			}
		}
		if after := hashes(untouchable...); len(after) != len(beforeHash) {
			t.Fatal("hashes")
		} else {
			for id, h := range beforeHash {
				if after[id] != h {
					t.Errorf("the password of %s changed", id)
				}
			}
		}
		if n := eventCount(t, db, nil, untouchable); n != beforeEvents {
			t.Errorf("%d events recorded by refused requests", n-beforeEvents)
		}
		if n := countRows(t, `SELECT count(*) FROM credential_issues`); n != beforeIssues {
			t.Errorf("%d credential issues written by refused requests", n-beforeIssues)
		}
	})

	t.Run("bodies: 4xx with a message, never a 500, nothing written", func(t *testing.T) {
		before := countRows(t, `SELECT count(*) FROM credential_issues`)
		accounts := countRows(t, `SELECT count(*) FROM accounts`)
		for _, x := range []struct{ path, ct, body string }{
			{"/credentials", "application/json", `{"generate":"yes"}`},
			{"/credentials", "application/json", `{"generate":true,"colour":"red"}`},
			{"/credentials", "application/json", `{"generate":true,"channel":"pigeon"}`},
			{"/credentials", "application/json", `{"generate":true,"template":"../../etc/passwd"}`},
			{"/credentials", "application/json", `{"generate":true,"locale":"xx"}`},
			{"/credentials", "application/json", `{"generate":false}`},
			{"/credentials", "application/json", `{"password":"short"}`},
			{"/credentials", "application/json", `{"generate":true,"channel":"sms"}`}, // no phone
			{"/credentials", "application/json", `[]`},
			{"/credentials", "application/json", `null`},
			{"/credentials", "text/plain", `generate=true`},
			{"/credentials", "application/json", `{"generate":tru`},
			{"/contact-confirmation", "application/json", `{"email":"yes"}`},
			{"/contact-confirmation", "application/json", `{}`},
		} {
			resp, body := rawCall(t, srv, a, "POST", "/admin/orgs/"+orgA+"/members/"+managedA+x.path, x.ct, x.body)
			if resp.StatusCode < 400 || resp.StatusCode >= 500 {
				t.Errorf("%s %s: %d %.200s, want 4xx", x.path, x.body, resp.StatusCode, body)
			}
			var out map[string]any
			if json.Unmarshal([]byte(body), &out) != nil || out["error"] == nil && out["message"] == nil && out["detail"] == nil {
				t.Errorf("%s %s: %d %.200s: no message", x.path, x.body, resp.StatusCode, body)
			}
		}
		for _, body := range []string{
			`{"email":"new@example.org","credentials":{"generate":true,"channel":"sms"}}`,
			`{"email":"new@example.org","roles":["driver","pilot"]}`,
			`{"email":"new@example.org","credentials":{"generate":"yes"}}`,
			`{"login":"x","email":"new@example.org"}`,
			`{"email":"new@example.org","birthdate":"31.12.1990"}`,
			`{"email":"new@example.org","credentials":{"generate":true},"existing":true}`,
		} {
			resp, out := rawCall(t, srv, a, "POST", "/admin/orgs/"+orgA+"/members", "application/json", body)
			if resp.StatusCode < 400 || resp.StatusCode >= 500 {
				t.Errorf("create %s: %d %.200s, want 4xx", body, resp.StatusCode, out)
			}
		}
		if n := countRows(t, `SELECT count(*) FROM credential_issues`); n != before {
			t.Errorf("%d issues written by refused bodies", n-before)
		}
		if n := countRows(t, `SELECT count(*) FROM accounts`); n != accounts {
			t.Errorf("%d accounts written by refused bodies", n-accounts)
		}
	})

	t.Run("the generated password is in the one answer only", func(t *testing.T) {
		var passwords []string
		for _, c := range []*apiCaller{a, sa} {
			for _, ch := range []string{"none", "email"} {
				resp, body := rawCall(t, srv, c, "POST", "/admin/orgs/"+orgA+"/members/"+managedA+"/credentials", "application/json",
					`{"generate":true,"channel":"`+ch+`"}`)
				var out map[string]any
				_ = json.Unmarshal([]byte(body), &out)
				p, _ := out["password"].(string)
				if resp.StatusCode != http.StatusCreated || p == "" {
					t.Fatalf("%s: issue by %s: %d %s", c.name, ch, resp.StatusCode, body)
				}
				if cc := resp.Header.Get("Cache-Control"); !strings.Contains(cc, "no-store") {
					t.Errorf("%s: the answer with the password may be stored: Cache-Control %q", c.name, cc)
				}
				passwords = append(passwords, p)
			}
		}
		resp, body := rawCall(t, srv, a, "POST", "/admin/orgs/"+orgA+"/members", "application/json",
			`{"login":"rvi-new","email":"rvi-new@example.org","given_name":"Rvi","family_name":"New","credentials":{"generate":true,"channel":"none"}}`)
		var created struct {
			ID          string         `json:"account_id"`
			Credentials map[string]any `json:"credentials"`
		}
		_ = json.Unmarshal([]byte(body), &created)
		if resp.StatusCode != http.StatusCreated || created.Credentials["password"] == nil {
			t.Fatalf("create with credentials: %d %s", resp.StatusCode, body)
		}
		if cc := resp.Header.Get("Cache-Control"); !strings.Contains(cc, "no-store") {
			t.Errorf("the created member's answer may be stored: Cache-Control %q", cc)
		}
		passwords = append(passwords, created.Credentials["password"].(string))

		// Everything that shows the member or the issues afterwards.
		var seen []string
		for _, path := range []string{"/admin/orgs/" + orgA + "/members/" + managedA, "/admin/orgs/" + orgA + "/members/" + managedA + "/credentials",
			"/admin/orgs/" + orgA + "/members/" + created.ID, "/admin/orgs/" + orgA + "/events", "/admin/orgs/" + orgA + "/members"} {
			resp, body := rawCall(t, srv, a, "GET", path, "", "")
			if resp.StatusCode != http.StatusOK {
				t.Errorf("GET %s: %d %.200s", path, resp.StatusCode, body)
			}
			seen = append(seen, body)
		}
		_, page := a.b.get(srv.URL + "/admin/orgs/rvi-a/members/" + managedA)
		_, form := a.b.get(srv.URL + "/admin/orgs/rvi-a/members/" + managedA + "/credentials")
		seen = append(seen, page, form)
		var details, payloads string
		if err := db.Pool().QueryRow(ctx, `SELECT coalesce(string_agg(details::text, ' '), '') FROM security_events`).Scan(&details); err != nil {
			t.Fatal(err)
		}
		if err := db.Pool().QueryRow(ctx, `SELECT coalesce(string_agg(encode(payload, 'escape'), ' '), '') FROM messages WHERE payload IS NOT NULL`).Scan(&payloads); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(logs.String(), "/credentials") {
			t.Fatalf("the server's log is not captured: %.300s", logs.String())
		}
		seen = append(seen, details, payloads, logs.String())
		for _, p := range passwords {
			for i, s := range seen {
				if strings.Contains(s, p) {
					t.Errorf("a generated password is readable afterwards (place %d)", i)
				}
			}
		}
	})

	t.Run("two issues at once: one password works", func(t *testing.T) {
		var wg sync.WaitGroup
		got := make([]string, 6)
		for i := range got {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c := a
				if i%2 == 1 {
					c = sa
				}
				resp, body := rawCall(t, srv, c, "POST", "/admin/orgs/"+orgA+"/members/"+managedA+"/credentials", "application/json",
					`{"generate":true,"channel":"none"}`)
				var out map[string]any
				_ = json.Unmarshal([]byte(body), &out)
				if resp.StatusCode == http.StatusCreated {
					got[i], _ = out["password"].(string)
				}
			}()
		}
		wg.Wait()
		h := hashes(managedA)[managedA]
		works := 0
		for _, p := range got {
			if p == "" {
				continue
			}
			if ok, _, err := passport.CheckPassword(ctx, h, p, passport.DefaultArgon2); ok && err == nil {
				works++
			}
		}
		if works != 1 {
			t.Errorf("%d of the concurrently issued passwords work, want exactly 1", works)
		}
		if n := countRows(t, `SELECT count(*) FROM credential_issues WHERE account_id = '`+managedA+`' AND voided_at IS NULL`); n != 1 {
			t.Errorf("%d issues in force, want 1", n)
		}
	})

	t.Run("imports: another organisation's import is a 404", func(t *testing.T) {
		file := "login,email\nrvi-imp-b,rvi-imp-b@example.org\n"
		resp, body := rawCall(t, srv, b, "POST", "/admin/orgs/"+orgB+"/imports", "text/csv", file)
		var imp map[string]any
		_ = json.Unmarshal([]byte(body), &imp)
		idB, _ := imp["id"].(string)
		if resp.StatusCode != http.StatusAccepted || idB == "" {
			t.Fatalf("B's import: %d %s", resp.StatusCode, body)
		}
		var issueID string
		if err := db.Pool().QueryRow(ctx, `SELECT id::text FROM credential_issues LIMIT 1`).Scan(&issueID); err != nil {
			t.Fatal(err)
		}
		for _, c := range []*apiCaller{a, sa} {
			for _, path := range []string{
				"/admin/orgs/" + orgA + "/imports/" + idB, "/admin/orgs/" + orgA + "/imports/" + idB + "/result",
				"/admin/orgs/" + orgB + "/imports/" + idB, "/admin/orgs/" + orgB + "/imports/" + idB + "/result",
				"/admin/orgs/" + orgB + "/imports",
				"/admin/orgs/" + orgA + "/imports/" + issueID, "/admin/orgs/" + orgA + "/imports/" + issueID + "/result",
				"/admin/orgs/" + orgA + "/imports/x%27%3B--", "/admin/orgs/" + orgA + "/imports/" + strings.ToUpper(idB),
			} {
				if resp, body := rawCall(t, srv, c, "GET", path, "", ""); resp.StatusCode != http.StatusNotFound {
					t.Errorf("%s: GET %s: %d %.200s, want 404", c.name, path, resp.StatusCode, body)
				}
			}
			if resp, body := rawCall(t, srv, c, "POST", "/admin/orgs/"+orgB+"/imports?dry_run=true", "text/csv", file); resp.StatusCode != http.StatusNotFound {
				t.Errorf("%s: B's dry run: %d %.200s, want 404", c.name, resp.StatusCode, body)
			}
			if resp, body := rawCall(t, srv, c, "POST", "/admin/orgs/"+orgB+"/imports", "text/csv", file); resp.StatusCode != http.StatusNotFound {
				t.Errorf("%s: B's import: %d %.200s, want 404", c.name, resp.StatusCode, body)
			}
		}
		for _, path := range []string{"/admin/orgs/rvi-a/imports/" + idB, "/admin/orgs/rvi-a/imports/" + idB + "/result", "/admin/orgs/rvi-b/imports"} {
			if resp, _ := a.b.get(srv.URL + path); resp.StatusCode != http.StatusNotFound {
				t.Errorf("console %s: %d, want 404", path, resp.StatusCode)
			}
		}
	})

	t.Run("imports: malformed files are a 4xx naming the problem", func(t *testing.T) {
		imports := countRows(t, `SELECT count(*) FROM imports`)
		var many strings.Builder
		many.WriteString("login,email\n")
		for i := 0; i <= 50000; i++ {
			many.WriteString("r")
			many.WriteString(strings.Repeat("x", 3))
			many.WriteString(",a@b.cd\n")
		}
		for name, file := range map[string]string{
			"binary":       "\x00\x01\x02\xff\xfe",
			"not utf-8":    "login,email\n\xc3\x28,a@b.cd\n",
			"empty":        "",
			"header only":  "login,email\n",
			"unknown":      "login,password\nx,y\n",
			"twice":        "login,LOGIN\nx,y\n",
			"open quote":   "login,email\n\"abc,a@b.cd\n",
			"50,001 rows":  many.String(),
			"huge cell":    "login,email\n" + strings.Repeat("a", 5<<20) + ",a@b.cd\n",
			"no name":      "login,,email\nx,y,z\n",
			"bare newline": "\n\n\n",
		} {
			for _, dry := range []string{"?dry_run=true", ""} {
				if name == "huge cell" && dry == "" {
					continue // a readable file: it would be queued
				}
				resp, body := rawCall(t, srv, a, "POST", "/admin/orgs/"+orgA+"/imports"+dry, "text/csv", file)
				if name == "huge cell" && dry != "" {
					// A readable file: the dry run reports the row's problems.
					if resp.StatusCode != http.StatusOK || len(body) > 100000 {
						t.Errorf("%s (dry run): %d, %d bytes", name, resp.StatusCode, len(body))
					}
					continue
				}
				if resp.StatusCode < 400 || resp.StatusCode >= 500 || !strings.Contains(body, "file") {
					t.Errorf("%s%s: %d %.300s, want 4xx about the file", name, dry, resp.StatusCode, body)
				}
			}
		}
		if resp, body := rawCall(t, srv, a, "POST", "/admin/orgs/"+orgA+"/imports?dry_run=maybe", "text/csv", "login\nabc\n"); resp.StatusCode != http.StatusBadRequest &&
			resp.StatusCode != http.StatusUnprocessableEntity {
			t.Errorf("dry_run=maybe: %d %.200s", resp.StatusCode, body)
		}
		if n := countRows(t, `SELECT count(*) FROM imports`); n != imports {
			t.Errorf("%d imports queued by refused files", n-imports)
		}
	})
}
