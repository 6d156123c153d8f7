package main

import (
	"context"
	"encoding/base64"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/passport-idp/passport/internal/account"
	"github.com/passport-idp/passport/internal/passport"
)

// Attacks on the admin side (issue 12) from outside: the console, the admin API, the
// step-up, the scoping by organisation, service accounts and the event feeds. A test of an
// attack that must be refused passes when it is; a test that exposes a defect fails and says
// what the secure behaviour is.

const atkPassword = "attack-password-1"

// atkDo sends one request through client (nil: a fresh client) without following redirects.
func atkDo(t *testing.T, client *http.Client, method, u string, header http.Header, body string) (*http.Response, string) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, u, rd)
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	c := http.Client{}
	if client != nil {
		c = *client
	}
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp, readBody(t, resp)
}

func atkStatus(t *testing.T, id string) string {
	t.Helper()
	return dbString(t, openDB(t), `SELECT status FROM accounts WHERE id = $1`, id)
}

// TestAttackOrgAdminAgainstHigherAdmins: an organisation's administrator blocks, signs out or
// removes (scheduling the deletion of) an account that holds more authority than they do — a
// service administrator, or another organisation's administrator — because the account
// happens to be a managed member of their organisation. Each must be refused: an org admin
// taking the service's administrators out is a takeover of the service.
func TestAttackOrgAdminAgainstHigherAdmins(t *testing.T) {
	srv := startServer(t, "", "PASSPORT_ADMIN_REQUIRE_TWO_FACTOR", "false")
	db := openDB(t)
	orgA := setupOrg(t, "atk-hi-a", "Attack High A", "driver")
	orgB := setupOrg(t, "atk-hi-b", "Attack High B", "driver")
	service := setupUser(t, "atk-hi-service", atkPassword)
	grantAdmin(t, service, passport.RoleServiceAdmin, "")
	joinOrg(t, orgA, service, true, "Operator") // the operator's staff account, created by A
	adminB := setupUser(t, "atk-hi-admin-b", atkPassword)
	grantAdmin(t, adminB, passport.RoleOrgAdmin, orgB)
	joinOrg(t, orgA, adminB, true, "Contractor") // B's administrator, an account A manages
	adminA := setupUser(t, "atk-hi-admin-a", atkPassword)
	grantAdmin(t, adminA, passport.RoleOrgAdmin, orgA)
	attacker := adminCookie(t, srv, "admin of A", "atk-hi-admin-a", atkPassword, orgA)

	restore := func(id string) {
		mustExec(t, db, `UPDATE accounts SET status = 'active', purge_at = NULL WHERE id = $1`, id)
		mustExec(t, db, `INSERT INTO memberships (account_id, org_id, roles, managed, is_primary) VALUES ($1, $2, '{}', true, true)
			ON CONFLICT DO NOTHING`, id, orgA)
	}
	for _, victim := range []struct{ name, login, id string }{
		{"service administrator", "atk-hi-service", service},
		{"administrator of B", "atk-hi-admin-b", adminB},
	} {
		t.Run("block "+victim.name+" via the API", func(t *testing.T) {
			defer restore(victim.id)
			status, out := attacker.call(t, srv, "POST", "/admin/accounts/"+victim.id+"/block", nil)
			if status < 400 || atkStatus(t, victim.id) != passport.StatusActive {
				t.Errorf("A's administrator blocked the %s: %d %v, account now %s; want 403 (an organisation's administrator "+
					"may not block an account holding an administrative grant they do not hold) and the account active",
					victim.name, status, out, atkStatus(t, victim.id))
			}
		})
		t.Run("block "+victim.name+" in the console", func(t *testing.T) {
			defer restore(victim.id)
			resp, body := consolePost(t, attacker.b, "/admin/orgs/atk-hi-a/members/"+victim.id+"/block", "", url.Values{})
			if atkStatus(t, victim.id) != passport.StatusActive {
				t.Errorf("A's administrator blocked the %s in the console: %d %.200s; want it refused and the account active",
					victim.name, resp.StatusCode, body)
			}
		})
		t.Run("sign out "+victim.name, func(t *testing.T) {
			defer restore(victim.id)
			vb := newBrowser(t, srv)
			signInDirectly(t, vb, victim.login, atkPassword)
			status, out := attacker.call(t, srv, "DELETE", "/admin/accounts/"+victim.id+"/sessions", nil)
			if status < 400 || !signedInToCabinet(t, vb) {
				t.Errorf("A's administrator ended every session of the %s: %d %v; want 403 and the sessions alive", victim.name, status, out)
			}
		})
		t.Run("remove "+victim.name, func(t *testing.T) {
			defer restore(victim.id)
			status, out := attacker.call(t, srv, "DELETE", "/admin/orgs/"+orgA+"/members/"+victim.id, nil)
			if st := atkStatus(t, victim.id); st != passport.StatusActive {
				t.Errorf("A's administrator removed the %s and scheduled the account's deletion: %d %v, account now %s; "+
					"want 403, or at least the membership alone removed and never the deletion of an administrator's account",
					victim.name, status, out, st)
			}
		})
	}
}

// TestAttackOrgAdminBlocksThemselves: an organisation's administrator who is a managed member
// of their own organisation blocks their own account (or removes themselves, scheduling their
// own deletion). They lock themselves out with nobody in the organisation able to undo it;
// a console should refuse an action on one's own account.
func TestAttackOrgAdminBlocksThemselves(t *testing.T) {
	srv := startServer(t, "", "PASSPORT_ADMIN_REQUIRE_TWO_FACTOR", "false")
	db := openDB(t)
	org := setupOrg(t, "atk-self", "Attack Self")
	self := setupUser(t, "atk-self-admin", atkPassword)
	grantAdmin(t, self, passport.RoleOrgAdmin, org)
	joinOrg(t, org, self, true, "Manager")
	c := adminCookie(t, srv, "admin of the organisation", "atk-self-admin", atkPassword, org)
	status, out := c.call(t, srv, "POST", "/admin/accounts/"+self+"/block", nil)
	if status < 400 || atkStatus(t, self) != passport.StatusActive {
		t.Errorf("an administrator blocked their own account: %d %v, now %s; want 403 (no action on one's own account "+
			"from the console or the admin API)", status, out, atkStatus(t, self))
	}
	mustExec(t, db, `UPDATE accounts SET status = 'active' WHERE id = $1`, self)
}

// TestAttackPrimaryAcrossOrganisations: a person's primary organisation is B (it is what their
// public profile, vCard and cabinet show). A's administrator marks A's membership primary and
// so takes the mark away from B's membership: one organisation's administrator changes the
// person's membership of another organisation and their public self-presentation.
func TestAttackPrimaryAcrossOrganisations(t *testing.T) {
	srv := startServer(t, "", "PASSPORT_ADMIN_REQUIRE_TWO_FACTOR", "false")
	db := openDB(t)
	orgA := setupOrg(t, "atk-prim-a", "Attack Primary A")
	orgB := setupOrg(t, "atk-prim-b", "Attack Primary B")
	person := setupSelfUser(t, "atk-prim-person", atkPassword)
	joinOrg(t, orgB, person, false, "Clerk") // first: primary
	joinOrg(t, orgA, person, false, "Spy")
	admin := setupUser(t, "atk-prim-admin", atkPassword)
	grantAdmin(t, admin, passport.RoleOrgAdmin, orgA)
	c := adminCookie(t, srv, "admin of A", "atk-prim-admin", atkPassword, orgA)

	status, out := c.call(t, srv, "PATCH", "/admin/orgs/"+orgA+"/members/"+person, map[string]any{"primary": true})
	primaryB := dbCount(t, db, `SELECT count(*) FROM memberships WHERE org_id = $1 AND account_id = $2 AND is_primary`, orgB, person)
	if primaryB != 1 {
		t.Errorf("A's administrator took the primary mark from the person's membership of B: %d %v; want 403 (the primary "+
			"mark is the person's choice across organisations: an organisation's administrator may not move it away from "+
			"another organisation's membership)", status, out)
	}
}

// TestAttackAddAnyAccountReadsPrivateData: an organisation's administrator "adds" any
// account by login — a person who never dealt with the organisation — and at once reads
// their email, their sessions (addresses, browsers) and their whole security history from
// before the membership existed. Adding needs the person's acceptance (an invitation), or at
// the least the organisation must not see what predates the membership.
func TestAttackAddAnyAccountReadsPrivateData(t *testing.T) {
	srv := startServer(t, "", "PASSPORT_ADMIN_REQUIRE_TWO_FACTOR", "false")
	org := setupOrg(t, "atk-add", "Attack Add", "controller")
	victim := setupSelfUser(t, "atk-add-victim", atkPassword)
	vb := newBrowser(t, srv)
	signInDirectly(t, vb, "atk-add-victim", atkPassword) // a session and a signin.ok event, before any membership
	admin := setupUser(t, "atk-add-admin", atkPassword)
	grantAdmin(t, admin, passport.RoleOrgAdmin, org)
	c := adminCookie(t, srv, "admin of the organisation", "atk-add-admin", atkPassword, org)

	status, out := c.call(t, srv, "POST", "/admin/orgs/"+org+"/members", map[string]any{"login": "atk-add-victim", "roles": []string{"controller"}})
	if status != http.StatusCreated {
		t.Skipf("adding an existing account: %d %v (refused: nothing to read)", status, out)
	}
	sessions, _ := out["sessions"].([]any)
	_, events := c.call(t, srv, "GET", "/admin/orgs/"+org+"/members/"+victim+"/events?limit=200", nil)
	var before []string
	for _, e := range events["events"].([]any) {
		if typ, _ := e.(map[string]any)["type"].(string); typ != passport.EventMemberAdded {
			before = append(before, typ)
		}
	}
	if len(sessions) > 0 || len(before) > 0 {
		t.Errorf("an organisation's administrator added an account that never joined it (no acceptance asked) and reads "+
			"its %d sessions (IP, browser) and %d security events from before the membership %v; want the person's "+
			"acceptance before the membership exists, or nothing predating the membership shown", len(sessions), len(before), before)
	}
}

// TestAttackDisabledOrganisation: a service administrator disables an organisation (the kill
// switch for an organisation gone rogue or no longer a customer). Its administrators and its
// service account must stop changing accounts at once; they still block, remove (scheduling
// deletions) and edit roles.
func TestAttackDisabledOrganisation(t *testing.T) {
	srv := startServer(t, "", "PASSPORT_ADMIN_REQUIRE_TWO_FACTOR", "false")
	db := openDB(t)
	org := setupOrg(t, "atk-off", "Attack Disabled", "driver")
	member := setupUser(t, "atk-off-member", atkPassword)
	joinOrg(t, org, member, true, "Driver", "driver")
	admin := setupUser(t, "atk-off-admin", atkPassword)
	grantAdmin(t, admin, passport.RoleOrgAdmin, org)
	c := adminCookie(t, srv, "admin of the disabled organisation", "atk-off-admin", atkPassword, org)
	saSecret := setupClient(t, "atk-off-sa", "--grant-type", "client_credentials", "--scope", passport.ScopeAdmin, "--admin-org", "atk-off")
	sa := &apiCaller{name: "service account of the disabled organisation", token: serviceAccountToken(t, srv, "atk-off-sa", saSecret, passport.ScopeAdmin)}

	if _, err := (&account.Service{DB: db}).SetOrgDisabled(context.Background(), account.System(), org, true); err != nil {
		t.Fatal(err)
	}
	for _, who := range []*apiCaller{c, sa} {
		status, out := who.call(t, srv, "POST", "/admin/accounts/"+member+"/block", nil)
		if status < 400 || atkStatus(t, member) != passport.StatusActive {
			t.Errorf("%s blocked a member: %d %v; want 403/404 (a disabled organisation's administrators and service "+
				"accounts act no more)", who.name, status, out)
		}
		mustExec(t, db, `UPDATE accounts SET status = 'active' WHERE id = $1`, member)
		status, out = who.call(t, srv, "PUT", "/admin/orgs/"+org+"/roles/hijack", map[string]any{"names": map[string]string{"en": "Hijack"}})
		if status < 400 {
			t.Errorf("%s changed the role catalogue: %d %v; want 403/404", who.name, status, out)
		}
	}
	status, out := c.call(t, srv, "DELETE", "/admin/orgs/"+org+"/members/"+member, nil)
	if status < 400 || atkStatus(t, member) != passport.StatusActive {
		t.Errorf("the disabled organisation's administrator removed a managed member and scheduled the account's "+
			"deletion: %d %v, account %s; want 403/404", status, out, atkStatus(t, member))
	}
}

// TestAttackStaleBearerSkipsStepUp: the console and the cookie API refuse a change when the
// sign-in is older than reauth_after; a person's bearer token with passport:admin carries the
// same sign-in time (auth_time) and must be held to the same rule, else the step-up is
// skipped by using the API through an application (and a refresh token renews it forever).
func TestAttackStaleBearerSkipsStepUp(t *testing.T) {
	srv := startServer(t, "", "PASSPORT_ADMIN_REQUIRE_TWO_FACTOR", "false", "PASSPORT_ADMIN_REAUTH_AFTER", "1m")
	db := openDB(t)
	org := setupOrg(t, "atk-stale", "Attack Stale", "driver")
	admin := setupUser(t, "atk-stale-admin", atkPassword)
	grantAdmin(t, admin, passport.RoleOrgAdmin, org)
	secret := setupClient(t, "atk-stale-app", "--scope", passport.ScopeAdmin)
	rp := newRP(t, srv, "atk-stale-app", secret, passport.ScopeAdmin)
	bearer := adminBearer(t, srv, rp, "admin (bearer)", "atk-stale-admin", atkPassword, org)
	cookie := adminCookie(t, srv, "admin (cookie)", "atk-stale-admin", atkPassword, org)

	mustExec(t, db, `UPDATE sessions SET auth_time = now() - interval '2 hours' WHERE account_id = $1`, admin)
	mustExec(t, db, `UPDATE access_tokens SET auth_time = now() - interval '2 hours' WHERE account_id = $1`, admin)
	body := map[string]any{"names": map[string]string{"en": "Stale"}}
	if status, out := cookie.call(t, srv, "PUT", "/admin/orgs/"+org+"/roles/by-cookie", body); status != http.StatusForbidden {
		t.Errorf("cookie with a 2-hour-old sign-in: %d %v, want 403", status, out)
	}
	if status, out := bearer.call(t, srv, "PUT", "/admin/orgs/"+org+"/roles/by-bearer", body); status < 400 {
		t.Errorf("a bearer token whose sign-in (auth_time) is 2 hours old changed the catalogue: %d %v; want 403 as for the "+
			"cookie (the step-up must hold whatever the door: check the token's auth_time against reauth_after)", status, out)
	}
}

// TestAttackStepUpReturn: the step-up's return parameter only ever leads to the console on
// this site; a reauth POST needs this browser's CSRF token; a stale session cannot write by
// another method; a second factor is asked when the administrator has one.
func TestAttackStepUpReturn(t *testing.T) {
	srv := startServer(t, "", "PASSPORT_ADMIN_REAUTH_AFTER", "1m")
	db := openDB(t)
	org := setupOrg(t, "atk-ret", "Attack Return", "driver")
	member := setupUser(t, "atk-ret-member", atkPassword)
	joinOrg(t, org, member, true, "", "driver")
	b, _, admin := consoleAdmin(t, srv, "atk-ret-admin", passport.RoleOrgAdmin, org)
	age := func() {
		mustExec(t, db, `UPDATE sessions SET auth_time = now() - interval '2 hours' WHERE account_id = $1`, admin)
	}

	age()
	// Writing by any method with an old sign-in.
	page := "/admin/orgs/atk-ret/members/" + member
	csrf := hidden(readPage(t, b, srv.URL+"/profile")).Get("csrf")
	for _, m := range []string{"POST", "PUT", "PATCH", "DELETE", "HEAD"} {
		h := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}, "X-Http-Method-Override": {"GET"}}
		resp, body := atkDo(t, b.Client, m, srv.URL+page+"/block", h, "csrf="+url.QueryEscape(csrf))
		if atkStatus(t, member) != passport.StatusActive || resp.StatusCode == http.StatusOK || resp.StatusCode >= 500 {
			t.Errorf("%s %s/block with an old sign-in: %d %.200s, member %s", m, page, resp.StatusCode, body, atkStatus(t, member))
		}
	}
	// The step-up form does not echo a foreign return.
	_, form := b.get(srv.URL + "/admin/reauth?return=" + url.QueryEscape("javascript:alert(1)"))
	if r := hidden(form).Get("return"); r != "/admin" {
		t.Errorf("the step-up form keeps return %q, want /admin", r)
	}
	// Without the code the administrator has, no step-up.
	resp, body := consolePost(t, b, "/admin/reauth", "", url.Values{"return": {page}, "password": {"console-admin-pw-9"}})
	if resp.StatusCode < 400 || dbCount(t, db, `SELECT count(*) FROM sessions WHERE account_id = $1 AND ended_at IS NULL
		AND auth_time > now() - interval '1 minute'`, admin) != 0 {
		t.Errorf("a step-up with the password alone (two factors on): %d %.200s", resp.StatusCode, body)
	}
	// Another browser's CSRF token.
	other := newBrowser(t, srv)
	otherCSRF := hidden(readPage(t, other, srv.URL+"/signin")).Get("csrf")
	resp, body = consolePost(t, b, "/admin/reauth", "", url.Values{"csrf": {otherCSRF}, "return": {page}, "password": {"console-admin-pw-9"}})
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("a reauth POST with another browser's CSRF token: %d %.200s", resp.StatusCode, body)
	}
	// The returns. The person's admin has two factors: use the relaxed server for them.
	relaxed := startServer(t, "", "PASSPORT_ADMIN_REQUIRE_TWO_FACTOR", "false")
	plain := setupUser(t, "atk-ret-plain", atkPassword)
	grantAdmin(t, plain, passport.RoleOrgAdmin, org)
	pb := newBrowser(t, relaxed)
	signInDirectly(t, pb, "atk-ret-plain", atkPassword)
	rbase, _ := url.Parse(relaxed.URL)
	for _, ret := range []string{"//evil.example/admin", "/\\evil.example", "/admin/../..//evil.example", "/admin@evil.example",
		"https://evil.example/admin", "/admin%0d%0aSet-Cookie:%20x=1", "/admin\r\nSet-Cookie: x=1", "/%2F%2Fevil.example",
		"/admin/..%2f..%2f%2fevil.example", "\t//evil.example", "/admin\\..\\..\\evil.example", "javascript:alert(1)"} {
		resp, body := consolePost(t, pb, "/admin/reauth", "", url.Values{"return": {ret}, "password": {atkPassword}})
		loc := resp.Header.Get("Location")
		u, err := rbase.Parse(loc)
		if resp.StatusCode != http.StatusSeeOther || err != nil || u.Host != rbase.Host || u.Scheme != rbase.Scheme ||
			strings.ContainsAny(loc, "\r\n\\") || strings.Contains(resp.Header.Get("Set-Cookie"), "x=1") {
			t.Errorf("return %q: %d to %q (%.200s)", ret, resp.StatusCode, loc, body)
			continue
		}
		// Where the browser lands must not send it elsewhere either.
		next, _ := atkDo(t, pb.Client, "GET", u.String(), nil, "")
		if l := next.Header.Get("Location"); l != "" {
			if v, err := u.Parse(l); err != nil || v.Host != rbase.Host {
				t.Errorf("return %q lands on %s, which sends the browser to %q", ret, u, l)
			}
		}
	}
}

// TestAttackCSRF: every console change without the CSRF token, with another browser's, or
// from another origin is refused and changes nothing; the admin API with the cookie needs
// X-CSRF-Token of this browser; no CORS opens the API to another site.
func TestAttackCSRF(t *testing.T) {
	srv := startServer(t, "", "PASSPORT_ADMIN_REQUIRE_TWO_FACTOR", "false")
	db := openDB(t)
	org := setupOrg(t, "atk-csrf", "Attack CSRF", "driver")
	member := setupUser(t, "atk-csrf-member", atkPassword)
	joinOrg(t, org, member, true, "", "driver")
	service := setupUser(t, "atk-csrf-service", atkPassword)
	grantAdmin(t, service, passport.RoleServiceAdmin, "")
	c := adminCookie(t, srv, "service admin", "atk-csrf-service", atkPassword, "*")
	other := newBrowser(t, srv)
	otherCSRF := hidden(readPage(t, other, srv.URL+"/signin")).Get("csrf")
	own := hidden(readPage(t, c.b, srv.URL+"/profile")).Get("csrf")
	events := func() int { return eventCount(t, db, []string{org}, []string{member}) }

	m := "/admin/orgs/atk-csrf/members/" + member
	posts := map[string]string{
		"/admin/orgs":                       "alias=atk-csrf-new&name=New",
		"/admin/orgs/atk-csrf":              "action=disable&confirm=yes",
		"/admin/orgs/atk-csrf/roles":        "key=evil&name_en=Evil",
		"/admin/orgs/atk-csrf/roles/delete": "key=driver",
		"/admin/orgs/atk-csrf/members":      "login=atk-csrf-service",
		m:                                   "roles=&position=Evil",
		m + "/remove":                       "confirm=yes",
		m + "/block":                        "",
		m + "/unblock":                      "",
		m + "/end-sessions":                 "",
		"/admin/reauth":                     "password=" + atkPassword + "&return=/admin",
	}
	for path, form := range posts {
		for _, tc := range []struct {
			what   string
			header http.Header
			body   string
		}{
			{"no token", nil, form},
			{"another browser's token", nil, form + "&csrf=" + url.QueryEscape(otherCSRF)},
			{"the token in the query", nil, form},
			{"from another origin", http.Header{"Origin": {"https://evil.example"}}, form + "&csrf=" + url.QueryEscape(own)},
		} {
			before := events()
			h := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}
			for k, v := range tc.header {
				h[k] = v
			}
			u := srv.URL + path
			if tc.what == "the token in the query" {
				u += "?csrf=" + url.QueryEscape(own)
			}
			resp, body := atkDo(t, c.b.Client, "POST", u, h, tc.body)
			if resp.StatusCode != http.StatusForbidden || events() != before {
				t.Errorf("POST %s with %s: %d (%.150s), %d events", path, tc.what, resp.StatusCode, body, events()-before)
			}
		}
	}
	// The admin API with the cookie.
	for _, tc := range []struct {
		what  string
		token string
	}{{"no X-CSRF-Token", ""}, {"another browser's token", otherCSRF}, {"a made-up token", "AAAA"}} {
		h := http.Header{"Content-Type": {"application/json"}}
		if tc.token != "" {
			h.Set("X-CSRF-Token", tc.token)
		}
		resp, body := atkDo(t, c.b.Client, "POST", srv.URL+"/api/v1/admin/accounts/"+member+"/block", h, "{}")
		if resp.StatusCode != http.StatusForbidden || atkStatus(t, member) != passport.StatusActive {
			t.Errorf("admin API with the cookie and %s: %d %.200s", tc.what, resp.StatusCode, body)
		}
	}
	// A cross-site JSON POST with the right token but a foreign Origin.
	resp, body := atkDo(t, c.b.Client, "PUT", srv.URL+"/api/v1/admin/orgs/"+org+"/roles/evil",
		http.Header{"Content-Type": {"application/json"}, "X-CSRF-Token": {own}, "Origin": {"https://evil.example"}},
		`{"names":{"en":"Evil"}}`)
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("admin API with a foreign Origin: %d %.200s", resp.StatusCode, body)
	}
	// No CORS for the admin API.
	for _, m := range []string{"GET", "OPTIONS"} {
		resp, _ := atkDo(t, c.b.Client, m, srv.URL+"/api/v1/admin/orgs", http.Header{"Origin": {"https://evil.example"},
			"Access-Control-Request-Method": {"PUT"}}, "")
		if a := resp.Header.Get("Access-Control-Allow-Origin"); a != "" {
			t.Errorf("%s /api/v1/admin/orgs from another origin: Access-Control-Allow-Origin %q", m, a)
		}
	}
	if n := dbCount(t, db, `SELECT count(*) FROM org_roles WHERE org_id = $1 AND key = 'evil'`, org); n != 0 {
		t.Error("a refused request created a role")
	}
}

// TestAttackFormerAdmins: an administrator who is blocked (with or without their sessions
// ended), or whose grant is revoked, keeps nothing: not the console, not the cookie API, not
// their bearer token.
func TestAttackFormerAdmins(t *testing.T) {
	srv := startServer(t, "", "PASSPORT_ADMIN_REQUIRE_TWO_FACTOR", "false")
	db := openDB(t)
	org := setupOrg(t, "atk-former", "Attack Former", "driver")
	service := setupUser(t, "atk-former-service", atkPassword)
	grantAdmin(t, service, passport.RoleServiceAdmin, "")
	svc := adminCookie(t, srv, "service admin", "atk-former-service", atkPassword, "*")
	secret := setupClient(t, "atk-former-app", "--scope", passport.ScopeAdmin)
	rp := newRP(t, srv, "atk-former-app", secret, passport.ScopeAdmin)

	type former struct {
		cookie, bearer *apiCaller
		id             string
	}
	mk := func(login string) former {
		id := setupUser(t, login, atkPassword)
		grantAdmin(t, id, passport.RoleOrgAdmin, org)
		joinOrg(t, org, id, true, "Admin")
		f := former{adminCookie(t, srv, login+" (cookie)", login, atkPassword, org), adminBearer(t, srv, rp, login+" (bearer)", login, atkPassword, org), id}
		f.cookie.mustCall(t, srv, http.StatusOK, "GET", "/admin/orgs", nil)
		f.bearer.mustCall(t, srv, http.StatusOK, "GET", "/admin/orgs", nil)
		return f
	}
	check := func(what string, f former) {
		t.Helper()
		for _, c := range []*apiCaller{f.cookie, f.bearer} {
			for _, r := range [][2]string{{"GET", "/admin/orgs"}, {"GET", "/admin/orgs/" + org + "/members"},
				{"PUT", "/admin/orgs/" + org + "/roles/former"}} {
				var body any
				if r[0] == "PUT" {
					body = map[string]any{"names": map[string]string{"en": "Former"}}
				}
				if status, out := c.call(t, srv, r[0], r[1], body); status != http.StatusUnauthorized && status != http.StatusNotFound {
					t.Errorf("%s: %s %s %s: %d %v, want 401 or 404", what, c.name, r[0], r[1], status, out)
				}
			}
		}
		resp, page := atkDo(t, f.cookie.b.Client, "GET", srv.URL+"/admin/members", nil, "")
		if resp.StatusCode == http.StatusOK || strings.Contains(page, "atk-former") {
			t.Errorf("%s: the console's member list: %d", what, resp.StatusCode)
		}
	}

	blocked := mk("atk-former-blocked")
	svc.mustCall(t, srv, http.StatusNoContent, "POST", "/admin/accounts/"+blocked.id+"/block", nil)
	check("blocked by the service admin", blocked)

	raced := mk("atk-former-raced")
	mustExec(t, db, `UPDATE accounts SET status = 'blocked' WHERE id = $1`, raced.id) // sessions and tokens left alive
	check("blocked, sessions left alive", raced)

	revoked := mk("atk-former-revoked")
	if err := (&account.Service{DB: db}).Revoke(context.Background(), account.System(), revoked.id, passport.RoleOrgAdmin, org); err != nil {
		t.Fatal(err)
	}
	check("grant revoked", revoked)
	if n := dbCount(t, db, `SELECT count(*) FROM org_roles WHERE key = 'former'`); n != 0 {
		t.Errorf("a former administrator created %d roles", n)
	}
}

// TestAttackServiceAccounts: a client_credentials token is an organisation's service
// account only while its client is bound, enabled and the token carries passport:admin; it
// never reaches another organisation nor a service administrator's action.
func TestAttackServiceAccounts(t *testing.T) {
	srv := startServer(t, "", "PASSPORT_ADMIN_REQUIRE_TWO_FACTOR", "false")
	db := openDB(t)
	orgA := setupOrg(t, "atk-sa-a", "Attack SA A", "driver")
	orgB := setupOrg(t, "atk-sa-b", "Attack SA B", "driver")
	memberB := setupUser(t, "atk-sa-member-b", atkPassword)
	joinOrg(t, orgB, memberB, true, "", "driver")
	secret := setupClient(t, "atk-sa-bound", "--grant-type", "client_credentials", "--scope", passport.ScopeAdmin, "--scope", passport.ScopeAccount,
		"--admin-org", "atk-sa-a")
	sa := &apiCaller{name: "service account of A", token: serviceAccountToken(t, srv, "atk-sa-bound", secret, passport.ScopeAdmin)}
	for _, r := range []struct {
		method, path string
		body         any
	}{
		{"GET", "/admin/orgs/" + orgB, nil},
		{"GET", "/admin/orgs/atk-sa-b/members", nil},
		{"POST", "/admin/accounts/" + memberB + "/block", nil},
		{"GET", "/admin/members?org=atk-sa-b", nil},
	} {
		if status, out := sa.call(t, srv, r.method, r.path, r.body); status != http.StatusNotFound {
			t.Errorf("service account of A: %s %s: %d %v, want 404", r.method, r.path, status, out)
		}
	}
	for _, r := range []struct {
		method, path string
		body         any
	}{
		{"POST", "/admin/orgs", map[string]string{"alias": "atk-sa-new", "name": "New"}},
		{"PATCH", "/admin/orgs/" + orgA, map[string]string{"status": "disabled"}},
		{"PATCH", "/admin/orgs/" + orgA, map[string]string{"name": "Renamed"}},
	} {
		if status, out := sa.call(t, srv, r.method, r.path, r.body); status != http.StatusForbidden {
			t.Errorf("service account of A: %s %s: %d %v, want 403", r.method, r.path, status, out)
		}
	}
	if dbString(t, db, `SELECT name || '/' || status FROM organisations WHERE id = $1`, orgA) != "Attack SA A/active" {
		t.Error("the service account changed its organisation")
	}
	// A token of the bound client without passport:admin.
	noScope := &apiCaller{name: "bound client without the scope", token: serviceAccountToken(t, srv, "atk-sa-bound", secret, passport.ScopeAccount)}
	if status, out := noScope.call(t, srv, "GET", "/admin/orgs", nil); status != http.StatusForbidden {
		t.Errorf("bound client's token without passport:admin: %d %v, want 403", status, out)
	}
	// The client disabled after the token was issued.
	mustExec(t, db, `UPDATE clients SET disabled = true WHERE id = 'atk-sa-bound'`)
	if status, out := sa.call(t, srv, "GET", "/admin/orgs/"+orgA+"/members", nil); status < 400 {
		t.Errorf("a disabled client's token: %d %v, want 401 or 404", status, out)
	}
	// Someone else's token sent as another scheme, or twice.
	for _, auth := range []string{"Basic " + base64.StdEncoding.EncodeToString([]byte("atk-sa-bound:"+secret)), "Bearer", "Bearer  ", "bearer " + sa.token + " x"} {
		resp, body := atkDo(t, nil, "GET", srv.URL+"/api/v1/admin/orgs", http.Header{"Authorization": {auth}}, "")
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("Authorization %q: %d %.200s, want 401", auth, resp.StatusCode, body)
		}
	}
}

// TestAttackEventFeeds: what an administrator does to a person shows in the person's feed,
// cabinet tab and export by organisation and role only (no account id, login, name, address
// or browser); A's administrator looking at a member who is also in B sees nothing B did.
func TestAttackEventFeeds(t *testing.T) {
	srv := startServer(t, "", "PASSPORT_ADMIN_REQUIRE_TWO_FACTOR", "false")
	orgA := setupOrg(t, "atk-ev-a", "Attack Events A", "driver", "clerk")
	orgB := setupOrg(t, "atk-ev-b", "Attack Events B", "auditor")
	person := setupSelfUser(t, "atk-ev-person", atkPassword)
	joinOrg(t, orgA, person, true, "Driver", "driver")
	joinOrg(t, orgB, person, false, "", "auditor")
	adminA := setupUser(t, "atk-ev-admin-a", atkPassword)
	grantAdmin(t, adminA, passport.RoleOrgAdmin, orgA)
	adminB := setupUser(t, "atk-ev-admin-b", atkPassword)
	grantAdmin(t, adminB, passport.RoleOrgAdmin, orgB)
	a := adminCookie(t, srv, "admin of A", "atk-ev-admin-a", atkPassword, orgA)
	bAdm := adminCookie(t, srv, "admin of B", "atk-ev-admin-b", atkPassword, orgB)

	const agent = "SneakyAdminAgent/9.9"
	act := func(c *apiCaller, method, path, body string) {
		t.Helper()
		csrf := hidden(readPage(t, c.b, srv.URL+"/profile")).Get("csrf")
		resp, out := atkDo(t, c.b.Client, method, srv.URL+"/api/v1"+path,
			http.Header{"Content-Type": {"application/json"}, "X-CSRF-Token": {csrf}, "User-Agent": {agent}}, body)
		if resp.StatusCode >= 300 {
			t.Fatalf("%s %s %s: %d %.300s", c.name, method, path, resp.StatusCode, out)
		}
	}
	act(a, "PUT", "/admin/orgs/"+orgA+"/members/"+person+"/roles", `{"roles":["clerk"]}`)
	act(a, "PATCH", "/admin/orgs/"+orgA+"/members/"+person, `{"position":"Clerk"}`)
	act(bAdm, "PATCH", "/admin/orgs/"+orgB+"/members/"+person, `{"position":"Secret auditor of B"}`)
	act(bAdm, "PUT", "/admin/orgs/"+orgB+"/members/"+person+"/roles", `{"roles":[]}`)
	act(a, "DELETE", "/admin/accounts/"+person+"/sessions", "")

	pb := newBrowser(t, srv)
	signInDirectly(t, pb, "atk-ev-person", atkPassword)
	_, feed := atkDo(t, pb.Client, "GET", srv.URL+"/api/v1/me/events?limit=200", nil, "")
	_, tab := atkDo(t, pb.Client, "GET", srv.URL+"/profile/events", nil, "")
	_, export := atkDo(t, pb.Client, "GET", srv.URL+"/profile/export", nil, "")
	for what, text := range map[string]string{"/api/v1/me/events": feed, "the cabinet's tab": tab, "the export": export} {
		if !strings.Contains(text, "Attack Events A") {
			t.Errorf("%s does not name the acting organisation: %.300s", what, text)
		}
		for _, secret := range []string{adminA, adminB, "atk-ev-admin", agent, "SneakyAdminAgent"} {
			if strings.Contains(text, secret) {
				t.Errorf("%s reveals the administrator (%q)", what, secret)
			}
		}
	}

	// A's administrator's views of the shared member.
	_, apiView := atkDo(t, a.b.Client, "GET", srv.URL+"/api/v1/admin/orgs/"+orgA+"/members/"+person+"/events?limit=200", nil, "")
	_, orgFeed := atkDo(t, a.b.Client, "GET", srv.URL+"/api/v1/admin/events?limit=200", nil, "")
	_, detail := atkDo(t, a.b.Client, "GET", srv.URL+"/api/v1/admin/orgs/"+orgA+"/members/"+person, nil, "")
	_, page := atkDo(t, a.b.Client, "GET", srv.URL+"/admin/orgs/atk-ev-a/members/"+person, nil, "")
	_, consoleFeed := atkDo(t, a.b.Client, "GET", srv.URL+"/admin/events", nil, "")
	for what, text := range map[string]string{"member events (API)": apiView, "events (API)": orgFeed, "member (API)": detail,
		"member page": page, "console events": consoleFeed} {
		for _, secret := range []string{orgB, "Attack Events B", "atk-ev-b", "Secret auditor", "auditor", adminB} {
			if strings.Contains(text, secret) {
				t.Errorf("A's administrator's %s shows B's %q", what, secret)
			}
		}
	}
}

// TestAttackGarbageParameters: pagination, search and filter parameters with garbage never
// give a 500 nor leave the administrator's scope.
func TestAttackGarbageParameters(t *testing.T) {
	srv := startServer(t, "", "PASSPORT_ADMIN_REQUIRE_TWO_FACTOR", "false")
	orgA := setupOrg(t, "atk-gb-a", "Attack Garbage A", "driver")
	orgB := setupOrg(t, "atk-gb-b", "Attack Garbage B", "driver")
	memberA := setupUser(t, "atk-gb-ma", atkPassword)
	joinOrg(t, orgA, memberA, true, "", "driver")
	memberB := setupUser(t, "atk-gb-mb", atkPassword)
	joinOrg(t, orgB, memberB, true, "", "driver")
	admin := setupUser(t, "atk-gb-admin", atkPassword)
	grantAdmin(t, admin, passport.RoleOrgAdmin, orgA)
	c := adminCookie(t, srv, "admin of A", "atk-gb-admin", atkPassword, orgA)

	b64 := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	long := strings.Repeat("a", 101)
	huge := strings.Repeat("é", 4000)
	paths := []string{
		"/api/v1/admin/events?before=abc", "/api/v1/admin/events?before=-1", "/api/v1/admin/events?before=0",
		"/api/v1/admin/events?before=99999999999999999999", "/api/v1/admin/events?before=9223372036854775807",
		"/api/v1/admin/events?limit=0", "/api/v1/admin/events?limit=201", "/api/v1/admin/events?limit=-1", "/api/v1/admin/events?limit=1e2",
		"/api/v1/admin/events?limit=99999999999999999999", "/api/v1/admin/events?before=1&before=x",
		"/api/v1/admin/orgs/" + orgA + "/events?before=%20", "/api/v1/admin/orgs/" + orgA + "/members/" + memberA + "/events?before=-5",
		"/api/v1/admin/members?cursor=!!!", "/api/v1/admin/members?cursor=" + b64("x\x00not-a-uuid"),
		"/api/v1/admin/members?cursor=" + b64("\x00"+orgA), "/api/v1/admin/members?cursor=" + b64("a\x00"+orgA+"\x00"+orgB),
		"/api/v1/admin/members?cursor=" + b64("\xff\xfe\x00"+orgA), "/api/v1/admin/members?cursor=" + strings.Repeat("A", 600),
		"/api/v1/admin/members?cursor=" + b64("zzz\x00"+strings.ToUpper(orgB)),
		"/api/v1/admin/members?limit=100000", "/api/v1/admin/members?q=" + long, "/api/v1/admin/members?q=" + url.QueryEscape(huge),
		"/api/v1/admin/members?q=%FF", "/api/v1/admin/members?q=%00", "/api/v1/admin/members?role=%00", "/api/v1/admin/members?role=" + long,
		"/api/v1/admin/members?status=bogus", "/api/v1/admin/members?verification=%27", "/api/v1/admin/members?org=..%2F..",
		"/api/v1/admin/members?org=" + strings.ToUpper(orgB), "/api/v1/admin/members?org=%00", "/api/v1/admin/members?org=" + long,
		"/api/v1/admin/orgs/" + strings.ToUpper(orgB), "/api/v1/admin/orgs/" + orgA + "/members/" + strings.ToUpper(memberB),
		"/api/v1/admin/orgs/" + orgA + "/members/%FF", "/api/v1/admin/orgs/aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaz",
		"/admin/members?after=!!!&limit=99999999999999999999", "/admin/members?q=" + long, "/admin/members?q=%FF",
		"/admin/members?after=" + b64("zzz\x00"+orgB), "/admin/members?status=bogus&role=%27%22",
		"/admin/events?before=abc", "/admin/events?before=-9", "/admin/events?org=" + long, "/admin/events?org=" + strings.ToUpper(orgB),
		"/admin/orgs/atk-gb-a/members/" + memberA + "?before=abc", "/admin/orgs/atk-gb-a/members/" + memberA + "?before=-1",
		"/admin/orgs/" + strings.ToUpper(orgB) + "/members/" + memberB,
	}
	for _, p := range paths {
		resp, body := atkDo(t, c.b.Client, "GET", srv.URL+p, nil, "")
		if resp.StatusCode >= 500 {
			t.Errorf("GET %s: %d %.200s", p, resp.StatusCode, body)
		}
		if strings.Contains(body, "atk-gb-mb") || strings.Contains(body, "Attack Garbage B") {
			t.Errorf("GET %s shows B: %.300s", p, body)
		}
	}
	// LIKE wildcards are literal.
	for _, q := range []string{"%", "_", "\\", "%%", "a%b", "atk_gb"} {
		out := c.mustCall(t, srv, http.StatusOK, "GET", "/admin/members?q="+url.QueryEscape(q), nil)
		if list, _ := out["members"].([]any); len(list) != 0 {
			t.Errorf("search %q matches %d members: LIKE wildcards are not escaped", q, len(list))
		}
	}
	// JSON bodies with garbage.
	for _, body := range []string{`{"login":"\u0000"}`, `{"login":"` + long + `"}`, `{"login":"%"}`, `{"login":"x","roles":["\ud800"]}`,
		`{"login":"atk-gb-mb","roles":["` + long + `"]}`, `{"login":"atk-gb-mb","position":"<script>"}`, `[]`, `{"login":null}`} {
		csrf := hidden(readPage(t, c.b, srv.URL+"/profile")).Get("csrf")
		resp, out := atkDo(t, c.b.Client, "POST", srv.URL+"/api/v1/admin/orgs/"+orgA+"/members",
			http.Header{"Content-Type": {"application/json"}, "X-CSRF-Token": {csrf}}, body)
		if resp.StatusCode >= 500 || resp.StatusCode < 400 {
			t.Errorf("add member %s: %d %.200s", body, resp.StatusCode, out)
		}
	}
}

// TestAttackMethodsAndIdentities: other methods on console routes, and member ids of
// accounts outside the organisation, deleted or purged, reach nothing.
func TestAttackMethodsAndIdentities(t *testing.T) {
	srv := startServer(t, "", "PASSPORT_ADMIN_REQUIRE_TWO_FACTOR", "false")
	db := openDB(t)
	org := setupOrg(t, "atk-id", "Attack Identities", "driver")
	member := setupUser(t, "atk-id-member", atkPassword)
	joinOrg(t, org, member, true, "", "driver")
	loner := setupUser(t, "atk-id-loner", atkPassword) // in no organisation
	gone := setupUser(t, "atk-id-gone", atkPassword)
	joinOrg(t, org, gone, true, "", "driver")
	// Deleted as the purge leaves it: status deleted, memberships gone.
	mustExec(t, db, `UPDATE accounts SET status = 'deleted' WHERE id = $1`, gone)
	mustExec(t, db, `DELETE FROM memberships WHERE account_id = $1`, gone)
	admin := setupUser(t, "atk-id-admin", atkPassword)
	grantAdmin(t, admin, passport.RoleOrgAdmin, org)
	c := adminCookie(t, srv, "admin", "atk-id-admin", atkPassword, org)

	for _, m := range []string{"PUT", "PATCH", "DELETE", "HEAD"} {
		resp, _ := atkDo(t, c.b.Client, m, srv.URL+"/admin/orgs/atk-id/members/"+member+"/block", nil, "")
		if resp.StatusCode != http.StatusMethodNotAllowed && resp.StatusCode != http.StatusNotFound && resp.StatusCode != http.StatusForbidden {
			t.Errorf("%s …/block: %d", m, resp.StatusCode)
		}
	}
	if atkStatus(t, member) != passport.StatusActive {
		t.Error("another method blocked the member")
	}
	for _, id := range []string{loner, gone} {
		for _, r := range [][2]string{{"GET", "/admin/orgs/" + org + "/members/" + id}, {"GET", "/admin/orgs/" + org + "/members/" + id + "/events"},
			{"POST", "/admin/accounts/" + id + "/block"}, {"POST", "/admin/accounts/" + id + "/unblock"},
			{"DELETE", "/admin/accounts/" + id + "/sessions"}, {"PATCH", "/admin/orgs/" + org + "/members/" + id},
			{"PUT", "/admin/orgs/" + org + "/members/" + id + "/roles"}, {"DELETE", "/admin/orgs/" + org + "/members/" + id}} {
			var body any
			switch {
			case r[0] == "PATCH":
				body = map[string]any{"position": "Ghost"}
			case r[0] == "PUT":
				body = map[string]any{"roles": []string{"driver"}}
			}
			if status, out := c.call(t, srv, r[0], r[1], body); status != http.StatusNotFound {
				t.Errorf("%s %s (an account %s): %d %v, want 404", r[0], r[1],
					map[bool]string{true: "in no organisation", false: "deleted"}[id == loner], status, out)
			}
		}
	}
	if n := dbCount(t, db, `SELECT count(*) FROM memberships WHERE account_id = $1 AND position = 'Ghost'`, gone); n != 0 {
		t.Error("a deleted account's membership was edited")
	}
}

// TestAttackRoleAndNameMarkup: role names and positions with markup never reach a page as
// markup (console pages, the person's cabinet).
func TestAttackRoleAndNameMarkup(t *testing.T) {
	srv := startServer(t, "", "PASSPORT_ADMIN_REQUIRE_TWO_FACTOR", "false")
	org := setupOrg(t, "atk-xss", "Attack XSS")
	person := setupSelfUser(t, "atk-xss-person", atkPassword)
	joinOrg(t, org, person, true, "")
	admin := setupUser(t, "atk-xss-admin", atkPassword)
	grantAdmin(t, admin, passport.RoleOrgAdmin, org)
	c := adminCookie(t, srv, "admin", "atk-xss-admin", atkPassword, org)
	const payload = `"><img src=x onerror=alert(1)>`
	status, _ := c.call(t, srv, "PUT", "/admin/orgs/"+org+"/roles/xss", map[string]any{"names": map[string]string{"en": payload, "ru": "<b>x</b>"}})
	if status < 400 {
		c.call(t, srv, "PUT", "/admin/orgs/"+org+"/members/"+person+"/roles", map[string]any{"roles": []string{"xss"}})
	}
	c.call(t, srv, "PATCH", "/admin/orgs/"+org+"/members/"+person, map[string]any{"position": payload})
	pb := newBrowser(t, srv)
	signInDirectly(t, pb, "atk-xss-person", atkPassword)
	for _, p := range []struct {
		b    *browser
		path string
	}{{c.b, "/admin/orgs/atk-xss"}, {c.b, "/admin/members?org=atk-xss"}, {c.b, "/admin/orgs/atk-xss/members/" + person},
		{c.b, "/admin/events"}, {pb, "/profile"}, {pb, "/profile/events"}} {
		_, page := atkDo(t, p.b.Client, "GET", srv.URL+p.path, nil, "")
		if strings.Contains(page, "<img src=x") || strings.Contains(page, "<b>x</b>") {
			t.Errorf("%s renders the markup", p.path)
		}
	}
	// The key cannot collide by case or space with another.
	for _, key := range []string{"XSS", " xss", "xss ", "x/ss", "../x"} {
		if status, out := c.call(t, srv, "PUT", "/admin/orgs/"+org+"/roles/"+url.PathEscape(key), map[string]any{"names": map[string]string{"en": "K"}}); status < 400 && key != " xss" && key != "xss " {
			t.Errorf("role key %q accepted: %d %v", key, status, out)
		}
	}
}

// TestAttackServiceAdminBlocksLoneAccount: a service administrator ("everything") must be
// able to block a compromised account that belongs to no organisation; the account routes
// of the admin API reach an account only through an organisation, so the service
// administrator gets 404 and cannot stop the account (a gap in incident response).
func TestAttackServiceAdminBlocksLoneAccount(t *testing.T) {
	srv := startServer(t, "", "PASSPORT_ADMIN_REQUIRE_TWO_FACTOR", "false")
	loner := setupUser(t, "atk-lone-account", atkPassword)
	service := setupUser(t, "atk-lone-service", atkPassword)
	grantAdmin(t, service, passport.RoleServiceAdmin, "")
	c := adminCookie(t, srv, "service admin", "atk-lone-service", atkPassword, "*")
	status, out := c.call(t, srv, "POST", "/admin/accounts/"+loner+"/block", nil)
	if status != http.StatusNoContent || atkStatus(t, loner) != passport.StatusBlocked {
		t.Errorf("a service administrator blocking an account in no organisation: %d %v, account %s; want 204 and the "+
			"account blocked (the service administrator's authority is not bounded by memberships)", status, out, atkStatus(t, loner))
	}
}

// TestAttackForeignManagedMember: an account that B created (managed by B) and that joined A
// cannot be blocked or signed out by A's administrator, by A's member routes or by the
// account routes; removing it from A ends A's membership only.
func TestAttackForeignManagedMember(t *testing.T) {
	srv := startServer(t, "", "PASSPORT_ADMIN_REQUIRE_TWO_FACTOR", "false")
	db := openDB(t)
	orgA := setupOrg(t, "atk-fm-a", "Attack Foreign A")
	orgB := setupOrg(t, "atk-fm-b", "Attack Foreign B")
	x := setupUser(t, "atk-fm-person", atkPassword)
	joinOrg(t, orgB, x, true, "")
	joinOrg(t, orgA, x, false, "")
	admin := setupUser(t, "atk-fm-admin", atkPassword)
	grantAdmin(t, admin, passport.RoleOrgAdmin, orgA)
	c := adminCookie(t, srv, "admin of A", "atk-fm-admin", atkPassword, orgA)
	xb := newBrowser(t, srv)
	signInDirectly(t, xb, "atk-fm-person", atkPassword)

	for _, r := range [][2]string{{"POST", "/admin/accounts/" + x + "/block"}, {"DELETE", "/admin/accounts/" + x + "/sessions"}} {
		if status, out := c.call(t, srv, r[0], r[1], nil); status != http.StatusForbidden && status != http.StatusNotFound {
			t.Errorf("%s %s: %d %v, want 403 or 404", r[0], r[1], status, out)
		}
	}
	for _, p := range []string{"/block", "/end-sessions"} {
		consolePost(t, c.b, "/admin/orgs/atk-fm-a/members/"+x+p, "", url.Values{})
	}
	if atkStatus(t, x) != passport.StatusActive || !signedInToCabinet(t, xb) {
		t.Error("A's administrator blocked or signed out an account B manages")
	}
	out := c.mustCall(t, srv, http.StatusOK, "DELETE", "/admin/orgs/"+orgA+"/members/"+x, nil)
	if out["deletion_scheduled"] != false || atkStatus(t, x) != passport.StatusActive ||
		dbCount(t, db, `SELECT count(*) FROM memberships WHERE account_id = $1 AND org_id = $2`, x, orgB) != 1 {
		t.Errorf("removing B's managed account from A: %v, account %s", out, atkStatus(t, x))
	}
}
