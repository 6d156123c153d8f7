package main

import (
	"context"
	"encoding/base64"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/passport-idp/passport/internal/passport"
)

// The admin console's pages over HTTP through the real server: the member list (filters,
// search, keyset pages), a member's page and its actions, organisations and roles, the
// step-up before a change, two factors, and the scope (a foreign organisation is a 404).

const consolePassword = "console-member-pw-1"

// consoleMember creates an account (email <login>@example.com) and makes it a member of
// orgID.
func consoleMember(t *testing.T, orgID, login string, managed bool, roles ...string) string {
	t.Helper()
	id := setupUser(t, login, consolePassword)
	joinOrg(t, orgID, id, managed, "", roles...)
	return id
}

// consoleAdmin creates an account, grants it role (in orgID) and signs it in with two
// factors. It returns the browser and the TOTP key.
func consoleAdmin(t *testing.T, srv *server, login, role, orgID string) (*browser, string, string) {
	t.Helper()
	id := setupSelfUser(t, login, "console-admin-pw-9")
	grantAdmin(t, id, role, orgID)
	b, key := adminBrowser(t, srv, login, "console-admin-pw-9")
	return b, key, id
}

var (
	consoleRowLogin = regexp.MustCompile(`<tr data-login="([^"]+)"`)
	consoleNextPage = regexp.MustCompile(`id="next-page" href="([^"]+)"`)
	consoleRoleBox  = regexp.MustCompile(`name="roles" value="([^"]+)" checked`)
	consoleEventRow = regexp.MustCompile(`<tr data-type="([^"]+)" data-id="(\d+)"`)
	consoleOlder    = regexp.MustCompile(`id="older" href="([^"]+)"`)
)

// consoleRow is the member list's row of a login.
func consoleRow(page, login string) string {
	i := strings.Index(page, `<tr data-login="`+login+`"`)
	if i < 0 {
		return ""
	}
	row, _, _ := strings.Cut(page[i:], "</tr>")
	return row
}

func consoleLogins(page string) []string {
	var out []string
	for _, m := range consoleRowLogin.FindAllStringSubmatch(page, -1) {
		out = append(out, html.UnescapeString(m[1]))
	}
	return out
}

// consoleNoFollow is b's client that stops at every redirect, sharing b's cookies.
func consoleNoFollow(b *browser) *http.Client {
	c := *b.Client
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &c
}

// consolePost posts a console form with the browser's CSRF token, from the page at referer
// (as a browser says), and does not follow the answer's redirect.
func consolePost(t *testing.T, b *browser, path, referer string, form url.Values) (*http.Response, string) {
	t.Helper()
	if form.Get("csrf") == "" {
		form.Set("csrf", hidden(readPage(t, b, b.base+"/profile")).Get("csrf"))
	}
	req, err := http.NewRequest(http.MethodPost, b.base+path, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if referer != "" {
		req.Header.Set("Referer", b.base+referer)
	}
	resp, err := consoleNoFollow(b).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp, readBody(t, resp)
}

// consoleWantRedirect checks a 303 to a Location starting with prefix.
func consoleWantRedirect(t *testing.T, what string, resp *http.Response, body, prefix string) {
	t.Helper()
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, prefix) {
		t.Fatalf("%s: %d to %q, want 303 to %s…: %.400s", what, resp.StatusCode, loc, prefix, body)
	}
}

func consoleAccountStatus(t *testing.T, id string) string {
	t.Helper()
	var status string
	if err := openDB(t).Pool().QueryRow(context.Background(), `SELECT status FROM accounts WHERE id = $1`, id).Scan(&status); err != nil {
		t.Fatal(err)
	}
	return status
}

func consoleRoles(t *testing.T, orgID, accountID string) []string {
	t.Helper()
	var roles []string
	err := openDB(t).Pool().QueryRow(context.Background(), `SELECT roles FROM memberships WHERE org_id = $1 AND account_id = $2`,
		orgID, accountID).Scan(&roles)
	if err != nil {
		t.Fatalf("membership: %v", err)
	}
	slices.Sort(roles)
	return roles
}

func consoleIsMember(t *testing.T, orgID, accountID string) bool {
	return countRows(t, `SELECT count(*) FROM memberships WHERE org_id = $1 AND account_id = $2`, orgID, accountID) == 1
}

// TestAdminConsoleMemberList: an organisation's administrator lists members, filters them by
// status, role and verification, searches by login, name and email, and pages through them
// with the opaque cursor; a refused filter is a message, a garbage cursor the first page.
func TestAdminConsoleMemberList(t *testing.T) {
	srv := startServer(t, "")
	org := setupOrg(t, "cons-list", "Console List Ltd", "driver", "operator")
	other := setupOrg(t, "cons-list-other", "Somebody Else", "driver")
	roles := map[string][]string{"cons-l1": {"driver"}, "cons-l2": {"driver"}, "cons-l3": {"driver"}, "cons-l4": {"operator"},
		"cons-l5": {"operator"}, "cons-l6": nil, "cons-l7": {"driver", "operator"}}
	ids := map[string]string{}
	for login, r := range roles {
		ids[login] = consoleMember(t, org, login, login < "cons-l6", r...)
	}
	consoleMember(t, other, "cons-l-foreign", true, "driver")
	db := openDB(t).Pool()
	if _, err := db.Exec(context.Background(), `UPDATE accounts SET status = 'blocked' WHERE id = $1`, ids["cons-l5"]); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(context.Background(), `UPDATE accounts SET given_name = 'Grace', verification_status = 'verified' WHERE id = $1`,
		ids["cons-l6"]); err != nil {
		t.Fatal(err)
	}
	b, _, _ := consoleAdmin(t, srv, "cons-list-admin", passport.RoleOrgAdmin, org)

	// /admin leads an administrator of one organisation to its members.
	resp, err := consoleNoFollow(b).Get(srv.URL + "/admin")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusFound || loc != "/admin/members?org=cons-list" {
		t.Errorf("/admin: %d to %q", resp.StatusCode, loc)
	}

	all := []string{"cons-l1", "cons-l2", "cons-l3", "cons-l4", "cons-l5", "cons-l6", "cons-l7"}
	list := func(query string) (int, string, []string) {
		t.Helper()
		resp, page := b.get(srv.URL + "/admin/members?" + query)
		return resp.StatusCode, page, consoleLogins(page)
	}
	code, page, got := list("")
	if code != http.StatusOK || !slices.Equal(got, all) {
		t.Fatalf("the whole list: %d %v, want %v", code, got, all)
	}
	if strings.Contains(page, `id="add-member"`) {
		t.Error("the Add member form shows without an organisation chosen")
	}
	for login, want := range map[string][]string{
		"cons-l1": {"cons-l1@example.com", "Console List Ltd", `class="badge status-active"`, "Not verified yet", ">driver<"},
		"cons-l5": {`class="badge status-blocked"`, ">operator<"},
		"cons-l6": {"Grace Lovelace", ">Verified<", "never"},
		"cons-l7": {"driver, operator"},
	} {
		row := consoleRow(page, login)
		for _, w := range want {
			if !strings.Contains(row, w) {
				t.Errorf("%s's row lacks %q: %s", login, w, row)
			}
		}
	}

	for query, want := range map[string][]string{
		"status=blocked":                          {"cons-l5"},
		"status=active&role=operator":             {"cons-l4", "cons-l7"},
		"org=cons-list&role=driver":               {"cons-l1", "cons-l2", "cons-l3", "cons-l7"},
		"verification=verified":                   {"cons-l6"},
		"q=cons-l3":                               {"cons-l3"},
		"q=CONS-L4%40EXAMPLE":                     {"cons-l4"},
		"q=grace":                                 {"cons-l6"},
		"q=nobody-has-this":                       nil,
		"org=cons-list&status=active&q=cons-l%25": nil, // % is a literal, not a wildcard
	} {
		code, _, got := list(query)
		if code != http.StatusOK || !slices.Equal(got, want) {
			t.Errorf("%s: %d %v, want %v", query, code, got, want)
		}
	}

	// An organisation chosen: its roles as a select, and the Add member form.
	_, page, _ = list("org=cons-list")
	if !strings.Contains(page, `id="add-member"`) || !strings.Contains(page, `<option value="operator"`) {
		t.Error("the organisation's list lacks the Add member form or the role select")
	}

	// Refused filter values: the message next to the filter, never a 500.
	code, page, got = list("status=sleeping")
	if code != http.StatusBadRequest || len(got) != 0 || !strings.Contains(page, "Choose one of the statuses offered.") {
		t.Errorf("an unknown status: %d %v %.300s", code, got, page)
	}
	code, page, _ = list("q=" + strings.Repeat("x", 101))
	if code != http.StatusBadRequest || !strings.Contains(page, "Search for at most 100 characters.") {
		t.Errorf("a long search: %d", code)
	}

	// Pages of three, following "Next page" (which keeps the filters).
	var seen []string
	next := "/admin/members?org=cons-list&limit=3"
	for pages := 0; next != ""; pages++ {
		if pages > 5 {
			t.Fatal("the pages never end")
		}
		resp, page := b.get(srv.URL + next)
		rows := consoleLogins(page)
		if resp.StatusCode != http.StatusOK || len(rows) == 0 || len(rows) > 3 {
			t.Fatalf("%s: %d, %v", next, resp.StatusCode, rows)
		}
		seen = append(seen, rows...)
		next = ""
		if m := consoleNextPage.FindStringSubmatch(page); m != nil {
			next = html.UnescapeString(m[1])
			if !strings.Contains(next, "org=cons-list") || !strings.Contains(next, "limit=3") {
				t.Errorf("the next page lost the filters: %s", next)
			}
		}
	}
	if !slices.Equal(seen, all) {
		t.Errorf("paging by three: %v, want %v", seen, all)
	}
	// The last page of a list that divides evenly: no "Next page" to an empty one.
	_, page, got = list("org=cons-list&role=driver&limit=2")
	m := consoleNextPage.FindStringSubmatch(page)
	if len(got) != 2 || m == nil {
		t.Fatalf("drivers by two: %v", got)
	}
	_, page, got = list(strings.TrimPrefix(html.UnescapeString(m[1]), "/admin/members?"))
	if !slices.Equal(got, []string{"cons-l3", "cons-l7"}) || consoleNextPage.MatchString(page) {
		t.Errorf("the second page of drivers: %v, next link %v", got, consoleNextPage.MatchString(page))
	}

	// A cursor the page did not make is the first page, never an error.
	for _, after := range []string{"!!!", "%00", base64.RawURLEncoding.EncodeToString([]byte("no separator")),
		base64.RawURLEncoding.EncodeToString([]byte("\xff\xfe\x00" + org)), base64.RawURLEncoding.EncodeToString([]byte("cons-l9\x00not-a-uuid")),
		strings.Repeat("A", 2000)} {
		code, _, got := list("org=cons-list&limit=3&after=" + url.QueryEscape(after))
		if code != http.StatusOK || !slices.Equal(got, all[:3]) {
			t.Errorf("after=%.20q: %d %v", after, code, got)
		}
	}
	// A cursor made by hand from a login is honoured (it is opaque, not secret).
	cur := base64.RawURLEncoding.EncodeToString([]byte("cons-l5\x00" + org))
	if _, _, got := list("org=cons-list&after=" + cur); !slices.Equal(got, all[5:]) {
		t.Errorf("after cons-l5: %v", got)
	}
}

// TestAdminConsoleMemberActions: add an existing account by login, change roles (the member
// page shows them), block (the member's browser is signed out) and unblock, end sessions,
// and remove an unmanaged member (the account stays) and a managed one (deletion scheduled).
func TestAdminConsoleMemberActions(t *testing.T) {
	srv := startServer(t, "")
	org := setupOrg(t, "cons-act", "Console Actions", "driver", "operator", "manager")
	managed := consoleMember(t, org, "cons-a-managed", true, "driver")
	joined := consoleMember(t, org, "cons-a-joined", false, "driver")
	leaver := consoleMember(t, org, "cons-a-leaver", true)
	outsider := setupUser(t, "cons-a-outsider", consolePassword)
	b, _, _ := consoleAdmin(t, srv, "cons-act-admin", passport.RoleOrgAdmin, org)
	memberPage := func(id string) string { return "/admin/orgs/cons-act/members/" + id }

	// Add an existing account by login, as an unmanaged member.
	resp, page := consolePost(t, b, "/admin/orgs/cons-act/members", "/admin/members?org=cons-act",
		url.Values{"login": {"nobody-here"}, "roles": {"driver"}})
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(page, "No account has this login.") {
		t.Errorf("an unknown login: %d %.300s", resp.StatusCode, page)
	}
	resp, page = consolePost(t, b, "/admin/orgs/cons-act/members", "", url.Values{"login": {"cons-a-outsider"},
		"roles": {"driver", "operator"}, "position": {"Dispatcher"}})
	consoleWantRedirect(t, "adding a member", resp, page, memberPage(outsider))
	if got := consoleRoles(t, org, outsider); !slices.Equal(got, []string{"driver", "operator"}) {
		t.Errorf("the added member's roles: %v", got)
	}
	if countRows(t, `SELECT count(*) FROM memberships WHERE account_id = $1 AND NOT managed AND position = 'Dispatcher'`, outsider) != 1 {
		t.Error("the added member is not an unmanaged member with the position")
	}
	resp, page = consolePost(t, b, "/admin/orgs/cons-act/members", "", url.Values{"login": {"cons-a-outsider"}})
	if resp.StatusCode != http.StatusConflict || !strings.Contains(page, "This account is already a member.") {
		t.Errorf("adding twice: %d", resp.StatusCode)
	}
	if _, page := b.get(srv.URL + memberPage(outsider) + "?saved=member-added"); !strings.Contains(page, "The member is added.") {
		t.Error("no flash after adding")
	}

	// Change roles and position: the member page shows them.
	resp, page = consolePost(t, b, memberPage(joined), memberPage(joined), url.Values{"roles": {"operator", "manager"},
		"position": {"Shift lead"}, "primary": {"yes"}})
	consoleWantRedirect(t, "changing roles", resp, page, memberPage(joined)+"?saved=membership")
	_, page = b.get(srv.URL + memberPage(joined))
	var boxes []string
	for _, m := range consoleRoleBox.FindAllStringSubmatch(page, -1) {
		boxes = append(boxes, m[1])
	}
	slices.Sort(boxes)
	if !slices.Equal(boxes, []string{"manager", "operator"}) || !strings.Contains(page, `value="Shift lead"`) {
		t.Errorf("the member page after the change: roles %v", boxes)
	}
	if got := consoleRoles(t, org, joined); !slices.Equal(got, []string{"manager", "operator"}) {
		t.Errorf("roles stored: %v", got)
	}
	if rows := consoleEventRow.FindAllStringSubmatch(page, -1); len(rows) == 0 || rows[0][1] != passport.EventMembershipChanged {
		t.Errorf("the member's events do not start with the change: %v", rows)
	}
	// A role outside the catalogue: the message next to the roles, nothing saved.
	resp, page = consolePost(t, b, memberPage(joined), "", url.Values{"roles": {"pilot"}})
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(page, "The organisation has no role pilot.") {
		t.Errorf("an unknown role: %d", resp.StatusCode)
	}
	if got := consoleRoles(t, org, joined); !slices.Equal(got, []string{"manager", "operator"}) {
		t.Errorf("roles after a refused change: %v", got)
	}
	// No role ticked takes every role away.
	resp, page = consolePost(t, b, memberPage(joined), "", url.Values{"position": {"Shift lead"}})
	consoleWantRedirect(t, "no roles", resp, page, memberPage(joined))
	if got := consoleRoles(t, org, joined); len(got) != 0 {
		t.Errorf("roles after unticking all: %v", got)
	}

	// Block a managed member: their browser is signed out at once; unblock.
	mb := newBrowser(t, srv)
	signInDirectly(t, mb, "cons-a-managed", consolePassword)
	_, page = b.get(srv.URL + memberPage(managed))
	if !strings.Contains(page, `data-session="`) {
		t.Error("the member's live session is not listed")
	}
	resp, page = consolePost(t, b, memberPage(managed)+"/block", memberPage(managed), url.Values{})
	consoleWantRedirect(t, "blocking", resp, page, memberPage(managed)+"?saved=blocked")
	if got := consoleAccountStatus(t, managed); got != passport.StatusBlocked {
		t.Errorf("after blocking: %s", got)
	}
	if resp, _ := mb.get(srv.URL + "/profile"); resp.Request.URL.Path != "/signin" {
		t.Errorf("the blocked member's browser is still signed in: at %s", resp.Request.URL.Path)
	}
	_, page = b.get(srv.URL + memberPage(managed) + "?saved=blocked")
	if !strings.Contains(page, `id="unblock"`) || strings.Contains(page, `data-session="`) {
		t.Error("the blocked member's page offers no Unblock or still lists sessions")
	}
	resp, page = consolePost(t, b, memberPage(managed)+"/block", "", url.Values{})
	if resp.StatusCode != http.StatusConflict || !strings.Contains(page, "Only an active account can be blocked.") {
		t.Errorf("blocking twice: %d", resp.StatusCode)
	}
	resp, page = consolePost(t, b, memberPage(managed)+"/unblock", "", url.Values{})
	consoleWantRedirect(t, "unblocking", resp, page, memberPage(managed)+"?saved=unblocked")
	if got := consoleAccountStatus(t, managed); got != passport.StatusActive {
		t.Errorf("after unblocking: %s", got)
	}
	signInDirectly(t, mb, "cons-a-managed", consolePassword)

	// End every session of a managed member.
	resp, page = consolePost(t, b, memberPage(managed)+"/end-sessions", "", url.Values{})
	consoleWantRedirect(t, "ending sessions", resp, page, memberPage(managed)+"?saved=sessions-ended")
	if resp, _ := mb.get(srv.URL + "/profile"); resp.Request.URL.Path != "/signin" {
		t.Errorf("after ending sessions the member is still signed in: at %s", resp.Request.URL.Path)
	}

	// An organisation's administrator cannot block an account that joined: the page says so.
	resp, page = consolePost(t, b, memberPage(joined)+"/block", "", url.Values{})
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(page, "only a service administrator can do this") {
		t.Errorf("blocking an unmanaged member: %d %.300s", resp.StatusCode, page)
	}
	if got := consoleAccountStatus(t, joined); got != passport.StatusActive {
		t.Errorf("the unmanaged member after a refused block: %s", got)
	}

	// Remove: the confirmation says what happens; without confirm=yes nothing does.
	_, page = b.get(srv.URL + memberPage(joined) + "/remove")
	if !strings.Contains(page, "only the membership goes") {
		t.Errorf("the unmanaged member's removal page: %.400s", page)
	}
	_, page = b.get(srv.URL + memberPage(leaver) + "/remove")
	if !strings.Contains(page, "schedules the account for deletion") {
		t.Errorf("the managed member's removal page: %.400s", page)
	}
	resp, page = consolePost(t, b, memberPage(joined)+"/remove", "", url.Values{})
	consoleWantRedirect(t, "removing unconfirmed", resp, page, memberPage(joined)+"/remove")
	if !consoleIsMember(t, org, joined) {
		t.Fatal("an unconfirmed removal removed the member")
	}
	resp, page = consolePost(t, b, memberPage(joined)+"/remove", "", url.Values{"confirm": {"yes"}})
	consoleWantRedirect(t, "removing the unmanaged member", resp, page, "/admin/members?")
	if !strings.Contains(resp.Header.Get("Location"), "saved=removed") || consoleIsMember(t, org, joined) {
		t.Errorf("after removing the unmanaged member: %s, still a member %v", resp.Header.Get("Location"), consoleIsMember(t, org, joined))
	}
	if got := consoleAccountStatus(t, joined); got != passport.StatusActive {
		t.Errorf("the unmanaged member's account after removal: %s, want active", got)
	}
	if resp, _ := b.get(srv.URL + memberPage(joined)); resp.StatusCode != http.StatusNotFound {
		t.Errorf("the removed member's page: %d, want 404", resp.StatusCode)
	}
	resp, page = consolePost(t, b, memberPage(leaver)+"/remove", "", url.Values{"confirm": {"yes"}})
	consoleWantRedirect(t, "removing the managed member", resp, page, "/admin/members?")
	if !strings.Contains(resp.Header.Get("Location"), "saved=removed-deletion") {
		t.Errorf("removing the managed member: to %s", resp.Header.Get("Location"))
	}
	if got := consoleAccountStatus(t, leaver); got != passport.StatusPendingDeletion {
		t.Errorf("the managed member's account after removal: %s, want pending_deletion", got)
	}

	// The organisation's feed has the actions, newest first.
	_, page = b.get(srv.URL + "/admin/events?org=cons-act")
	var types []string
	for _, m := range consoleEventRow.FindAllStringSubmatch(page, -1) {
		types = append(types, m[1])
	}
	for _, want := range []string{passport.EventMemberAdded, passport.EventMembershipChanged, passport.EventAccountBlocked,
		passport.EventAccountUnblocked, passport.EventSessionsEnded, passport.EventMemberRemoved} {
		if !slices.Contains(types, want) {
			t.Errorf("the organisation's events lack %s: %v", want, types)
		}
	}
	if len(types) > 0 && types[0] != passport.EventMemberRemoved {
		t.Errorf("the newest event is %s, want the last removal's", types[0])
	}
}

// TestAdminConsoleStepUp: a change with a sign-in older than reauth_after goes to the
// step-up page and changes nothing; after the password and a code it returns and works.
func TestAdminConsoleStepUp(t *testing.T) {
	srv := startServer(t, "", "PASSPORT_ADMIN_REAUTH_AFTER", "1m")
	org := setupOrg(t, "cons-step", "Console Step-up", "driver", "operator")
	member := consoleMember(t, org, "cons-s-member", true, "driver")
	adminID := setupSelfUser(t, "cons-step-admin", "console-admin-pw-9")
	grantAdmin(t, adminID, passport.RoleOrgAdmin, org)
	b := newBrowser(t, srv)
	signInDirectly(t, b, "cons-step-admin", "console-admin-pw-9")
	key, recovery := enrol(t, b)
	page := "/admin/orgs/cons-step/members/" + member

	if _, err := openDB(t).Pool().Exec(context.Background(),
		`UPDATE sessions SET auth_time = now() - interval '2 minutes' WHERE account_id = $1 AND ended_at IS NULL`, adminID); err != nil {
		t.Fatal(err)
	}
	// Reading stays open.
	if resp, _ := b.get(srv.URL + page); resp.StatusCode != http.StatusOK {
		t.Fatalf("reading with an old sign-in: %d", resp.StatusCode)
	}
	resp, body := consolePost(t, b, page, page, url.Values{"roles": {"operator"}})
	q := redirectParams(t, resp, "/admin/reauth?")
	if q.Get("return") != page {
		t.Errorf("the step-up returns to %q, want %q", q.Get("return"), page)
	}
	if got := consoleRoles(t, org, member); !slices.Equal(got, []string{"driver"}) {
		t.Errorf("a stale change changed the roles: %v (%.200s)", got, body)
	}

	_, form := b.get(srv.URL + resp.Header.Get("Location"))
	if !strings.Contains(form, `name="code"`) || hidden(form).Get("return") != page {
		t.Fatalf("the step-up form: %.500s", form)
	}
	resp, body = consolePost(t, b, "/admin/reauth", "", url.Values{"return": {page}, "password": {"not my password"}, "code": {"000000"}})
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "This is not your password.") {
		t.Errorf("a wrong password: %d", resp.StatusCode)
	}
	// The enrolment used this step's code: the next one.
	code, err := totp.GenerateCode(key, time.Now().Add(30*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	resp, body = consolePost(t, b, "/admin/reauth", "", url.Values{"return": {page}, "password": {"console-admin-pw-9"}, "code": {code}})
	consoleWantRedirect(t, "the step-up", resp, body, page)
	if n := countRows(t, `SELECT count(*) FROM sessions WHERE account_id = $1 AND ended_at IS NULL
		AND auth_time > now() - interval '30 seconds' AND amr @> '{pwd,otp}'`, adminID); n != 1 {
		t.Errorf("sessions renewed by the step-up: %d", n)
	}
	resp, body = consolePost(t, b, page, page, url.Values{"roles": {"operator"}})
	consoleWantRedirect(t, "the change after the step-up", resp, body, page+"?saved=membership")
	if got := consoleRoles(t, org, member); !slices.Equal(got, []string{"operator"}) {
		t.Errorf("roles after the step-up: %v", got)
	}

	// The step-up only ever returns to the console.
	if _, err := openDB(t).Pool().Exec(context.Background(),
		`UPDATE sessions SET auth_time = now() - interval '2 minutes' WHERE account_id = $1 AND ended_at IS NULL`, adminID); err != nil {
		t.Fatal(err)
	}
	resp, body = consolePost(t, b, "/admin/reauth", "", url.Values{"return": {"//evil.example/admin"}, "password": {"console-admin-pw-9"},
		"code": {recovery[0]}}) // this step's code is used: a recovery code
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || loc != "/admin" {
		t.Errorf("a foreign return: %d to %q (%.200s)", resp.StatusCode, loc, body)
	}
}

// TestAdminConsoleNeedsTwoFactor: an administrator without a second factor gets the page that
// sends them to turn it on (403), unless the operator turned the requirement off.
func TestAdminConsoleNeedsTwoFactor(t *testing.T) {
	org := setupOrg(t, "cons-2fa", "Console Two Factors")
	consoleMember(t, org, "cons-2fa-member", true)
	id := setupSelfUser(t, "cons-2fa-admin", "no-second-factor-1")
	grantAdmin(t, id, passport.RoleOrgAdmin, org)

	srv := startServer(t, "")
	b := newBrowser(t, srv)
	signInDirectly(t, b, "cons-2fa-admin", "no-second-factor-1")
	for _, p := range []string{"/admin", "/admin/members", "/admin/orgs/cons-2fa"} {
		resp, page := b.get(srv.URL + p)
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(page, `href="/profile/2fa"`) ||
			strings.Contains(page, "cons-2fa-member") {
			t.Errorf("%s without two factors: %d %.300s", p, resp.StatusCode, page)
		}
	}
	resp, _ := consolePost(t, b, "/admin/orgs/cons-2fa/roles", "", url.Values{"key": {"x"}, "name_en": {"X"}})
	if resp.StatusCode != http.StatusForbidden || countRows(t, `SELECT count(*) FROM org_roles WHERE org_id = $1`, org) != 0 {
		t.Errorf("a change without two factors: %d", resp.StatusCode)
	}

	relaxed := startServer(t, "", "PASSPORT_ADMIN_REQUIRE_TWO_FACTOR", "false")
	b = newBrowser(t, relaxed)
	signInDirectly(t, b, "cons-2fa-admin", "no-second-factor-1")
	resp, page := b.get(relaxed.URL + "/admin/members")
	if resp.StatusCode != http.StatusOK || !slices.Equal(consoleLogins(page), []string{"cons-2fa-member"}) {
		t.Errorf("with two factors not required: %d %v", resp.StatusCode, consoleLogins(page))
	}
}

// TestAdminConsoleScope: a person without a grant finds no console (404); an administrator of
// A finds nothing of B, by alias or id, and changes nothing there.
func TestAdminConsoleScope(t *testing.T) {
	srv := startServer(t, "")
	orgA := setupOrg(t, "cons-scope-a", "Scope A", "driver")
	orgB := setupOrg(t, "cons-scope-b", "Scope B", "driver")
	memberA := consoleMember(t, orgA, "cons-scope-ma", true, "driver")
	memberB := consoleMember(t, orgB, "cons-scope-mb", true, "driver")

	// A person without a grant, even with two factors on.
	setupSelfUser(t, "cons-scope-person", "just-a-person-1")
	pb, _ := adminBrowser(t, srv, "cons-scope-person", "just-a-person-1")
	for _, p := range []string{"/admin", "/admin/members", "/admin/orgs", "/admin/events", "/admin/reauth", "/admin/orgs/cons-scope-a",
		"/admin/orgs/cons-scope-a/members/" + memberA, "/admin/orgs/cons-scope-a/members/" + memberA + "/remove"} {
		if resp, page := pb.get(srv.URL + p); resp.StatusCode != http.StatusNotFound || strings.Contains(page, "cons-scope-ma") {
			t.Errorf("a person at %s: %d", p, resp.StatusCode)
		}
	}
	if resp, _ := consolePost(t, pb, "/admin/orgs/cons-scope-a/members/"+memberA+"/block", "", url.Values{}); resp.StatusCode != http.StatusNotFound {
		t.Errorf("a person blocking: %d", resp.StatusCode)
	}

	b, _, _ := consoleAdmin(t, srv, "cons-scope-admin", passport.RoleOrgAdmin, orgA)
	if resp, page := b.get(srv.URL + "/admin/members"); resp.StatusCode != http.StatusOK ||
		!slices.Equal(consoleLogins(page), []string{"cons-scope-ma"}) || strings.Contains(page, "Scope B") {
		t.Errorf("A's administrator's list: %d %v", resp.StatusCode, consoleLogins(page))
	}
	if _, page := b.get(srv.URL + "/admin/orgs"); !strings.Contains(page, `data-alias="cons-scope-a"`) ||
		strings.Contains(page, "cons-scope-b") || strings.Contains(page, `id="create-org"`) {
		t.Error("A's administrator's organisations list shows B or the create form")
	}
	for _, p := range []string{"/admin/orgs/cons-scope-b", "/admin/orgs/" + orgB, "/admin/orgs/cons-scope-b/members/" + memberB,
		"/admin/orgs/" + orgB + "/members/" + memberB, "/admin/orgs/cons-scope-a/members/" + memberB,
		"/admin/orgs/cons-scope-b/members/" + memberB + "/remove", "/admin/members?org=cons-scope-b", "/admin/members?org=" + orgB,
		"/admin/events?org=cons-scope-b", "/admin/orgs/no-such-org", "/admin/orgs/cons-scope-a/members/not-an-id"} {
		if resp, page := b.get(srv.URL + p); resp.StatusCode != http.StatusNotFound || strings.Contains(page, "cons-scope-mb") {
			t.Errorf("A's administrator at %s: %d", p, resp.StatusCode)
		}
	}
	for _, p := range []string{"/admin/orgs/cons-scope-b/members/" + memberB + "/block",
		"/admin/orgs/cons-scope-a/members/" + memberB + "/block", "/admin/orgs/cons-scope-b/members/" + memberB + "/end-sessions",
		"/admin/orgs/cons-scope-b/members/" + memberB + "/remove?confirm=yes", "/admin/orgs/cons-scope-b/members",
		"/admin/orgs/cons-scope-b/roles", "/admin/orgs/cons-scope-b/roles/delete", "/admin/orgs/cons-scope-b"} {
		form := url.Values{"confirm": {"yes"}, "key": {"driver"}, "name_en": {"Hijacked"}, "login": {"cons-scope-ma"}, "action": {"disable"}}
		if resp, _ := consolePost(t, b, p, "", form); resp.StatusCode != http.StatusNotFound {
			t.Errorf("A's administrator posting %s: %d", p, resp.StatusCode)
		}
	}
	if consoleAccountStatus(t, memberB) != passport.StatusActive || !consoleIsMember(t, orgB, memberB) ||
		countRows(t, `SELECT count(*) FROM org_roles WHERE org_id = $1 AND key = 'driver' AND names->>'en' = 'driver'`, orgB) != 1 ||
		countRows(t, `SELECT count(*) FROM organisations WHERE id = $1 AND status = 'active'`, orgB) != 1 {
		t.Error("A's administrator changed something of B")
	}
	// Nor may an organisation's administrator create organisations.
	resp, _ := consolePost(t, b, "/admin/orgs", "", url.Values{"alias": {"cons-scope-c"}, "name": {"C"}})
	if resp.StatusCode != http.StatusForbidden || countRows(t, `SELECT count(*) FROM organisations WHERE alias = 'cons-scope-c'`) != 0 {
		t.Errorf("an organisation's administrator creating one: %d", resp.StatusCode)
	}
}

// TestAdminConsoleOrganisations: a service administrator creates, renames, disables (with the
// box ticked) and enables an organisation and keeps its role catalogue.
func TestAdminConsoleOrganisations(t *testing.T) {
	srv := startServer(t, "")
	b, _, _ := consoleAdmin(t, srv, "cons-service", passport.RoleServiceAdmin, "")
	resp, err := consoleNoFollow(b).Get(srv.URL + "/admin")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Header.Get("Location") != "/admin/orgs" {
		t.Errorf("/admin for a service administrator: to %q", resp.Header.Get("Location"))
	}
	resp, page := consolePost(t, b, "/admin/orgs", "", url.Values{"alias": {"Not An Alias"}, "name": {"Fine"}})
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(page, "An alias is 1 to 63 lower-case Latin letters") ||
		!strings.Contains(page, `value="Not An Alias"`) {
		t.Errorf("a bad alias: %d", resp.StatusCode)
	}
	resp, page = consolePost(t, b, "/admin/orgs", "", url.Values{"alias": {"cons-made"}, "name": {"  "}})
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(page, "Enter a name.") {
		t.Errorf("no name: %d", resp.StatusCode)
	}
	resp, page = consolePost(t, b, "/admin/orgs", "", url.Values{"alias": {"cons-made"}, "name": {"Made Here"}})
	consoleWantRedirect(t, "creating", resp, page, "/admin/orgs/cons-made?saved=org-created")
	resp, page = consolePost(t, b, "/admin/orgs", "", url.Values{"alias": {"cons-made"}, "name": {"Again"}})
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(page, "This alias is taken.") {
		t.Errorf("a taken alias: %d", resp.StatusCode)
	}
	orgStatus := func() (name, status string) {
		t.Helper()
		if err := openDB(t).Pool().QueryRow(context.Background(), `SELECT name, status FROM organisations WHERE alias = 'cons-made'`).
			Scan(&name, &status); err != nil {
			t.Fatal(err)
		}
		return
	}

	resp, page = consolePost(t, b, "/admin/orgs/cons-made", "", url.Values{"action": {"rename"}, "name": {"Made Anew"}})
	consoleWantRedirect(t, "renaming", resp, page, "/admin/orgs/cons-made?saved=org-renamed")
	resp, page = consolePost(t, b, "/admin/orgs/cons-made", "", url.Values{"action": {"disable"}})
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(page, "Tick the box to confirm.") {
		t.Errorf("disabling unconfirmed: %d", resp.StatusCode)
	}
	if name, status := orgStatus(); name != "Made Anew" || status != passport.OrgActive {
		t.Errorf("after rename and an unconfirmed disable: %s %s", name, status)
	}
	resp, page = consolePost(t, b, "/admin/orgs/cons-made", "", url.Values{"action": {"disable"}, "confirm": {"yes"}})
	consoleWantRedirect(t, "disabling", resp, page, "/admin/orgs/cons-made?saved=org-disabled")
	if _, status := orgStatus(); status != passport.OrgDisabled {
		t.Errorf("after disabling: %s", status)
	}
	if _, page := b.get(srv.URL + "/admin/orgs/cons-made"); !strings.Contains(page, `id="enable"`) {
		t.Error("a disabled organisation's page offers no Enable")
	}
	resp, page = consolePost(t, b, "/admin/orgs/cons-made", "", url.Values{"action": {"enable"}})
	consoleWantRedirect(t, "enabling", resp, page, "/admin/orgs/cons-made?saved=org-enabled")
	if _, status := orgStatus(); status != passport.OrgActive {
		t.Errorf("after enabling: %s", status)
	}

	// The role catalogue: add with names in two languages, rename, refuse, delete.
	resp, page = consolePost(t, b, "/admin/orgs/cons-made/roles", "", url.Values{"key": {"senior_operator"},
		"name_en": {"Senior operator"}, "name_ru": {"Старший оператор"}})
	consoleWantRedirect(t, "adding a role", resp, page, "/admin/orgs/cons-made?saved=role-saved")
	_, page = b.get(srv.URL + "/admin/orgs/cons-made?role=senior_operator")
	if !strings.Contains(page, `data-role="senior_operator"`) || !strings.Contains(page, `value="Старший оператор"`) {
		t.Errorf("the role is not listed or not in the rename form: %.300s", page)
	}
	resp, page = consolePost(t, b, "/admin/orgs/cons-made/roles", "", url.Values{"key": {"senior_operator"}, "name_en": {"Senior op"}})
	consoleWantRedirect(t, "renaming a role", resp, page, "/admin/orgs/cons-made")
	if countRows(t, `SELECT count(*) FROM org_roles r JOIN organisations o ON o.id = r.org_id
		WHERE o.alias = 'cons-made' AND r.key = 'senior_operator' AND r.names->>'en' = 'Senior op' AND r.names->>'ru' IS NULL`) != 1 {
		t.Error("the role's names after renaming")
	}
	resp, page = consolePost(t, b, "/admin/orgs/cons-made/roles", "", url.Values{"key": {"Bad Key"}, "name_en": {"X"}})
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(page, "A role key is 1 to 63") {
		t.Errorf("a bad role key: %d", resp.StatusCode)
	}
	resp, page = consolePost(t, b, "/admin/orgs/cons-made/roles", "", url.Values{"key": {"nameless"}})
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(page, "Give the role a name in at least one language.") {
		t.Errorf("a role without a name: %d", resp.StatusCode)
	}
	resp, page = consolePost(t, b, "/admin/orgs/cons-made/roles/delete", "", url.Values{"key": {"senior_operator"}})
	consoleWantRedirect(t, "deleting a role", resp, page, "/admin/orgs/cons-made?saved=role-deleted")
	if _, page := b.get(srv.URL + "/admin/orgs/cons-made"); strings.Contains(page, `data-role="senior_operator"`) {
		t.Error("the deleted role is still listed")
	}
	if resp, _ := consolePost(t, b, "/admin/orgs/cons-made/roles/delete", "", url.Values{"key": {"senior_operator"}}); resp.StatusCode != http.StatusNotFound {
		t.Errorf("deleting a missing role: %d", resp.StatusCode)
	}
}

// TestAdminConsoleEventPages: the event feed pages with "Older" (before=<id>) without
// overlap, and a member's page keeps another organisation's events out.
func TestAdminConsoleEventPages(t *testing.T) {
	srv := startServer(t, "")
	org := setupOrg(t, "cons-feed", "Console Feed")
	other := setupOrg(t, "cons-feed-other", "Other Feed")
	member := consoleMember(t, org, "cons-feed-member", true)
	joinOrg(t, other, member, false, "")
	db := openDB(t)
	for i := 0; i < 55; i++ {
		if err := db.Record(context.Background(), passport.Event{Type: passport.EventProfileChanged, AccountID: member, OrgID: org,
			Actor: passport.Actor{Kind: passport.ActorSystem}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Record(context.Background(), passport.Event{Type: passport.EventAccountBlocked, AccountID: member, OrgID: other,
		Actor: passport.Actor{Kind: passport.ActorSystem}}); err != nil {
		t.Fatal(err)
	}
	b, _, _ := consoleAdmin(t, srv, "cons-feed-admin", passport.RoleOrgAdmin, org)

	ids, changes := map[string]bool{}, 0
	next, pages := "/admin/events?org=cons-feed", 0
	for ; next != ""; pages++ {
		if pages > 3 {
			t.Fatal("the feed never ends")
		}
		_, page := b.get(srv.URL + next)
		for _, m := range consoleEventRow.FindAllStringSubmatch(page, -1) {
			if ids[m[2]] {
				t.Errorf("event %s on two pages", m[2])
			}
			ids[m[2]] = true
			switch m[1] {
			case passport.EventProfileChanged:
				changes++
			case passport.EventAccountBlocked:
				t.Error("another organisation's event in the feed")
			}
		}
		next = ""
		if m := consoleOlder.FindStringSubmatch(page); m != nil {
			next = html.UnescapeString(m[1])
		}
	}
	// 55 changes, the organisation's creation and the administrator's grant: two pages.
	if pages != 2 || changes != 55 || len(ids) < 56 {
		t.Errorf("the feed: %d pages, %d events, %d changes; want 2 pages and 55 changes", pages, len(ids), changes)
	}
	_, page := b.get(srv.URL + "/admin/orgs/cons-feed/members/" + member)
	rows := consoleEventRow.FindAllStringSubmatch(page, -1)
	if len(rows) != 20 || !consoleOlder.MatchString(page) || strings.Contains(page, `data-type="`+passport.EventAccountBlocked+`"`) {
		t.Errorf("the member's events: %d rows, older link %v", len(rows), consoleOlder.MatchString(page))
	}
	if resp, _ := b.get(srv.URL + "/admin/events?before=banana"); resp.StatusCode != http.StatusOK {
		t.Errorf("a garbage before: %d", resp.StatusCode)
	}
}

// consolePages shows every console page of an organisation's administrator to check (the
// language tests): the lists, an organisation, a member, the removal question, the events,
// the step-up form, and pages with a refused filter, a refused form and a flash.
func consolePages(t *testing.T, b *browser, alias, memberID string, check func(where, page string)) {
	t.Helper()
	member := "/admin/orgs/" + alias + "/members/" + memberID
	for _, p := range []string{"/admin/members", "/admin/members?org=" + alias, "/admin/members?status=sleeping",
		"/admin/members?q=nobody-matches-this", "/admin/orgs", "/admin/orgs/" + alias, "/admin/orgs/" + alias + "?saved=role-saved",
		member, member + "?saved=membership", member + "/remove", "/admin/events", "/admin/events?org=" + alias, "/admin/reauth"} {
		resp, page := b.get(b.base + p)
		if resp.StatusCode >= 500 || resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusForbidden {
			t.Errorf("console page %s: %d", p, resp.StatusCode)
		}
		check("console page "+p, page)
	}
	_, page := consolePost(t, b, "/admin/orgs/"+alias+"/members", "", url.Values{"login": {"nobody-has-this-login"}})
	check("a refused Add member", page)
	_, page = consolePost(t, b, member, "", url.Values{"roles": {"no_such_role"}})
	check("a refused role change", page)
	_, page = consolePost(t, b, "/admin/orgs/"+alias+"/roles", "", url.Values{"key": {"Bad Key"}})
	check("a refused role", page)
	_, page = consolePost(t, b, "/admin/reauth", "", url.Values{"password": {"wrong"}, "return": {"/admin"}})
	check("a refused step-up", page)
}
