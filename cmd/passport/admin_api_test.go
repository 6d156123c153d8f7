package main

import (
	"context"
	"encoding/base64"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	openapi_types "github.com/oapi-codegen/runtime/types"
	"golang.org/x/oauth2"

	"github.com/passport-idp/passport/internal/passport"
	"github.com/passport-idp/passport/internal/postgres"
	"github.com/passport-idp/passport/pkg/account"
)

// The admin API through the real server: every action works and leaves exactly one
// security event naming the administrator as actor (kind, role, organisation), the subject
// account and the organisation, readable through the API's event feeds; refusals change
// nothing; the member list's pages visit every member once.

// adminEvent is a security event as stored.
type adminEvent struct {
	ID                                          int64
	Type, Kind, ActorID, Role, ActorOrg, Client string
	Subject, Org                                string
}

func maxEventID(t *testing.T, db *postgres.DB) int64 {
	t.Helper()
	var id int64
	if err := db.Pool().QueryRow(context.Background(), `SELECT coalesce(max(id), 0) FROM security_events`).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id
}

// adminEventsSince returns the events after since that concern the organisation, the
// subject or the actor (so another server's background work cannot interfere), oldest first.
func adminEventsSince(t *testing.T, db *postgres.DB, since int64, orgID, subject, actorID, clientID string) []adminEvent {
	t.Helper()
	rows, err := db.Pool().Query(context.Background(), `
		SELECT id, type, actor_kind, coalesce(actor_id::text, ''), actor_role, coalesce(actor_org_id::text, ''), client_id,
			coalesce(account_id::text, ''), coalesce(org_id::text, '')
		FROM security_events
		WHERE id > $1 AND (org_id::text = $2 OR actor_org_id::text = $2 OR account_id::text = $3 OR actor_id::text = $4
			OR ($5 <> '' AND client_id = $5))
		ORDER BY id`, since, orgID, subject, actorID, clientID)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []adminEvent
	for rows.Next() {
		var e adminEvent
		if err := rows.Scan(&e.ID, &e.Type, &e.Kind, &e.ActorID, &e.Role, &e.ActorOrg, &e.Client, &e.Subject, &e.Org); err != nil {
			t.Fatal(err)
		}
		out = append(out, e)
	}
	return out
}

// wantEvent is what an action's event must say.
type wantEvent struct {
	Type, Kind, ActorID, Role, ActorOrg, Client, Subject, Org string
}

// checkEvents compares the events written since with want, field by field.
func checkEvents(t *testing.T, db *postgres.DB, what string, since int64, want ...wantEvent) []adminEvent {
	t.Helper()
	w0 := want[0]
	got := adminEventsSince(t, db, since, w0.Org, w0.Subject, w0.ActorID, w0.Client)
	if len(got) != len(want) {
		t.Errorf("%s: %d security events %+v, want %d", what, len(got), got, len(want))
		return got
	}
	for i, w := range want {
		g := got[i]
		if (wantEvent{g.Type, g.Kind, g.ActorID, g.Role, g.ActorOrg, g.Client, g.Subject, g.Org}) != w {
			t.Errorf("%s: event %+v, want %+v", what, g, w)
		}
	}
	return got
}

// checkFeed reads the newest event of an admin API feed and compares it with the stored one.
func checkFeed(t *testing.T, srv *server, c *apiCaller, what, feed string, e adminEvent) {
	t.Helper()
	out := c.mustCall(t, srv, http.StatusOK, "GET", feed+"?limit=1", nil)
	list, _ := out["events"].([]any)
	if len(list) != 1 {
		t.Errorf("%s: %s: %v", what, feed, out)
		return
	}
	j := list[0].(map[string]any)
	actor, _ := j["actor"].(map[string]any)
	str := func(m map[string]any, k string) string { s, _ := m[k].(string); return s }
	orgOf := func(m map[string]any) string {
		o, _ := m["organisation"].(map[string]any)
		return str(o, "id")
	}
	id, _ := j["id"].(float64)
	got := []string{str(j, "type"), str(actor, "kind"), str(actor, "account_id"), str(actor, "role"), orgOf(actor),
		str(actor, "client_id"), str(j, "account_id"), orgOf(j)}
	want := []string{e.Type, e.Kind, e.ActorID, e.Role, e.ActorOrg, e.Client, e.Subject, e.Org}
	if int64(id) != e.ID || !slices.Equal(got, want) || str(j, "description") == "" || str(j, "description") == e.Type {
		t.Errorf("%s: %s shows %v, want event %d %v with a description", what, feed, j, e.ID, want)
	}
}

// userinfoStatus calls /userinfo with an access token and returns the status.
func userinfoStatus(t *testing.T, srv *server, token string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/userinfo", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	readBody(t, resp)
	return resp.StatusCode
}

// signedInToCabinet reports whether the browser's session still opens the cabinet.
func signedInToCabinet(t *testing.T, b *browser) bool {
	t.Helper()
	resp, _ := b.get(b.base + "/profile")
	return resp.Request.URL.Path == "/profile"
}

func liveSessions(t *testing.T, db *postgres.DB, accountID string) int {
	t.Helper()
	var n int
	if err := db.Pool().QueryRow(context.Background(), `SELECT count(*) FROM sessions WHERE account_id = $1 AND ended_at IS NULL`,
		accountID).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func dbString(t *testing.T, db *postgres.DB, sql string, args ...any) string {
	t.Helper()
	var s string
	if err := db.Pool().QueryRow(context.Background(), sql, args...).Scan(&s); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return s
}

func dbCount(t *testing.T, db *postgres.DB, sql string, args ...any) int {
	t.Helper()
	var n int
	if err := db.Pool().QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return n
}

func fieldOf(out map[string]any) map[string]any {
	e, _ := out["error"].(map[string]any)
	f, _ := e["fields"].(map[string]any)
	return f
}

// TestAdminAPIActions: each action through the API, by the service administrator (the
// organisation's life) or the organisation's administrator and service account (roles and
// members), with its one security event.
func TestAdminAPIActions(t *testing.T) {
	srv := startServer(t, "", "PASSPORT_ADMIN_REQUIRE_TWO_FACTOR", "false")
	db := openDB(t)
	const pw = "admin-password-1"
	serviceID := setupUser(t, "api-service", pw)
	grantAdmin(t, serviceID, passport.RoleServiceAdmin, "")
	svc := adminCookie(t, srv, "service admin", "api-service", pw, "*")

	// The organisation's life: create, rename, disable, enable.
	since := maxEventID(t, db)
	out := svc.mustCall(t, srv, http.StatusCreated, "POST", "/admin/orgs", map[string]string{"alias": "api-org", "name": "API Org"})
	orgID, _ := out["id"].(string)
	if out["alias"] != "api-org" || out["name"] != "API Org" || out["status"] != "active" || orgID == "" {
		t.Fatalf("created: %v", out)
	}
	byAlias := svc.mustCall(t, srv, http.StatusOK, "GET", "/admin/orgs/api-org", nil)
	if byAlias["id"] != orgID {
		t.Errorf("by alias: %v", byAlias)
	}
	svcEvent := func(typ, subject string) wantEvent {
		return wantEvent{Type: typ, Kind: passport.ActorAdmin, ActorID: serviceID, Role: passport.RoleServiceAdmin, Subject: subject, Org: orgID}
	}
	orgFeed := "/admin/orgs/" + orgID + "/events"
	ev := checkEvents(t, db, "create", since, svcEvent(passport.EventOrgCreated, ""))
	if len(ev) == 1 {
		checkFeed(t, srv, svc, "create", orgFeed, ev[0])
	}
	for _, step := range []struct {
		what string
		body map[string]string
		typ  string
		want string // the field that changed, as it must read afterwards
	}{
		{"rename", map[string]string{"name": "API Organisation"}, passport.EventOrgRenamed, "API Organisation"},
		{"disable", map[string]string{"status": "disabled"}, passport.EventOrgDisabled, "disabled"},
		{"enable", map[string]string{"status": "active"}, passport.EventOrgEnabled, "active"},
	} {
		since = maxEventID(t, db)
		out := svc.mustCall(t, srv, http.StatusOK, "PATCH", "/admin/orgs/"+orgID, step.body)
		if out["name"] != step.want && out["status"] != step.want {
			t.Errorf("%s: %v", step.what, out)
		}
		if ev := checkEvents(t, db, step.what, since, svcEvent(step.typ, "")); len(ev) == 1 {
			checkFeed(t, srv, svc, step.what, orgFeed, ev[0])
		}
	}
	if s := dbString(t, db, `SELECT name || '/' || status FROM organisations WHERE id = $1`, orgID); s != "API Organisation/active" {
		t.Errorf("stored organisation: %s", s)
	}

	// The organisation's administrator: roles and members.
	adminID := setupUser(t, "api-orgadmin", pw)
	grantAdmin(t, adminID, passport.RoleOrgAdmin, orgID)
	adm := adminCookie(t, srv, "org admin", "api-orgadmin", pw, orgID)
	admEvent := func(typ, subject string) wantEvent {
		return wantEvent{Type: typ, Kind: passport.ActorAdmin, ActorID: adminID, Role: passport.RoleOrgAdmin, ActorOrg: orgID,
			Subject: subject, Org: orgID}
	}
	for _, key := range []string{"driver", "dispatcher"} {
		since = maxEventID(t, db)
		out := adm.mustCall(t, srv, http.StatusOK, "PUT", "/admin/orgs/"+orgID+"/roles/"+key,
			map[string]any{"names": map[string]string{"en": strings.ToUpper(key[:1]) + key[1:], "ru": "Роль " + key}})
		if out["key"] != key {
			t.Errorf("save role %s: %v", key, out)
		}
		if ev := checkEvents(t, db, "save role "+key, since, admEvent(passport.EventRoleSaved, "")); len(ev) == 1 {
			checkFeed(t, srv, adm, "save role", orgFeed, ev[0])
		}
	}
	roles := adm.mustCall(t, srv, http.StatusOK, "GET", "/admin/orgs/"+orgID+"/roles", nil)
	if got := toJSON(roles["roles"]); !strings.Contains(got, `"key":"dispatcher"`) || !strings.Contains(got, `"ru":"Роль driver"`) {
		t.Errorf("roles: %s", got)
	}

	// Add an existing account (primary elsewhere) as an unmanaged member.
	elsewhere := setupOrg(t, "api-elsewhere", "Elsewhere")
	joinerID := setupUser(t, "api-joiner", "member-password-1")
	joinOrg(t, elsewhere, joinerID, false, "Clerk")
	memberPath := "/admin/orgs/" + orgID + "/members/" + joinerID
	since = maxEventID(t, db)
	out = adm.mustCall(t, srv, http.StatusCreated, "POST", "/admin/orgs/"+orgID+"/members",
		map[string]any{"login": "api-joiner", "roles": []string{"dispatcher"}, "position": "Dispatcher"})
	if out["account_id"] != joinerID || out["managed"] != false || out["primary"] != false || toJSON(out["roles"]) != `["dispatcher"]` ||
		out["position"] != "Dispatcher" {
		t.Errorf("added: %v", out)
	}
	if ms, _ := out["memberships"].([]any); len(ms) != 1 { // Elsewhere is not the administrator's to see
		t.Errorf("memberships in the administrator's scope: %v", out["memberships"])
	}
	if ev := checkEvents(t, db, "add member", since, admEvent(passport.EventMemberAdded, joinerID)); len(ev) == 1 {
		checkFeed(t, srv, adm, "add member", orgFeed, ev[0])
		checkFeed(t, srv, adm, "add member", memberPath+"/events", ev[0])
	}

	since = maxEventID(t, db)
	out = adm.mustCall(t, srv, http.StatusOK, "PUT", memberPath+"/roles", map[string]any{"roles": []string{"driver", "dispatcher"}})
	if toJSON(out["roles"]) != `["dispatcher","driver"]` {
		t.Errorf("roles changed: %v", out["roles"])
	}
	if ev := checkEvents(t, db, "change roles", since, admEvent(passport.EventMembershipChanged, joinerID)); len(ev) == 1 {
		checkFeed(t, srv, adm, "change roles", memberPath+"/events", ev[0])
	}

	since = maxEventID(t, db)
	// The person's primary organisation is elsewhere: this organisation may not take the
	// mark (it is how they present themselves), and nothing changes.
	adm.mustCall(t, srv, http.StatusUnprocessableEntity, "PATCH", memberPath, map[string]any{"position": "Senior dispatcher", "primary": true})
	if n := maxEventID(t, db); n != since {
		t.Errorf("a refused primary change wrote events")
	}
	out = adm.mustCall(t, srv, http.StatusOK, "PATCH", memberPath, map[string]any{"position": "Senior dispatcher"})
	if out["position"] != "Senior dispatcher" || out["primary"] != false {
		t.Errorf("position: %v", out)
	}
	if p := dbString(t, db, `SELECT string_agg(org_id::text || '=' || is_primary, ',' ORDER BY is_primary) FROM memberships WHERE account_id = $1`,
		joinerID); p != orgID+"=false,"+elsewhere+"=true" {
		t.Errorf("primary marks: %s", p)
	}
	if ev := checkEvents(t, db, "position", since, admEvent(passport.EventMembershipChanged, joinerID)); len(ev) == 1 {
		checkFeed(t, srv, adm, "position", memberPath+"/events", ev[0])
	}

	since = maxEventID(t, db)
	adm.mustCall(t, srv, http.StatusNoContent, "DELETE", "/admin/orgs/"+orgID+"/roles/dispatcher", nil)
	if ev := checkEvents(t, db, "delete role", since, admEvent(passport.EventRoleDeleted, "")); len(ev) == 1 {
		checkFeed(t, srv, adm, "delete role", orgFeed, ev[0])
	}
	if out := adm.mustCall(t, srv, http.StatusOK, "GET", memberPath, nil); toJSON(out["roles"]) != `["driver"]` {
		t.Errorf("after the role's deletion the member holds %v", out["roles"])
	}
	if n := dbCount(t, db, `SELECT count(*) FROM memberships WHERE 'dispatcher' = ANY(roles)`); n != 0 {
		t.Errorf("%d memberships still hold the deleted role", n)
	}

	since = maxEventID(t, db)
	out = adm.mustCall(t, srv, http.StatusOK, "DELETE", memberPath, nil)
	if out["deletion_scheduled"] != false {
		t.Errorf("remove unmanaged: %v", out)
	}
	if ev := checkEvents(t, db, "remove unmanaged", since, admEvent(passport.EventMemberRemoved, joinerID)); len(ev) == 1 {
		checkFeed(t, srv, adm, "remove unmanaged", orgFeed, ev[0])
	}
	if s := dbString(t, db, `SELECT status FROM accounts WHERE id = $1`, joinerID); s != passport.StatusActive {
		t.Errorf("an unmanaged member's account after removal: %s", s)
	}
	if got, _ := adm.call(t, srv, "GET", memberPath, nil); got != http.StatusNotFound {
		t.Errorf("removed member: GET %d, want 404", got)
	}

	// A managed member: removal schedules the account's deletion and ends its sessions.
	managedID := setupUser(t, "api-managed", "member-password-1")
	joinOrg(t, orgID, managedID, true, "Driver", "driver")
	managedBrowser := newBrowser(t, srv)
	signInDirectly(t, managedBrowser, "api-managed", "member-password-1")
	since = maxEventID(t, db)
	out = adm.mustCall(t, srv, http.StatusOK, "DELETE", "/admin/orgs/"+orgID+"/members/"+managedID, nil)
	if out["deletion_scheduled"] != true {
		t.Errorf("remove managed: %v", out)
	}
	// One action, one event: the deletion it schedules is in the removal's record.
	checkEvents(t, db, "remove managed", since, admEvent(passport.EventMemberRemoved, managedID))
	if d := dbString(t, db, `SELECT details->>'deletion_scheduled' FROM security_events WHERE id = (SELECT max(id) FROM security_events)`); d != "true" {
		t.Errorf("the removal's event does not say the deletion was scheduled: %q", d)
	}
	if s := dbString(t, db, `SELECT status FROM accounts WHERE id = $1`, managedID); s != passport.StatusPendingDeletion {
		t.Errorf("a managed member's account after removal: %s", s)
	}
	if n := liveSessions(t, db, managedID); n != 0 || signedInToCabinet(t, managedBrowser) {
		t.Errorf("a removed managed member still has %d sessions", n)
	}

	// Block: the member's session and tokens die at once; unblock; end sessions.
	rpSecret := setupClient(t, "api-member-app")
	rp := newRP(t, srv, "api-member-app", rpSecret, "profile")
	blockeeID := setupUser(t, "api-blockee", "member-password-1")
	joinOrg(t, orgID, blockeeID, true, "Driver", "driver")
	blockee := newBrowser(t, srv)
	v := oauth2.GenerateVerifier()
	tok, err := rp.exchange(rp.signIn(blockee, "blk", v, "api-blockee", "member-password-1"), v)
	if err != nil {
		t.Fatal(err)
	}
	if got := userinfoStatus(t, srv, tok.AccessToken); got != http.StatusOK {
		t.Fatalf("userinfo before the block: %d", got)
	}
	signInDirectly(t, blockee, "api-blockee", "member-password-1")
	since = maxEventID(t, db)
	adm.mustCall(t, srv, http.StatusNoContent, "POST", "/admin/accounts/"+blockeeID+"/block", nil)
	if ev := checkEvents(t, db, "block", since, admEvent(passport.EventAccountBlocked, blockeeID)); len(ev) == 1 {
		checkFeed(t, srv, adm, "block", "/admin/orgs/"+orgID+"/members/"+blockeeID+"/events", ev[0])
	}
	if got := userinfoStatus(t, srv, tok.AccessToken); got != http.StatusUnauthorized {
		t.Errorf("userinfo with the blocked member's access token: %d, want 401", got)
	}
	if signedInToCabinet(t, blockee) || liveSessions(t, db, blockeeID) != 0 {
		t.Error("the blocked member's session lives on")
	}
	if got, _ := adm.call(t, srv, "POST", "/admin/accounts/"+blockeeID+"/block", nil); got != http.StatusConflict {
		t.Errorf("blocking twice: %d, want 409", got)
	}

	since = maxEventID(t, db)
	adm.mustCall(t, srv, http.StatusNoContent, "POST", "/admin/accounts/"+blockeeID+"/unblock", nil)
	if ev := checkEvents(t, db, "unblock", since, admEvent(passport.EventAccountUnblocked, blockeeID)); len(ev) == 1 {
		checkFeed(t, srv, adm, "unblock", orgFeed, ev[0])
	}
	signInDirectly(t, blockee, "api-blockee", "member-password-1") // works again

	since = maxEventID(t, db)
	adm.mustCall(t, srv, http.StatusNoContent, "DELETE", "/admin/accounts/"+blockeeID+"/sessions", nil)
	if ev := checkEvents(t, db, "end sessions", since, admEvent(passport.EventSessionsEnded, blockeeID)); len(ev) == 1 {
		checkFeed(t, srv, adm, "end sessions", orgFeed, ev[0])
	}
	if signedInToCabinet(t, blockee) || liveSessions(t, db, blockeeID) != 0 {
		t.Error("sessions live on after the administrator ended them")
	}

	// The organisation's service account acts as its administrator, named as a client.
	saSecret := setupClient(t, "api-service-account", "--grant-type", "client_credentials", "--scope", passport.ScopeAdmin,
		"--admin-org", "api-org")
	sa := &apiCaller{name: "service account", token: serviceAccountToken(t, srv, "api-service-account", saSecret, passport.ScopeAdmin)}
	since = maxEventID(t, db)
	sa.mustCall(t, srv, http.StatusNoContent, "POST", "/admin/accounts/"+blockeeID+"/block", nil)
	if ev := checkEvents(t, db, "block by the service account", since, wantEvent{Type: passport.EventAccountBlocked, Kind: passport.ActorClient,
		Role: passport.RoleOrgAdmin, ActorOrg: orgID, Client: "api-service-account", Subject: blockeeID, Org: orgID}); len(ev) == 1 {
		checkFeed(t, srv, sa, "block by the service account", orgFeed, ev[0])
	}

	// The service administrator's feed has all of it.
	all := svc.mustCall(t, srv, http.StatusOK, "GET", "/admin/events?limit=200", nil)
	if !strings.Contains(toJSON(all["events"]), `"type":"org.created"`) {
		t.Errorf("GET /admin/events lacks the organisation's creation")
	}
}

// TestAdminAPIRefusals: mistakes answer a field error or 404 and change nothing.
func TestAdminAPIRefusals(t *testing.T) {
	srv := startServer(t, "", "PASSPORT_ADMIN_REQUIRE_TWO_FACTOR", "false")
	db := openDB(t)
	const pw = "admin-password-1"
	serviceID := setupUser(t, "ref-service", pw)
	grantAdmin(t, serviceID, passport.RoleServiceAdmin, "")
	svc := adminCookie(t, srv, "service admin", "ref-service", pw, "*")
	orgID := setupOrg(t, "ref-org", "Refusals Org", "driver")
	otherID := setupOrg(t, "ref-other", "Other Org", "driver")
	adminID := setupUser(t, "ref-admin", pw)
	grantAdmin(t, adminID, passport.RoleOrgAdmin, orgID)
	adm := adminCookie(t, srv, "org admin", "ref-admin", pw, orgID)
	memberID := setupUser(t, "ref-member", "member-password-1")
	joinOrg(t, orgID, memberID, true, "Driver", "driver")
	joinedID := setupUser(t, "ref-joined", "member-password-1")
	joinOrg(t, orgID, joinedID, false, "", "driver")
	foreignID := setupUser(t, "ref-foreign", "member-password-1")
	joinOrg(t, otherID, foreignID, true, "", "driver")
	setupUser(t, "ref-loner", "member-password-1")

	for _, tc := range []struct {
		what         string
		c            *apiCaller
		method, path string
		body         any
		status       int
		field        string
	}{
		{"bad alias", svc, "POST", "/admin/orgs", map[string]string{"alias": "Bad Alias!", "name": "Bad"}, 422, "alias"},
		{"duplicate alias", svc, "POST", "/admin/orgs", map[string]string{"alias": "ref-org", "name": "Twice"}, 422, "alias"},
		{"no name", svc, "POST", "/admin/orgs", map[string]string{"alias": "ref-noname", "name": " "}, 422, "name"},
		{"unknown JSON field", svc, "POST", "/admin/orgs", map[string]string{"alias": "ref-x", "name": "X", "colour": "red"}, 400, ""},
		{"bad status", svc, "PATCH", "/admin/orgs/" + orgID, map[string]string{"status": "frozen"}, 422, "status"},
		{"rename by an org admin", adm, "PATCH", "/admin/orgs/" + orgID, map[string]string{"name": "Mine Now"}, 403, ""},
		{"bad role key", adm, "PUT", "/admin/orgs/" + orgID + "/roles/Bad%20Key", map[string]any{"names": map[string]string{"en": "B"}}, 422, "key"},
		{"role without a name", adm, "PUT", "/admin/orgs/" + orgID + "/roles/nameless", map[string]any{"names": map[string]string{}}, 422, "names"},
		{"unknown role", adm, "PUT", "/admin/orgs/" + orgID + "/members/" + memberID + "/roles", map[string]any{"roles": []string{"driver", "pilot"}}, 422, "roles"},
		{"no roles", adm, "PUT", "/admin/orgs/" + orgID + "/members/" + memberID + "/roles", map[string]any{}, 422, "roles"},
		{"delete an unknown role", adm, "DELETE", "/admin/orgs/" + orgID + "/roles/pilot", nil, 404, ""},
		{"unknown login", adm, "POST", "/admin/orgs/" + orgID + "/members", map[string]any{"login": "ref-nobody"}, 422, "login"},
		{"add with an unknown role", adm, "POST", "/admin/orgs/" + orgID + "/members", map[string]any{"login": "ref-loner", "roles": []string{"pilot"}}, 422, "roles"},
		{"add a member twice", adm, "POST", "/admin/orgs/" + orgID + "/members", map[string]any{"login": "ref-member"}, 409, ""},
		{"foreign org", adm, "GET", "/admin/orgs/" + otherID, nil, 404, ""},
		{"foreign org by alias", adm, "GET", "/admin/orgs/ref-other/members", nil, 404, ""},
		{"foreign member through own org", adm, "PUT", "/admin/orgs/" + orgID + "/members/" + foreignID + "/roles", map[string]any{"roles": []string{}}, 404, ""},
		{"foreign member's events", adm, "GET", "/admin/orgs/" + orgID + "/members/" + foreignID + "/events", nil, 404, ""},
		{"block a foreign account", adm, "POST", "/admin/accounts/" + foreignID + "/block", nil, 404, ""},
		{"end a foreign account's sessions", adm, "DELETE", "/admin/accounts/" + foreignID + "/sessions", nil, 404, ""},
		{"remove a foreign member", adm, "DELETE", "/admin/orgs/" + otherID + "/members/" + foreignID, nil, 404, ""},
		{"no such member", adm, "GET", "/admin/orgs/" + orgID + "/members/00000000-0000-4000-8000-000000000000", nil, 404, ""},
		{"not an id", adm, "GET", "/admin/orgs/" + orgID + "/members/nobody", nil, 404, ""},
		{"block an account the organisation does not manage", adm, "POST", "/admin/accounts/" + joinedID + "/block", nil, 403, ""},
		{"garbage cursor", adm, "GET", "/admin/orgs/" + orgID + "/members?cursor=%25%25garbage", nil, 400, "cursor"},
		{"cursor of another shape", adm, "GET", "/admin/members?cursor=" + base64.RawURLEncoding.EncodeToString([]byte("login\x00not-a-uuid")), nil, 400, "cursor"},
		{"limit 0", adm, "GET", "/admin/members?limit=0", nil, 400, "limit"},
		{"limit 201", adm, "GET", "/admin/members?limit=201", nil, 400, "limit"},
		{"unknown status filter", adm, "GET", "/admin/members?status=sleeping", nil, 400, "status"},
		{"unknown verification filter", adm, "GET", "/admin/orgs/" + orgID + "/members?verification=maybe", nil, 400, "verification"},
		{"bad before", adm, "GET", "/admin/events?before=soon", nil, 400, "before"},
	} {
		before := eventCount(t, db, []string{orgID, otherID}, []string{memberID, joinedID, foreignID})
		orgs := dbCount(t, db, `SELECT count(*) FROM organisations`)
		state := dbString(t, db, `SELECT string_agg(account_id::text || ':' || array_to_string(roles, '+') || ':' || a.status, ',' ORDER BY account_id)
			FROM memberships JOIN accounts a ON a.id = account_id WHERE org_id = ANY($1::uuid[])`, []string{orgID, otherID})
		status, out := tc.c.call(t, srv, tc.method, tc.path, tc.body)
		if status != tc.status {
			t.Errorf("%s: got %d %v, want %d", tc.what, status, out, tc.status)
		}
		if fields := fieldOf(out); tc.field != "" && (len(fields) != 1 || fields[tc.field] == nil || fields[tc.field] == "") {
			t.Errorf("%s: fields %v, want a message for %q", tc.what, fields, tc.field)
		}
		if e, _ := out["error"].(map[string]any); e == nil || e["message"] == "" {
			t.Errorf("%s: no error message: %v", tc.what, out)
		}
		after := dbString(t, db, `SELECT string_agg(account_id::text || ':' || array_to_string(roles, '+') || ':' || a.status, ',' ORDER BY account_id)
			FROM memberships JOIN accounts a ON a.id = account_id WHERE org_id = ANY($1::uuid[])`, []string{orgID, otherID})
		if n := eventCount(t, db, []string{orgID, otherID}, []string{memberID, joinedID, foreignID}); n != before ||
			dbCount(t, db, `SELECT count(*) FROM organisations`) != orgs || after != state {
			t.Errorf("%s: something changed (events %d → %d, memberships %s → %s)", tc.what, before, n, state, after)
		}
	}
	if n := dbCount(t, db, `SELECT count(*) FROM organisations WHERE alias = 'ref-org'`); n != 1 {
		t.Errorf("%d organisations with the alias ref-org", n)
	}
	if s := dbString(t, db, `SELECT name FROM organisations WHERE id = $1`, orgID); s != "Refusals Org" {
		t.Errorf("name after refused renames: %s", s)
	}
}

// TestAdminAPIStaleSession: with the session cookie, a change from a sign-in older than
// admin.reauth_after is refused (403) and changes nothing; reading still works.
func TestAdminAPIStaleSession(t *testing.T) {
	srv := startServer(t, "", "PASSPORT_ADMIN_REQUIRE_TWO_FACTOR", "false", "PASSPORT_ADMIN_REAUTH_AFTER", "1m")
	db := openDB(t)
	orgID := setupOrg(t, "stale-org", "Stale Org", "driver")
	adminID := setupUser(t, "stale-admin", "admin-password-1")
	grantAdmin(t, adminID, passport.RoleOrgAdmin, orgID)
	joinerID := setupUser(t, "stale-joiner", "member-password-1")
	adm := adminCookie(t, srv, "org admin", "stale-admin", "admin-password-1", orgID)
	add := map[string]any{"login": "stale-joiner", "roles": []string{"driver"}}

	mustExec(t, db, `UPDATE sessions SET auth_time = auth_time - interval '2 minutes' WHERE account_id = $1 AND ended_at IS NULL`, adminID)
	before := eventCount(t, db, []string{orgID}, []string{joinerID})
	if got, out := adm.call(t, srv, "POST", "/admin/orgs/"+orgID+"/members", add); got != http.StatusForbidden {
		t.Errorf("a change from a stale sign-in: %d %v, want 403", got, out)
	}
	if got, out := adm.call(t, srv, "PUT", "/admin/orgs/"+orgID+"/roles/dispatcher", map[string]any{"names": map[string]string{"en": "D"}}); got != http.StatusForbidden {
		t.Errorf("a role from a stale sign-in: %d %v, want 403", got, out)
	}
	if isMember := dbCount(t, db, `SELECT count(*) FROM memberships WHERE account_id = $1`, joinerID); isMember != 0 ||
		eventCount(t, db, []string{orgID}, []string{joinerID}) != before || dbCount(t, db, `SELECT count(*) FROM org_roles WHERE org_id = $1`, orgID) != 1 {
		t.Error("a refused change from a stale sign-in changed something")
	}
	adm.mustCall(t, srv, http.StatusOK, "GET", "/admin/orgs/"+orgID+"/members", nil)

	// A fresh sign-in may change things again (the test can tell the difference).
	fresh := adminCookie(t, srv, "org admin, signed in again", "stale-admin", "admin-password-1", orgID)
	fresh.mustCall(t, srv, http.StatusCreated, "POST", "/admin/orgs/"+orgID+"/members", add)
}

// TestAdminAPIMemberPaging: limit=2 pages through an organisation's members, every one
// exactly once and in login order, with filters kept; the last page has no cursor.
func TestAdminAPIMemberPaging(t *testing.T) {
	srv := startServer(t, "", "PASSPORT_ADMIN_REQUIRE_TWO_FACTOR", "false")
	orgID := setupOrg(t, "page-org", "Paging Org", "driver", "operator")
	adminID := setupUser(t, "page-admin", "admin-password-1")
	grantAdmin(t, adminID, passport.RoleOrgAdmin, orgID)
	adm := adminCookie(t, srv, "org admin", "page-admin", "admin-password-1", orgID)
	want := map[string]bool{}
	drivers := map[string]bool{}
	for i, login := range []string{"page-e", "page-a", "page-c", "page-b", "page-d"} {
		id := setupUser(t, login, "member-password-1")
		role := "driver"
		if i%2 == 1 {
			role = "operator"
		} else {
			drivers[id] = true
		}
		joinOrg(t, orgID, id, true, "", role)
		want[id] = true
	}

	walk := func(base string) ([]string, []string) {
		t.Helper()
		var ids, logins []string
		cursor := ""
		for page := 0; page < 10; page++ {
			path := base + "&limit=2"
			if cursor != "" {
				path += "&cursor=" + url.QueryEscape(cursor)
			}
			out := adm.mustCall(t, srv, http.StatusOK, "GET", path, nil)
			list, _ := out["members"].([]any)
			if len(list) > 2 {
				t.Fatalf("%s: %d members on a page of 2", path, len(list))
			}
			for _, m := range list {
				m := m.(map[string]any)
				ids = append(ids, m["account_id"].(string))
				logins = append(logins, m["login"].(string))
			}
			next, isString := out["next_cursor"].(string)
			if out["next_cursor"] == nil {
				return ids, logins
			}
			if !isString || next == "" {
				t.Fatalf("%s: next_cursor %v", path, out["next_cursor"])
			}
			cursor = next
		}
		t.Fatal("the pages do not end")
		return nil, nil
	}
	for _, base := range []string{"/admin/orgs/" + orgID + "/members?", "/admin/members?org=page-org"} {
		ids, logins := walk(base)
		seen := map[string]bool{}
		for _, id := range ids {
			if seen[id] || !want[id] {
				t.Errorf("%s: %s visited twice or not a member", base, id)
			}
			seen[id] = true
		}
		if len(seen) != len(want) || !slices.IsSorted(logins) {
			t.Errorf("%s: visited %v (%d of %d)", base, logins, len(seen), len(want))
		}
	}
	ids, _ := walk("/admin/orgs/" + orgID + "/members?role=driver")
	if len(ids) != len(drivers) {
		t.Errorf("role=driver: %v, want %d drivers", ids, len(drivers))
	}
	for _, id := range ids {
		if !drivers[id] {
			t.Errorf("role=driver lists %s", id)
		}
	}
}

// TestAdminAPIGoClient: pkg/account's generated client drives the admin API as an
// organisation's service account and decodes every answer into the documented types, so
// docs/openapi.yaml cannot drift from what the server sends.
func TestAdminAPIGoClient(t *testing.T) {
	srv := startServer(t, "", "PASSPORT_ADMIN_REQUIRE_TWO_FACTOR", "false")
	orgID := setupOrg(t, "goc-org", "Go Client Org", "driver", "operator")
	otherID := setupOrg(t, "goc-other", "Go Client Other")
	var ids []string
	for _, login := range []string{"goc-1", "goc-2", "goc-3"} {
		id := setupUser(t, login, "member-password-1")
		joinOrg(t, orgID, id, true, "Driver", "driver")
		ids = append(ids, id)
	}
	secret := setupClient(t, "goc-service-account", "--grant-type", "client_credentials", "--scope", passport.ScopeAdmin,
		"--admin-org", "goc-org")
	c := bearerClient(t, srv, serviceAccountToken(t, srv, "goc-service-account", secret, passport.ScopeAdmin))
	ctx := context.Background()

	orgs, err := c.AdminListOrgsWithResponse(ctx)
	if err != nil || orgs.JSON200 == nil || len(orgs.JSON200.Orgs) != 1 || orgs.JSON200.Orgs[0].Alias != "goc-org" ||
		orgs.JSON200.Orgs[0].Status != account.OrgStatusActive {
		t.Fatalf("list organisations: %v %s", err, orgs.Body)
	}
	if foreign, err := c.AdminGetOrgWithResponse(ctx, otherID); err != nil || foreign.JSON404 == nil || foreign.JSON404.Error == nil {
		t.Errorf("another organisation: %v %d %s", err, foreign.StatusCode(), foreign.Body)
	}
	roles, err := c.AdminListRolesWithResponse(ctx, "goc-org")
	if err != nil || roles.JSON200 == nil || len(roles.JSON200.Roles) != 2 || roles.JSON200.Roles[0].Names["en"] != "driver" {
		t.Fatalf("roles: %v %s", err, roles.Body)
	}

	var seen []string
	params := &account.AdminListOrgMembersParams{Limit: ptr(2)}
	for page := 0; page < 5; page++ {
		list, err := c.AdminListOrgMembersWithResponse(ctx, orgID, params)
		if err != nil || list.JSON200 == nil {
			t.Fatalf("members: %v %s", err, list.Body)
		}
		for _, m := range list.JSON200.Members {
			seen = append(seen, m.AccountId.String())
			if m.Organisation.Alias != "goc-org" || !m.Managed || m.Status != account.AccountStatusActive {
				t.Errorf("member %+v", m)
			}
		}
		if list.JSON200.NextCursor == nil {
			break
		}
		params.Cursor = list.JSON200.NextCursor
	}
	sorted := slices.Sorted(slices.Values(ids))
	slices.Sort(seen)
	if !slices.Equal(seen, sorted) {
		t.Errorf("members paged: %v, want %v", seen, sorted)
	}
	if bad, err := c.AdminListOrgMembersWithResponse(ctx, orgID, &account.AdminListOrgMembersParams{Cursor: ptr("garbage!")}); err != nil ||
		bad.JSON400 == nil || bad.JSON400.Error == nil || bad.JSON400.Error.Fields == nil || (*bad.JSON400.Error.Fields)["cursor"] == "" {
		t.Errorf("garbage cursor: %v %d %s", err, bad.StatusCode(), bad.Body)
	}

	id := uuidOf(t, ids[0])
	set, err := c.AdminSetMemberRolesWithResponse(ctx, "goc-org", id, account.AdminSetMemberRolesJSONRequestBody{Roles: []string{"operator"}})
	if err != nil || set.JSON200 == nil || !slices.Equal(set.JSON200.Roles, []string{"operator"}) || len(set.JSON200.Memberships) != 1 {
		t.Fatalf("set roles: %v %s", err, set.Body)
	}
	if unknown, err := c.AdminSetMemberRolesWithResponse(ctx, "goc-org", id, account.AdminSetMemberRolesJSONRequestBody{Roles: []string{"pilot"}}); err != nil ||
		unknown.JSON422 == nil {
		t.Errorf("unknown role: %v %d %s", err, unknown.StatusCode(), unknown.Body)
	}
	member, err := c.AdminGetMemberWithResponse(ctx, orgID, id)
	if err != nil || member.JSON200 == nil || member.JSON200.Login != "goc-1" || member.JSON200.Position != "Driver" {
		t.Fatalf("member: %v %s", err, member.Body)
	}
	events, err := c.AdminListMemberEventsWithResponse(ctx, orgID, id, &account.AdminListMemberEventsParams{Limit: ptr(1)})
	if err != nil || events.JSON200 == nil || len(events.JSON200.Events) != 1 {
		t.Fatalf("member events: %v %s", err, events.Body)
	}
	e := events.JSON200.Events[0]
	if e.Type != passport.EventMembershipChanged || e.Actor.Kind != account.ActorClient || e.Actor.ClientId == nil ||
		*e.Actor.ClientId != "goc-service-account" || e.Organisation == nil || e.Organisation.Id.String() != orgID {
		t.Errorf("the member's newest event: %s", events.Body)
	}
	feed, err := c.AdminListOrgEventsWithResponse(ctx, "goc-org", &account.AdminListOrgEventsParams{Limit: ptr(200)})
	if err != nil || feed.JSON200 == nil || len(feed.JSON200.Events) == 0 || feed.JSON200.Events[0].Id != e.Id {
		t.Errorf("organisation events: %v %s", err, feed.Body)
	}
}

func ptr[T any](v T) *T { return &v }

func uuidOf(t *testing.T, s string) openapi_types.UUID {
	t.Helper()
	var u openapi_types.UUID
	if err := u.UnmarshalText([]byte(s)); err != nil {
		t.Fatal(err)
	}
	return u
}
