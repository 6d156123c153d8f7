package main

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

// Locked fields and unlocking (SPEC §2, issue 13), through every write door of the real
// server: the cabinet's form, PATCH /api/v1/me, the sign-in's completion, the photo, the
// email and phone changes, the admin console, the admin API and the command line.

// locksConfig is a configuration file whose policy also locks the photo, the email and the
// phone of accounts an administrator created, and requires the nickname of everyone.
func locksConfig(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "passport.toml")
	err := os.WriteFile(path, []byte(`[profile]
required_fields = ["given_name", "family_name", "email", "nickname"]

[profile.policy.admin]
picture = "admin"
email = "admin"
phone = "admin"
`), 0o600)
	if err != nil {
		t.Fatal(err)
	}
	return path
}

// locksRow is what the person's edits could change: compared before and after a refusal.
func locksRow(t *testing.T, id string) string {
	t.Helper()
	return dbString(t, openDB(t), `SELECT concat_ws('|', given_name, family_name, birthdate, nickname, locale, email,
		phone, field_unlocks::text, updated_at, (SELECT count(*) FROM photos p WHERE p.account_id = a.id),
		(SELECT count(*) FROM contact_changes c WHERE c.account_id = a.id)) FROM accounts a WHERE id = $1`, id)
}

// feedTypes lists the event types of a feed answer ({"events": [...]}) about an account.
func feedTypes(out map[string]any, accountID string) []string {
	var types []string
	list, _ := out["events"].([]any)
	for _, x := range list {
		e, _ := x.(map[string]any)
		if accountID == "" || e["account_id"] == accountID {
			types = append(types, e["type"].(string))
		}
	}
	return types
}

// editInputs are the names of the edit page's inputs inside its main form.
var editInput = regexp.MustCompile(`<(?:input|select) id="f-[a-z_]+" name="([a-z_]+)"`)

func pageInputs(page string) map[string]bool {
	out := map[string]bool{}
	for _, m := range editInput.FindAllStringSubmatch(page, -1) {
		out[m[1]] = true
	}
	return out
}

// TestLockedFieldsEveryDoor: a locked field is refused at every door with a message naming
// the organisation, and nothing changes; the administrator's doors may change it; after an
// unlock the person may, and both sides see the events; an unlock whose end passed locks
// again; another organisation's administrator gets 404; the schema agrees with the page.
func TestLockedFieldsEveryDoor(t *testing.T) {
	cfg := locksConfig(t)
	srv := startServer(t, "", "PASSPORT_CONFIG", cfg)
	db := openDB(t)
	orgA := setupOrg(t, "locks-acme", "Acme Locks")
	orgB := setupOrg(t, "locks-other", "Other Locks")
	const pw = "locked-person-pw-7"
	person := setupUser(t, "locked-person", pw) // `user create`: registration method admin
	joinOrg(t, orgA, person, true, "")
	joinOrg(t, orgB, setupUser(t, "other-person", pw), true, "")
	adminA, _, _ := consoleAdmin(t, srv, "locks-admin-a", "org_admin", orgA)
	adminB, _, _ := consoleAdmin(t, srv, "locks-admin-b", "org_admin", orgB)
	callA := &apiCaller{name: "admin A", b: adminA}
	callB := &apiCaller{name: "admin B", b: adminB}
	pb := newBrowser(t, srv)
	signInDirectly(t, pb, "locked-person", pw)

	names := "Acme Locks"
	refused := func(what, text string, before string) {
		t.Helper()
		if !strings.Contains(text, "is managed by "+names) {
			t.Errorf("%s: the refusal does not name the organisation: %.600s", what, text)
		}
		if after := locksRow(t, person); after != before {
			t.Errorf("%s changed the account:\n%s\n%s", what, before, after)
		}
	}

	// 1. The cabinet's form: no input for a locked field; a forged one is refused.
	before := locksRow(t, person)
	_, page := pb.get(srv.URL + "/profile/edit")
	if in := pageInputs(page); in["given_name"] || in["family_name"] || in["birthdate"] || !in["nickname"] {
		t.Errorf("edit page inputs: %v", in)
	}
	if !strings.Contains(page, "Given name is managed by Acme Locks: ask its administrator to change it.") {
		t.Errorf("the edit page does not say whom to ask: %.800s", page)
	}
	form := hidden(page)
	form.Set("given_name", "Forged")
	resp, page := pb.post("/profile/edit", form)
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("forged form: %d", resp.StatusCode)
	}
	refused("cabinet form", page, before)

	// 2. PATCH /api/v1/me.
	s, out := api(t, pb, http.MethodPatch, "/me", "", map[string]any{"family_name": "Forged", "nickname": "ok"})
	if s != http.StatusUnprocessableEntity {
		t.Errorf("PATCH /me: %d", s)
	}
	refused("PATCH /me", toJSON(out), before)

	// 3. The photo: form, API upload and delete.
	resp, page = uploadPhotoForm(t, pb, pngImage(t, 64, 64), "me.png")
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("photo form: %d", resp.StatusCode)
	}
	refused("photo form", page, before)
	s, out = api(t, pb, http.MethodPut, "/me/photo", "", pngImage(t, 64, 64))
	if s != http.StatusUnprocessableEntity {
		t.Errorf("PUT /me/photo: %d %v", s, out)
	}
	refused("PUT /me/photo", toJSON(out), before)
	_, out = api(t, pb, http.MethodDelete, "/me/photo", "", nil)
	refused("DELETE /me/photo", toJSON(out), before)

	// 4. The email and phone changes: page and API.
	_, page = pb.get(srv.URL + "/profile/email")
	form = hidden(page)
	form.Set("value", "new-address@example.com")
	_, page = pb.post("/profile/email", form)
	refused("email change page", page, before)
	s, out = api(t, pb, http.MethodPost, "/me/phone", "", map[string]any{"phone": "+3725551234"})
	if s != http.StatusUnprocessableEntity {
		t.Errorf("POST /me/phone: %d %v", s, out)
	}
	refused("POST /me/phone", toJSON(out), before)

	// 5. The sign-in's completion: the nickname is asked for, the locked given name (emptied
	// by the administrator's side) is not, and a forged one is ignored.
	if _, err := db.Pool().Exec(context.Background(), `UPDATE accounts SET given_name = '' WHERE id = $1`, person); err != nil {
		t.Fatal(err)
	}
	before = locksRow(t, person)
	secret := setupClient(t, "locks-web")
	rp := newRP(t, srv, "locks-web", secret, "profile")
	_, page = pb.get(rp.authURL("l", oauth2.GenerateVerifier(), oauth2.SetAuthURLParam("prompt", "login")))
	form = hidden(page)
	form.Set("login", "locked-person")
	form.Set("password", pw)
	resp, page = pb.post("/signin", form)
	if resp.Request.URL.Path != "/signin/complete" || !strings.Contains(page, `name="nickname"`) || strings.Contains(page, `name="given_name"`) {
		t.Fatalf("completion form: %s %.500s", resp.Request.URL, page)
	}
	form = hidden(page)
	form.Set("given_name", "Forged")
	form.Set("nickname", "")
	pb.post("/signin/complete", form)
	if after := locksRow(t, person); after != before {
		t.Errorf("the completion changed the account: %s", after)
	}
	if _, err := db.Pool().Exec(context.Background(), `UPDATE accounts SET given_name = 'Ada' WHERE id = $1`, person); err != nil {
		t.Fatal(err)
	}

	// 6. The schema agrees with the page, field by field.
	agree := func(what string) map[string]map[string]any {
		t.Helper()
		s, out := api(t, pb, http.MethodGet, "/me/profile/schema", "", nil)
		if s != http.StatusOK {
			t.Fatalf("schema: %d %v", s, out)
		}
		_, page := pb.get(srv.URL + "/profile/edit")
		inputs := pageInputs(page)
		fields := map[string]map[string]any{}
		for _, x := range out["fields"].([]any) {
			f := x.(map[string]any)
			fields[f["field"].(string)] = f
		}
		for _, f := range []string{"nickname", "given_name", "family_name", "birthdate", "locale"} {
			if inputs[f] != fields[f]["editable"].(bool) {
				t.Errorf("%s: %s: input on the page %v, schema editable %v", what, f, inputs[f], fields[f]["editable"])
			}
		}
		photo := strings.Contains(page, `name="photo"`)
		if photo != fields["picture"]["editable"].(bool) {
			t.Errorf("%s: photo input %v, schema %v", what, photo, fields["picture"]["editable"])
		}
		return fields
	}
	fields := agree("locked")
	g := fields["given_name"]
	reason, _ := g["reason"].(map[string]any)
	org, _ := reason["organisation"].(map[string]any)
	if g["editable"] != false || g["required"] != true || reason["code"] != "locked" || org["id"] != orgA || org["name"] != "Acme Locks" ||
		!strings.Contains(reason["message"].(string), "Acme Locks") {
		t.Errorf("given_name schema: %v", g)
	}
	if r, _ := fields["login"]["reason"].(map[string]any); fields["login"]["editable"] != false || r["code"] != "never_editable" {
		t.Errorf("login schema: %v", fields["login"])
	}
	if fields["nickname"]["editable"] != true || fields["nickname"]["required"] != true || fields["nickname"]["publicity"] != "public" {
		t.Errorf("nickname schema: %v", fields["nickname"])
	}
	if len(fields) != 11 {
		t.Errorf("schema fields: %d", len(fields))
	}

	// 7. Another organisation's administrator: 404 at every admin door, nothing changes.
	before = locksRow(t, person)
	memberA := "/admin/orgs/locks-acme/members/" + person
	for _, x := range []struct {
		method, path string
		body         any
	}{
		{http.MethodPut, "/admin/orgs/locks-acme/members/" + person + "/unlocks/given_name", map[string]any{"until": nil}},
		{http.MethodPut, "/admin/orgs/locks-other/members/" + person + "/unlocks/given_name", map[string]any{"until": nil}},
		{http.MethodDelete, "/admin/orgs/locks-acme/members/" + person + "/unlocks/given_name", nil},
		{http.MethodPatch, "/admin/orgs/locks-acme/members/" + person + "/profile", map[string]any{"given_name": "Foreign"}},
		{http.MethodPatch, "/admin/orgs/locks-other/members/" + person + "/profile", map[string]any{"given_name": "Foreign"}},
	} {
		if s, out := callB.call(t, srv, x.method, x.path, x.body); s != http.StatusNotFound {
			t.Errorf("foreign %s %s: %d %v", x.method, x.path, s, out)
		}
	}
	for _, p := range []string{"/unlock", "/relock", "/profile"} {
		resp, _ := consolePost(t, adminB, memberA+p, memberA, url.Values{"field": {"given_name"}, "given_name": {"Foreign"}})
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("foreign console %s: %d", p, resp.StatusCode)
		}
	}
	if after := locksRow(t, person); after != before {
		t.Errorf("a foreign administrator changed the account: %s", after)
	}

	// 8. The administrator's doors may change a locked field: console, admin API, CLI.
	_, page = adminA.get(srv.URL + memberA)
	if !strings.Contains(page, `data-field="given_name" data-state="locked"`) || !strings.Contains(page, `action="`+memberA+`/unlock"`) {
		t.Errorf("the member page's locks section: %.300s", page[strings.Index(page, `id="locks"`):])
	}
	resp, body := consolePost(t, adminA, memberA+"/profile", memberA, url.Values{"given_name": {"Augusta"}, "family_name": {"King"}})
	consoleWantRedirect(t, "console edit", resp, body, memberA+"?locks=profile")
	if got := dbString(t, db, `SELECT given_name || ' ' || family_name FROM accounts WHERE id = $1`, person); got != "Augusta King" {
		t.Errorf("console edit: %q", got)
	}
	resp, body = consolePost(t, adminA, memberA+"/profile", memberA, url.Values{"birthdate": {"2999-01-01"}})
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "Birth date cannot be in the future.") {
		t.Errorf("console edit with a mistake: %d", resp.StatusCode)
	}
	if s, out := callA.call(t, srv, http.MethodPatch, "/admin/orgs/locks-acme/members/"+person+"/profile",
		map[string]any{"given_name": "Ada", "birthdate": "1915-12-10"}); s != http.StatusOK {
		t.Errorf("admin API edit: %d %v", s, out)
	}
	if got := dbString(t, db, `SELECT given_name || ' ' || birthdate FROM accounts WHERE id = $1`, person); got != "Ada 1915-12-10" {
		t.Errorf("admin API edit: %q", got)
	}
	var stdout, stderr bytes.Buffer
	e := cliEnv{ctx: context.Background(), getenv: env("PASSPORT_CONFIG", cfg), stdout: &stdout, stderr: &stderr}
	if err := e.memberEdit([]string{"--org", "locks-acme", "--login", "locked-person", "--family-name", "Byron"}); err != nil {
		t.Errorf("CLI edit: %v %s", err, stderr.String())
	}
	if err := e.memberEdit([]string{"--org", "locks-other", "--login", "locked-person", "--family-name", "X"}); err == nil {
		t.Error("CLI edit through an organisation the account is not in")
	}
	if got := dbString(t, db, `SELECT family_name FROM accounts WHERE id = $1`, person); got != "Byron" {
		t.Errorf("CLI edit: %q", got)
	}

	// 9. Unlock until a time (admin API), the person changes it, both feeds show it; then
	// the end passes and it is locked again.
	until := time.Now().Add(48 * time.Hour).UTC().Truncate(time.Second)
	if s, out := callA.call(t, srv, http.MethodPut, "/admin/orgs/locks-acme/members/"+person+"/unlocks/given_name",
		map[string]any{"until": until.Format(time.RFC3339)}); s != http.StatusOK {
		t.Fatalf("unlock: %d %v", s, out)
	}
	if s, out := callA.call(t, srv, http.MethodPut, "/admin/orgs/locks-acme/members/"+person+"/unlocks/nickname",
		map[string]any{"until": nil}); s != http.StatusUnprocessableEntity {
		t.Errorf("unlock of a field the policy does not lock: %d %v", s, out)
	}
	if s, out := callA.call(t, srv, http.MethodPut, "/admin/orgs/locks-acme/members/"+person+"/unlocks/given_name",
		map[string]any{"until": "2001-01-01T00:00:00Z"}); s != http.StatusUnprocessableEntity {
		t.Errorf("unlock until the past: %d %v", s, out)
	}
	fields = agree("unlocked")
	if fields["given_name"]["editable"] != true || fields["given_name"]["unlocked_until"] != until.Format(time.RFC3339) {
		t.Errorf("given_name after the unlock: %v", fields["given_name"])
	}
	if s, out := api(t, pb, http.MethodPatch, "/me", "", map[string]any{"given_name": "Grace"}); s != http.StatusOK {
		t.Fatalf("the person's edit after the unlock: %d %v", s, out)
	}
	_, mine := api(t, pb, http.MethodGet, "/me/events", "", nil)
	_, theirs := callA.call(t, srv, http.MethodGet, "/admin/orgs/locks-acme/events", nil)
	for what, types := range map[string][]string{"person": feedTypes(mine, ""), "organisation": feedTypes(theirs, person)} {
		if !contains(types, "profile.unlocked") || !contains(types, "profile.changed") {
			t.Errorf("%s's feed: %v", what, types)
		}
	}
	// The console shows it unlocked, and locks it again.
	_, page = adminA.get(srv.URL + memberA)
	if !strings.Contains(page, `data-field="given_name" data-state="unlocked"`) {
		t.Error("the member page does not show the unlock")
	}
	resp, body = consolePost(t, adminA, memberA+"/relock", memberA, url.Values{"field": {"given_name"}})
	consoleWantRedirect(t, "relock", resp, body, memberA+"?locks=relocked")
	agree("relocked")
	if s, _ := api(t, pb, http.MethodPatch, "/me", "", map[string]any{"given_name": "Again"}); s != http.StatusUnprocessableEntity {
		t.Errorf("after re-locking: %d", s)
	}
	// Console unlock until a day, then the end passes (in the database's clock).
	resp, body = consolePost(t, adminA, memberA+"/unlock", memberA, url.Values{"field": {"picture"},
		"until": {time.Now().AddDate(0, 0, 3).Format(time.DateOnly)}})
	consoleWantRedirect(t, "console unlock", resp, body, memberA+"?locks=unlocked")
	if resp, _ = uploadPhotoForm(t, pb, pngImage(t, 64, 64), "me.png"); resp.Request.URL.Path != "/profile" {
		t.Errorf("photo after the unlock: %d %s", resp.StatusCode, resp.Request.URL)
	}
	if _, err := db.Pool().Exec(context.Background(),
		`UPDATE accounts SET field_unlocks = jsonb_build_object('picture', '2001-01-01T00:00:00Z') WHERE id = $1`, person); err != nil {
		t.Fatal(err)
	}
	agree("ended")
	before = locksRow(t, person)
	s, out = api(t, pb, http.MethodDelete, "/me/photo", "", nil)
	if s != http.StatusUnprocessableEntity {
		t.Errorf("photo delete after the unlock ended: %d", s)
	}
	refused("photo delete after the unlock ended", toJSON(out), before)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
