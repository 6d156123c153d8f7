package account_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/passport-idp/passport/internal/account"
	"github.com/passport-idp/passport/internal/passport"
	"github.com/passport-idp/passport/internal/postgres"
)

// importWorld is a world whose service queues a "login details" message per issue.
func importWorld(t *testing.T) *world {
	t.Helper()
	w := newWorld(t)
	w.svc.CredentialMessage = credentialMessage
	return w
}

// credentialMessage stands in for the web layer's rendering of the login details.
func credentialMessage(ctx context.Context, a *passport.Account, org *passport.Organisation, channel, template, locale, password string,
	expires time.Time) (passport.Outgoing, error) {
	to := a.Email
	if channel == passport.ChannelSMS {
		to = a.Phone
	}
	return passport.Outgoing{Channel: channel, To: to, Kind: passport.MessageLoginDetails, Locale: "en", AccountID: a.ID,
		Payload: []byte("sealed")}, nil
}

// counts are the rows an import may write.
type counts struct{ accounts, memberships, messages, imports, events int }

func countRows(t *testing.T, db *postgres.DB) counts {
	t.Helper()
	var c counts
	err := db.Pool().QueryRow(context.Background(), `SELECT (SELECT count(*) FROM accounts), (SELECT count(*) FROM memberships),
		(SELECT count(*) FROM messages), (SELECT count(*) FROM imports), (SELECT count(*) FROM security_events)`).
		Scan(&c.accounts, &c.memberships, &c.messages, &c.imports, &c.events)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func importUniq(prefix string) string { return fmt.Sprintf("%s%d", prefix, time.Now().UnixNano()%1e9) }

// clearQueue ends the imports other tests left queued, so the next claim is this test's.
func clearQueue(t testing.TB, db *postgres.DB) {
	t.Helper()
	if _, err := db.Pool().Exec(context.Background(), `UPDATE imports SET status = 'failed', leased_until = NULL
		WHERE status IN ('queued', 'running')`); err != nil {
		t.Fatal(err)
	}
}

// runImport claims the queued import id and runs it as the job would.
func runImport(t *testing.T, w *world, id string) *postgres.Import {
	t.Helper()
	ctx := context.Background()
	c, err := w.db.ClaimImport(ctx)
	if err != nil || c == nil || c.ID != id {
		t.Fatalf("claim: %+v, %v; want import %s", c, err, id)
	}
	if err := w.svc.RunImport(ctx, c.ID, c.Attempt); err != nil {
		t.Fatalf("run: %v", err)
	}
	imp, err := w.db.Import(ctx, w.orgA, id)
	if err != nil {
		t.Fatal(err)
	}
	return imp
}

// TestImportDryRunReportsEveryProblemAndWritesNothing: one file (semicolons, a byte-order
// mark) with every kind of bad row: each problem is reported at its row and column, the
// good rows are counted, and nothing at all is written.
func TestImportDryRunReportsEveryProblemAndWritesNothing(t *testing.T) {
	w := importWorld(t)
	ctx := context.Background()
	p := importUniq("dry")
	taken := &passport.Account{Login: p + "-Taken", Email: "taken@example.org", RegistrationMethod: passport.RegisteredSelf}
	if err := w.db.CreateAccount(ctx, taken); err != nil {
		t.Fatal(err)
	}
	member, err := w.db.Account(ctx, w.managedA)
	if err != nil {
		t.Fatal(err)
	}
	file := "\ufeffLogin;Email;phone;given_name;family_name;birthdate;position;roles;issue_credentials;template\n" +
		p + "-ann;ann@example.org;+37255512345;Ann;Lee;1990-01-02;Driver;driver;yes;\n" + // 1 good
		strings.ToUpper(p) + "-ANN;ann2@example.org;;Ann;Two;;;;no;\n" + // 2 the login of row 1 again
		strings.ToUpper(p) + "-TAKEN;t@example.org;;Tim;Taken;;;;no;\n" + // 3 held by another account
		p + "-bob;bob@;;Bob;Bad;;;;no;\n" + // 4 bad email
		p + "-carl;carl@example.org;12345;Carl;Phone;;;;no;\n" + // 5 phone not E.164
		p + "-dan;dan@example.org;;Dan;Role;;;\"driver;pilot\";no;\n" + // 6 unknown role
		p + "-eve;;;Eve;Nobody;;;;no;\n" + // 7 neither email nor phone
		p + "-fay;fay@example.org;;Fay;Tmpl;;;;yes;fancy\n" + // 8 unknown template
		p + "-gus;gus@example.org;;Gus;Maybe;;;;maybe;\n" + // 9 bad issue_credentials
		p + "-hal;hal@example.org;;Hal;Good;1980-05-06;;operator|driver;;\n" + // 10 good
		strings.ToUpper(member.Login) + ";m@example.org;;Mem;Ber;;;;no;\n" + // 11 a member already: unchanged
		p + "-ivy;ivy@example.org\n" // 12 too few values
	before := countRows(t, w.db)
	rep, err := w.svc.CheckImport(ctx, w.adminA, w.orgA, []byte(file), 100)
	if err != nil {
		t.Fatal(err)
	}
	after := countRows(t, w.db)
	if before != after {
		t.Errorf("a dry run wrote: before %+v, after %+v", before, after)
	}
	if rep.Rows != 12 || rep.Valid != 2 || rep.Unchanged != 1 {
		t.Errorf("rows %d, valid %d, unchanged %d; want 12, 2, 1", rep.Rows, rep.Valid, rep.Unchanged)
	}
	want := map[int]string{2: "login", 3: "login", 4: "email", 5: "phone", 6: "roles", 7: "email", 8: "template",
		9: "issue_credentials", 12: ""}
	got := map[int][]string{}
	for _, pr := range rep.Problems {
		got[pr.Row] = append(got[pr.Row], pr.Column)
		if pr.Error == nil || pr.Error.Message == "" {
			t.Errorf("row %d: a problem without a message", pr.Row)
		}
		if pr.Line != pr.Row+1 {
			t.Errorf("row %d reported on line %d, want %d", pr.Row, pr.Line, pr.Row+1)
		}
	}
	for row, col := range want {
		if len(got[row]) == 0 || got[row][0] != col {
			t.Errorf("row %d: problems in columns %v, want %q", row, got[row], col)
		}
	}
	for _, row := range []int{1, 10, 11} {
		if len(got[row]) > 0 {
			t.Errorf("row %d is good, but has problems in %v", row, got[row])
		}
	}
	if len(got) != len(want) {
		t.Errorf("problems in rows %v, want exactly %v", got, want)
	}
}

// TestImportFileErrors: a file that cannot be read as a whole is refused with one message
// about the file (EINVALID), before any row is checked, and nothing is queued.
func TestImportFileErrors(t *testing.T) {
	w := importWorld(t)
	ctx := context.Background()
	for name, file := range map[string]string{
		"not utf-8":        "login,email\nann,\xff@example.org\n",
		"empty":            " \n",
		"header only":      "login,email\n",
		"unknown column":   "login,email,shoe_size\nann,a@example.org,42\n",
		"column twice":     "login,email,LOGIN\nann,a@example.org,ann\n",
		"nameless column":  "login,,email\nann,x,a@example.org\n",
		"unclosed quote":   "login,email\n\"ann,a@example.org\nbob,b@example.org\n",
		"too many rows":    "login,email\na1,a1@example.org\na2,a2@example.org\na3,a3@example.org\n",
		"no header at all": "ann,ann@example.org\n",
	} {
		t.Run(name, func(t *testing.T) {
			before := countRows(t, w.db)
			_, err := w.svc.CheckImport(ctx, w.adminA, w.orgA, []byte(file), 2)
			if pe := passport.AsError(err); err == nil || pe.Code != passport.EINVALID || pe.Field != "file" {
				t.Errorf("dry run: %v, want an EINVALID error about the file", err)
			}
			_, err = w.svc.StartImport(ctx, w.adminA, w.orgA, "x.csv", []byte(file), 2)
			if pe := passport.AsError(err); err == nil || pe.Code != passport.EINVALID || pe.Field != "file" {
				t.Errorf("start: %v, want an EINVALID error about the file", err)
			}
			if after := countRows(t, w.db); after != before {
				t.Errorf("wrote: before %+v, after %+v", before, after)
			}
		})
	}
}

// TestImportRunCreatesGoodRowsOnce: the real run creates exactly the good rows, queues one
// message per member with issue_credentials=yes, leaves a member unchanged and reports the
// bad row; running the same file again creates nothing and queues nothing.
func TestImportRunCreatesGoodRowsOnce(t *testing.T) {
	w := importWorld(t)
	ctx := context.Background()
	p := importUniq("run")
	member, err := w.db.Account(ctx, w.managedA)
	if err != nil {
		t.Fatal(err)
	}
	file := "login,email,given_name,family_name,roles,issue_credentials\n" +
		p + "-a,a@example.org,Ann,One,driver,yes\n" +
		p + "-b,b@example.org,Bob,Two,,no\n" +
		p + "-c,c@example.org,Cat,Three,operator;driver,true\n" +
		p + "-d,d@,Dan,Bad,,yes\n" +
		strings.ToUpper(member.Login) + ",m@example.org,Mem,Ber,,yes\n"
	before := countRows(t, w.db)
	clearQueue(t, w.db)
	imp, err := w.svc.StartImport(ctx, w.adminA, w.orgA, "members.csv", []byte(file), 100)
	if err != nil {
		t.Fatal(err)
	}
	if imp.Status != passport.ImportQueued || imp.Total != 5 {
		t.Errorf("started: status %q, total %d", imp.Status, imp.Total)
	}
	done := runImport(t, w, imp.ID)
	if done.Status != passport.ImportDone || done.Processed != 5 || done.Created != 3 || done.Unchanged != 1 || done.Failed != 1 {
		t.Errorf("first run: %+v; want done, 5 processed, 3 created, 1 unchanged, 1 failed", done)
	}
	mid := countRows(t, w.db)
	if mid.accounts-before.accounts != 3 || mid.memberships-before.memberships != 3 {
		t.Errorf("created %d accounts and %d memberships, want 3 and 3", mid.accounts-before.accounts, mid.memberships-before.memberships)
	}
	if n := mid.messages - before.messages; n != 2 {
		t.Errorf("queued %d messages, want 2 (one per member with credentials)", n)
	}
	for _, login := range []string{p + "-a", p + "-b", p + "-c"} {
		h, err := w.db.LoginHolder(ctx, w.orgA, strings.ToUpper(login))
		if err != nil || !h.Member {
			t.Errorf("%s: %+v, %v; want a member of A", login, h, err)
		}
	}
	if h, _ := w.db.LoginHolder(ctx, w.orgA, p+"-d"); h.AccountID != "" {
		t.Error("the bad row was created")
	}
	var file2 []byte
	result, err := w.svc.ImportResult(ctx, w.adminA, w.orgA, imp.ID, fmt.Sprintf)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(result, []byte("\ufeff")))).ReadAll()
	if err != nil {
		t.Fatalf("result file: %v\n%s", err, result)
	}
	wantOutcomes := []string{"created", "created", "created", "error", "unchanged"}
	if len(recs) != 6 || strings.Join(recs[0][6:], ",") != "outcome,message" {
		t.Fatalf("result file:\n%s", result)
	}
	for i, want := range wantOutcomes {
		if recs[i+1][6] != want {
			t.Errorf("result row %d: outcome %q, want %q", i+1, recs[i+1][6], want)
		}
		if (want == "error") != (recs[i+1][7] != "") {
			t.Errorf("result row %d: message %q", i+1, recs[i+1][7])
		}
	}
	if !strings.HasPrefix(recs[4][7], "email: ") {
		t.Errorf("the bad row's message %q does not name its column", recs[4][7])
	}
	file2 = result // the result file itself imports again: its extra columns are ignored

	// The same file again, then the result file: nothing new.
	for _, f := range [][]byte{[]byte(file), file2} {
		again, err := w.svc.StartImport(ctx, w.adminA, w.orgA, "members.csv", f, 100)
		if err != nil {
			t.Fatal(err)
		}
		done := runImport(t, w, again.ID)
		if done.Status != passport.ImportDone || done.Created != 0 || done.Unchanged != 4 || done.Failed != 1 {
			t.Errorf("again: %+v; want done, 0 created, 4 unchanged, 1 failed", done)
		}
	}
	after := countRows(t, w.db)
	if after.accounts != mid.accounts || after.memberships != mid.memberships || after.messages != mid.messages {
		t.Errorf("running again wrote: %+v, then %+v", mid, after)
	}
}

// TestImportIsScoped: another organisation's administrator, and a person without grants,
// can neither check, start, list, read nor download an organisation's imports: ENOTFOUND.
func TestImportIsScoped(t *testing.T) {
	w := importWorld(t)
	ctx := context.Background()
	file := []byte("login,email\n" + importUniq("scope") + ",s@example.org\n")
	imp, err := w.svc.StartImport(ctx, w.adminA, w.orgA, "a.csv", file, 10)
	if err != nil {
		t.Fatal(err)
	}
	before := countRows(t, w.db)
	for _, actor := range []passport.Actor{w.adminB, w.person} {
		for name, call := range map[string]func() error{
			"check":  func() error { _, err := w.svc.CheckImport(ctx, actor, w.orgA, file, 10); return err },
			"start":  func() error { _, err := w.svc.StartImport(ctx, actor, w.orgA, "b.csv", file, 10); return err },
			"list":   func() error { _, err := w.svc.Imports(ctx, actor, w.orgA); return err },
			"read":   func() error { _, err := w.svc.Import(ctx, actor, w.orgA, imp.ID); return err },
			"result": func() error { _, err := w.svc.ImportResult(ctx, actor, w.orgA, imp.ID, fmt.Sprintf); return err },
		} {
			if code := passport.ErrorCode(err2(call)); code != passport.ENOTFOUND {
				t.Errorf("%s by %s: %s, want ENOTFOUND", name, actor.AccountID, code)
			}
		}
	}
	// A's import through B's own organisation: not found either.
	if _, err := w.svc.Import(ctx, w.adminB, w.orgB, imp.ID); passport.ErrorCode(err) != passport.ENOTFOUND {
		t.Errorf("A's import read as B's: %v", err)
	}
	if list, err := w.svc.Imports(ctx, w.adminB, w.orgB); err != nil || len(list) != 0 {
		t.Errorf("B's list: %d imports, %v", len(list), err)
	}
	if after := countRows(t, w.db); after != before {
		t.Errorf("refused calls wrote: %+v, then %+v", before, after)
	}
	if _, err := w.svc.Import(ctx, w.adminA, w.orgA, imp.ID); err != nil {
		t.Errorf("A reads its own import: %v", err)
	}
}

func err2(f func() error) error { return f() }

// TestImportOfRevokedAdministratorFails: the job acts with the grants the administrator
// holds when it runs: once revoked, their queued import fails and creates nobody.
func TestImportOfRevokedAdministratorFails(t *testing.T) {
	w := importWorld(t)
	ctx := context.Background()
	clearQueue(t, w.db)
	imp, err := w.svc.StartImport(ctx, w.adminA, w.orgA, "a.csv", []byte("login,email\n"+importUniq("revoked")+",r@example.org\n"), 10)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.db.RevokeAdmin(ctx, w.adminAID, passport.Grant{Role: passport.RoleOrgAdmin, OrgID: w.orgA}); err != nil {
		t.Fatal(err)
	}
	before := countRows(t, w.db)
	done := runImport(t, w, imp.ID)
	if done.Status != passport.ImportFailed || done.Created != 0 || done.Error == "" {
		t.Errorf("revoked administrator's import: %+v; want failed, nothing created", done)
	}
	if after := countRows(t, w.db); after.accounts != before.accounts {
		t.Error("an account was created")
	}
}

// TestImportClaimsAreExclusive: many runners claim at once and one import goes to exactly
// one of them (SKIP LOCKED); while its lease lasts nobody else gets it; after the lease
// runs out (the runner died) another claims it, resumes it, and the dead runner's late
// writes are refused (fenced on the attempt).
func TestImportClaimsAreExclusive(t *testing.T) {
	w := importWorld(t)
	ctx := context.Background()
	p := importUniq("claim")
	clearQueue(t, w.db)
	imp, err := w.svc.StartImport(ctx, w.adminA, w.orgA, "a.csv", []byte("login,email\n"+p+"-1,c1@example.org\n"+p+"-2,c2@example.org\n"), 10)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var claims []*postgres.ClaimedImport
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := w.db.ClaimImport(ctx)
			if err != nil {
				t.Error(err)
			}
			if c != nil {
				mu.Lock()
				claims = append(claims, c)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(claims) != 1 || claims[0].ID != imp.ID || claims[0].Attempt != 1 {
		t.Fatalf("claims: %+v; want one, of the import, attempt 1", claims)
	}
	// The runner dies before running; once the lease is over another runner resumes.
	w.db.Now = func() time.Time { return time.Now().Add(postgres.ImportLease + time.Minute) }
	defer func() { w.db.Now = time.Now }()
	c2, err := w.db.ClaimImport(ctx)
	if err != nil || c2 == nil || c2.ID != imp.ID || c2.Attempt != 2 {
		t.Fatalf("claim after the lease: %+v, %v; want attempt 2", c2, err)
	}
	if err := w.svc.RunImport(ctx, imp.ID, 1); passport.ErrorCode(err) != passport.ENOTFOUND {
		t.Errorf("the first attempt ran after losing its claim: %v", err)
	}
	if err := w.db.SaveImportProgress(ctx, imp.ID, 1, postgres.ImportProgress{Processed: 99}); passport.ErrorCode(err) != passport.ECONFLICT {
		t.Errorf("the first attempt saved progress after losing its claim: %v", err)
	}
	if err := w.svc.RunImport(ctx, imp.ID, 2); err != nil {
		t.Fatal(err)
	}
	done, err := w.db.Import(ctx, w.orgA, imp.ID)
	if err != nil || done.Status != passport.ImportDone || done.Created != 2 || done.Attempts != 2 {
		t.Errorf("resumed import: %+v, %v", done, err)
	}
	if c, err := w.db.ClaimImport(ctx); c != nil || err != nil {
		t.Errorf("a finished import was claimed again: %+v, %v", c, err)
	}
}

// BenchmarkImport10000Rows imports 10,000 generated rows (half with credentials) through
// RunImport against PostgreSQL and reports rows per second. The goal (issue 13): under a
// minute. Run with: go test ./internal/account/ -run '^$' -bench Import10000 -benchtime 1x
func BenchmarkImport10000Rows(b *testing.B) {
	w := benchWorld(b)
	b.StopTimer()
	ctx := context.Background()
	n := 10000
	if v, err := strconv.Atoi(os.Getenv("IMPORT_BENCH_ROWS")); err == nil && v > 0 {
		n = v // a shorter run, for profiling
	}
	for i := 0; i < b.N; i++ {
		p := importUniq(fmt.Sprintf("bench%d-", i))
		var file strings.Builder
		file.WriteString("login,email,phone,given_name,family_name,birthdate,position,roles,issue_credentials\n")
		for r := range n {
			issue := "no"
			if r%2 == 0 {
				issue = "yes"
			}
			fmt.Fprintf(&file, "%s-%d,m%d.%s@example.org,+3725%07d,Given%d,Family%d,1990-01-02,Driver,driver;operator,%s\n",
				p, r, r, p, r, r, r, issue)
		}
		clearQueue(b, w.db)
		imp, err := w.svc.StartImport(ctx, w.adminA, w.orgA, "bench.csv", []byte(file.String()), n)
		if err != nil {
			b.Fatal(err)
		}
		c, err := w.db.ClaimImport(ctx)
		if err != nil || c == nil {
			b.Fatal(c, err)
		}
		start := time.Now()
		b.StartTimer()
		if err := w.svc.RunImport(ctx, c.ID, c.Attempt); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		elapsed := time.Since(start)
		done, err := w.db.Import(ctx, w.orgA, imp.ID)
		if err != nil || done.Created != n {
			b.Fatalf("%+v, %v", done, err)
		}
		b.ReportMetric(float64(n)/elapsed.Seconds(), "rows/s")
		b.ReportMetric(elapsed.Seconds()*10000/float64(n), "s/10000rows")
	}
}

// benchWorld is an organisation with roles and its administrator, for a benchmark.
func benchWorld(b *testing.B) *world {
	b.Helper()
	ctx := context.Background()
	db, err := postgres.Open(ctx, testURL, 4)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(db.Close)
	w := &world{db: db, svc: &account.Service{DB: db, CredentialMessage: credentialMessage}}
	sys := account.System()
	org, err := w.svc.CreateOrg(ctx, sys, importUniq("bench-org-"), "Bench")
	if err != nil {
		b.Fatal(err)
	}
	w.orgA = org.ID
	for _, r := range []string{"driver", "operator"} {
		if err := w.svc.SaveRole(ctx, sys, org.ID, passport.Role{Key: r, Names: map[string]string{"en": r}}); err != nil {
			b.Fatal(err)
		}
	}
	admin := &passport.Account{Login: importUniq("bench-admin-"), Email: "admin@example.org", RegistrationMethod: passport.RegisteredSelf}
	if err := db.CreateAccount(ctx, admin); err != nil {
		b.Fatal(err)
	}
	if err := w.svc.Grant(ctx, sys, admin.ID, passport.RoleOrgAdmin, org.ID); err != nil {
		b.Fatal(err)
	}
	if w.adminA, err = w.svc.Admin(ctx, admin.ID, "192.0.2.1", "bench", ""); err != nil {
		b.Fatal(err)
	}
	return w
}
