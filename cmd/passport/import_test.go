package main

import (
	"bytes"
	"context"
	"encoding/json"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/passport-idp/passport/internal/passport"
)

// End-to-end CSV import (issue 13): through the admin API with the session cookie, against
// the real server with its import job running.

const impPassword = "import-e2e-Passw0rd!"

// impCall sends an admin API request with the browser's session cookie and CSRF token.
func impCall(t *testing.T, c *apiCaller, csrf, method, u, contentType string, body []byte) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, u, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	req.Header.Set("X-CSRF-Token", csrf)
	resp, err := c.b.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out bytes.Buffer
	_, _ = out.ReadFrom(resp.Body)
	return resp, out.Bytes()
}

// messageCount counts the login-details messages of an organisation's members.
func messageCount(t *testing.T, orgID string) int {
	t.Helper()
	var n int
	if err := openDB(t).Pool().QueryRow(context.Background(), `SELECT count(*) FROM messages m
		JOIN memberships s ON s.account_id = m.account_id AND s.org_id = $1 WHERE m.kind = 'login_details'`, orgID).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func memberCount(t *testing.T, orgID string) int {
	t.Helper()
	var n int
	if err := openDB(t).Pool().QueryRow(context.Background(), `SELECT count(*) FROM memberships WHERE org_id = $1`, orgID).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// waitImport polls the import's status until it is done or failed.
func waitImport(t *testing.T, c *apiCaller, csrf, u string) map[string]any {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		resp, body := impCall(t, c, csrf, "GET", u, "", nil)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d %s", u, resp.StatusCode, body)
		}
		var imp map[string]any
		if err := json.Unmarshal(body, &imp); err != nil {
			t.Fatal(err)
		}
		if s := imp["status"]; s == passport.ImportDone || s == passport.ImportFailed {
			return imp
		}
		<-timeAfter(50)
	}
	t.Fatalf("import %s did not finish", u)
	return nil
}

// TestImportThroughTheAdminAPI: a dry run reports the bad rows and writes nothing; the real
// import (202, Location) is run by the server's job: the good rows become members, one
// message is queued per member with credentials, and the result file says what happened to
// each row; importing the same file again changes nothing. Another organisation's
// administrator gets 404 for all of it, and a malformed file is a 422 naming the problem, never a 500.
func TestImportThroughTheAdminAPI(t *testing.T) {
	srv := startServer(t, "", "PASSPORT_ADMIN_REQUIRE_TWO_FACTOR", "false")
	org := setupOrg(t, "imp-e2e", "Import E2E", "driver", "operator")
	other := setupOrg(t, "imp-e2e-other", "Import E2E Other", "driver")
	admin := setupUser(t, "imp-e2e-admin", impPassword)
	grantAdmin(t, admin, passport.RoleOrgAdmin, org)
	stranger := setupUser(t, "imp-e2e-stranger", impPassword)
	grantAdmin(t, stranger, passport.RoleOrgAdmin, other)
	a := adminCookie(t, srv, "org admin", "imp-e2e-admin", impPassword, org)
	csrf := hidden(readPage(t, a.b, srv.URL+"/profile")).Get("csrf")
	s := adminCookie(t, srv, "stranger", "imp-e2e-stranger", impPassword, other)
	scsrf := hidden(readPage(t, s.b, srv.URL+"/profile")).Get("csrf")

	file := "login;email;given_name;family_name;roles;issue_credentials\n" +
		"imp-e2e-ann;ann@example.org;Ann;One;driver;yes\n" +
		"imp-e2e-bob;bob@example.org;Bob;Two;\"driver;operator\";no\n" +
		"IMP-E2E-ANN;ann2@example.org;Ann;Again;;no\n" +
		"imp-e2e-cat;cat@;Cat;Bad;;yes\n" +
		"imp-e2e-dan;dan@example.org;Dan;Role;pilot;no\n" +
		"imp-e2e-eve;eve@example.org;Eve;Three;;yes\n"
	base := srv.URL + "/api/v1/admin/orgs/" + org + "/imports"

	// The dry run.
	members, msgs := memberCount(t, org), messageCount(t, org)
	resp, body := impCall(t, a, csrf, "POST", base+"?dry_run=true", "text/csv", []byte(file))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("dry run: %d %s", resp.StatusCode, body)
	}
	var rep struct {
		Rows, Valid int
		Problems    []struct {
			Row     int
			Column  string
			Message string
		}
	}
	if err := json.Unmarshal(body, &rep); err != nil {
		t.Fatal(err)
	}
	got := map[int]string{}
	for _, p := range rep.Problems {
		got[p.Row] = p.Column
		if p.Message == "" {
			t.Errorf("row %d: no message", p.Row)
		}
	}
	if rep.Rows != 6 || rep.Valid != 3 || got[3] != "login" || got[4] != "email" || got[5] != "roles" || len(got) != 3 {
		t.Errorf("dry run report: %s", body)
	}
	if memberCount(t, org) != members || messageCount(t, org) != msgs {
		t.Error("the dry run wrote")
	}

	// A malformed file, an unknown column, a stranger: refused, nothing queued.
	for _, tc := range []struct {
		what   string
		c      *apiCaller
		csrf   string
		body   string
		status int
	}{
		{"malformed CSV", a, csrf, "login,email\n\"ann,a@example.org\n", http.StatusUnprocessableEntity},
		{"unknown column", a, csrf, "login,shoe\nann,42\n", http.StatusUnprocessableEntity},
		{"not UTF-8", a, csrf, "login,email\nann,\xff\n", http.StatusUnprocessableEntity},
		{"another organisation's administrator", s, scsrf, file, http.StatusNotFound},
	} {
		for _, q := range []string{"?dry_run=true", ""} {
			resp, body := impCall(t, tc.c, tc.csrf, "POST", base+q, "text/csv", []byte(tc.body))
			if resp.StatusCode != tc.status {
				t.Errorf("%s%s: %d %s, want %d", tc.what, q, resp.StatusCode, body, tc.status)
			}
		}
	}
	if memberCount(t, org) != members {
		t.Error("a refused import wrote")
	}

	// The real import, as a multipart upload.
	var mp bytes.Buffer
	mw := multipart.NewWriter(&mp)
	fw, _ := mw.CreateFormFile("file", "members.csv")
	_, _ = fw.Write([]byte(file))
	_ = mw.Close()
	resp, body = impCall(t, a, csrf, "POST", base, mw.FormDataContentType(), mp.Bytes())
	if resp.StatusCode != http.StatusAccepted || resp.Header.Get("Location") == "" {
		t.Fatalf("import: %d %s", resp.StatusCode, body)
	}
	loc := srv.URL + resp.Header.Get("Location")
	imp := waitImport(t, a, csrf, loc)
	if imp["status"] != "done" || imp["created"] != 3.0 || imp["failed"] != 3.0 || imp["file_name"] != "members.csv" {
		t.Errorf("import: %v", imp)
	}
	if n := memberCount(t, org) - members; n != 3 {
		t.Errorf("%d members created, want 3", n)
	}
	if n := messageCount(t, org) - msgs; n != 2 {
		t.Errorf("%d login-details messages queued, want 2", n)
	}
	// The result file.
	resp, body = impCall(t, a, csrf, "GET", loc+"/result", "", nil)
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") {
		t.Fatalf("result: %d %s", resp.StatusCode, body)
	}
	lines := strings.Split(strings.TrimSpace(strings.TrimPrefix(string(body), "\ufeff")), "\n")
	if len(lines) != 7 || !strings.HasSuffix(lines[0], ";outcome;message") || !strings.Contains(lines[1], ";created;") ||
		!strings.Contains(lines[3], ";error;") || !strings.Contains(lines[4], "email: ") {
		t.Errorf("result file:\n%s", body)
	}
	// The stranger sees none of it.
	for _, u := range []string{loc, loc + "/result", base} {
		if resp, body := impCall(t, s, scsrf, "GET", u, "", nil); resp.StatusCode != http.StatusNotFound {
			t.Errorf("stranger GET %s: %d %s", u, resp.StatusCode, body)
		}
	}
	otherLoc := srv.URL + "/api/v1/admin/orgs/" + other + "/imports/" + imp["id"].(string)
	if resp, _ := impCall(t, s, scsrf, "GET", otherLoc, "", nil); resp.StatusCode != http.StatusNotFound {
		t.Errorf("stranger reading the import through their own organisation: %d", resp.StatusCode)
	}

	// The same file again: nothing changes.
	members, msgs = memberCount(t, org), messageCount(t, org)
	resp, body = impCall(t, a, csrf, "POST", base, "text/csv", []byte(file))
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("import again: %d %s", resp.StatusCode, body)
	}
	again := waitImport(t, a, csrf, srv.URL+resp.Header.Get("Location"))
	if again["created"] != 0.0 || again["unchanged"] != 3.0 {
		t.Errorf("import again: %v", again)
	}
	if memberCount(t, org) != members || messageCount(t, org) != msgs {
		t.Error("importing the same file again wrote")
	}

	// The console page lists both imports, and its upload form checks a file.
	page := readPage(t, a.b, srv.URL+"/admin/orgs/imp-e2e/imports")
	if strings.Count(page, "data-import=") != 2 {
		t.Errorf("console list:\n%.2000s", page)
	}
	form := hidden(page)
	mp.Reset()
	mw = multipart.NewWriter(&mp)
	_ = mw.WriteField("csrf", form.Get("csrf"))
	_ = mw.WriteField("action", "check")
	fw, _ = mw.CreateFormFile("file", "members.csv")
	_, _ = fw.Write([]byte(file))
	_ = mw.Close()
	req, _ := http.NewRequest("POST", srv.URL+"/admin/orgs/imp-e2e/imports", &mp)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	cresp, err := a.b.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var cpage bytes.Buffer
	_, _ = cpage.ReadFrom(cresp.Body)
	cresp.Body.Close()
	if cresp.StatusCode != http.StatusOK || !strings.Contains(cpage.String(), `id="report"`) ||
		!strings.Contains(cpage.String(), `data-row="5" data-column="roles"`) {
		t.Errorf("console check: %d\n%.3000s", cresp.StatusCode, cpage.String())
	}
}
