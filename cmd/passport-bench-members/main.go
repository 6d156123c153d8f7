// Command passport-bench-members measures the administrators' member list at 100,000
// accounts: the latency of one page (p50, p95, p99) for the first page, a page deep in the
// list, each filter and a search, for an organisation administrator of a 100,000-member
// organisation and for a service administrator across organisations. It measures two
// layers: the account action itself (internal/account's Members over the store, in this
// process) and the admin API route a program or the console calls
// (GET /api/v1/admin/orgs/{org}/members and /api/v1/admin/members) on a real
// `passport serve` pinned to one CPU. `make bench` runs it after passport-bench.
//
// The data is seeded in a throwaway database with a few INSERT … SELECT generate_series
// statements (seconds, not 100,000 round trips); -keep leaves the database for EXPLAIN.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/passport-idp/passport/cmd/internal/benchkit"
	"github.com/passport-idp/passport/internal/account"
	"github.com/passport-idp/passport/internal/passport"
	"github.com/passport-idp/passport/internal/pgtest"
	"github.com/passport-idp/passport/internal/postgres"
)

type options struct {
	server      string
	cpu         string
	accounts    int
	small       int
	duration    time.Duration
	warmup      time.Duration
	concurrency int
	limit       int
	out         string
	keep        bool
	only        string
	walkMax     time.Duration
}

func main() {
	var o options
	flag.StringVar(&o.server, "server", "bin/passport", "the passport binary to start (\"\" measures the account action only)")
	flag.StringVar(&o.cpu, "cpu", "1", "CPU list the server is pinned to with taskset (\"\" for none)")
	flag.IntVar(&o.accounts, "accounts", 100_000, "accounts to seed, all members of the big organisation")
	flag.IntVar(&o.small, "small-orgs", 9, "further organisations, each with 2% of the accounts as members")
	flag.DurationVar(&o.duration, "duration", 5*time.Second, "measured time per scenario")
	flag.DurationVar(&o.warmup, "warmup", time.Second, "unmeasured warm-up per scenario")
	flag.IntVar(&o.concurrency, "concurrency", 4, "concurrent virtual users, each asking for the same page again and again")
	flag.IntVar(&o.limit, "limit", 50, "rows per page (the list's default)")
	flag.StringVar(&o.out, "out", "bench-results", "folder for the markdown report")
	flag.BoolVar(&o.keep, "keep", false, "keep the seeded database and print its URL (for EXPLAIN ANALYZE by hand)")
	flag.StringVar(&o.only, "only", "", "run only the scenarios whose name contains this")
	flag.DurationVar(&o.walkMax, "walk-max", 2*time.Minute, "stop walking the whole list after this long")
	flag.Parse()
	if err := run(context.Background(), o); err != nil {
		fmt.Fprintln(os.Stderr, "passport-bench-members:", err)
		os.Exit(1)
	}
}

const (
	adminPassword = "bench-admin-password-2026"
	bigOrg        = "bench-big"
)

// argon is the password hashing of the seeded administrators and of the server (Keycloak's
// setting, as in passport-bench): only the two sign-ins pay for it.
var argon = passport.Argon2Params{MemoryKiB: 7 * 1024, Iterations: 5, Parallelism: 1}

// scenario is one page of the member list, asked for by one administrator.
type scenario struct {
	name    string
	service bool // the service administrator across organisations; else the big organisation's admin
	filter  account.MemberFilter
	deep    bool // start at the cursor ~90% into the list
}

var scenarios = []scenario{
	{name: "org admin: first page"},
	{name: "org admin: page at 90%", deep: true},
	{name: "org admin: status=blocked (2%)", filter: account.MemberFilter{Status: passport.StatusBlocked}},
	{name: "org admin: verification=requires_check (10%)", filter: account.MemberFilter{Verification: passport.VerificationRequiresCheck}},
	{name: "org admin: role=controller (10%)", filter: account.MemberFilter{Role: "controller"}},
	{name: "org admin: role=manager, page at 90%", filter: account.MemberFilter{Role: "manager"}, deep: true},
	{name: "org admin: q=ann (~10%)", filter: account.MemberFilter{Query: "ann"}},
	{name: "org admin: q=lamarr (~3%)", filter: account.MemberFilter{Query: "lamarr"}},
	{name: "org admin: q=.4242 (11 rows)", filter: account.MemberFilter{Query: ".4242"}},
	{name: "service admin: first page, all orgs", service: true},
	{name: "service admin: page at 90%, all orgs", service: true, deep: true},
	{name: "service admin: status=blocked, all orgs", service: true, filter: account.MemberFilter{Status: passport.StatusBlocked}},
	{name: "service admin: q=ann, all orgs", service: true, filter: account.MemberFilter{Query: "ann"}},
	{name: "service admin: one small org (2,000 members)", service: true, filter: account.MemberFilter{OrgID: "bench-small-1"}},
	{name: "service admin: one small org, status=blocked", service: true,
		filter: account.MemberFilter{OrgID: "bench-small-1", Status: passport.StatusBlocked}},
}

func run(ctx context.Context, o options) error {
	dsn, cleanup, err := pgtest.NewURL()
	if err != nil {
		return err
	}
	if o.keep {
		defer fmt.Printf("\nthe seeded database is kept: psql '%s'\n", dsn)
	} else {
		defer cleanup()
	}
	db, err := postgres.Open(ctx, dsn, 8)
	if err != nil {
		return err
	}
	defer db.Close()
	fx, err := seed(ctx, db, o)
	if err != nil {
		return err
	}
	fx.dsn = dsn

	var results []result
	svc := &account.Service{DB: db}
	for _, sc := range scenarios {
		if o.only != "" && !strings.Contains(sc.name, o.only) {
			continue
		}
		actor := fx.orgAdmin
		if sc.service {
			actor = fx.serviceAdmin
		}
		f := fx.filter(sc)
		// Each virtual user asks for the page again and again: a steady state, the page's
		// rows and index pages in PostgreSQL's cache, as for an administrator paging back.
		r, err := load(ctx, o, "action", sc.name, func(ctx context.Context) (int, error) {
			rows, _, err := svc.Members(ctx, actor, f)
			return len(rows), err
		})
		if err != nil {
			return err
		}
		results = append(results, r)
	}
	walk, err := fx.walkStore(ctx, svc, o)
	if err != nil {
		return err
	}
	results = append(results, walk)

	if o.server != "" {
		more, err := fx.http(ctx, o)
		if err != nil {
			return err
		}
		results = append(results, more...)
	}
	return report(o, fx, results)
}

// fixtures are what seed made.
type fixtures struct {
	bigID        string
	members      int // rows of the big organisation's list
	rowsAll      int // rows of the list across organisations
	seedTime     time.Duration
	orgAdmin     passport.Actor
	serviceAdmin passport.Actor
	deep         map[string]postgres.MemberCursor // by scenario name
	dsn          string
	limit        int
}

var givenNames = []string{"Anna", "Maria", "Jaan", "Mart", "Kati", "Peeter", "Olga", "Ivan", "Sergei", "Elena",
	"Liis", "Kristjan", "Tiina", "Andres", "Marko", "Hannes", "Johanna", "Eva", "Erik", "Lars",
	"Sofia", "Emma", "Pieter", "Daan", "Sanne", "Nils", "Astrid", "Oskar", "Katarina", "Dmitri"}

var familyNames = []string{"Tamm", "Saar", "Sepp", "Mägi", "Kask", "Kukk", "Rebane", "Ilves", "Pärn", "Koppel",
	"Ivanov", "Smirnov", "Kuznetsov", "Popova", "de Vries", "Jansen", "Bakker", "Visser", "Andersson", "Johansson",
	"Karlsson", "Nilsson", "Eriksson", "Larsson", "Lovelace", "Hopper", "Turing", "Lamarr", "Noether", "Curie"}

// seed fills a fresh database: the big organisation with a role catalogue and every account
// as a member (roles 60% driver, 25% operator, 10% controller, 5% manager; statuses 97%
// active, 2% blocked, 1% pending deletion; verification statuses mixed), small
// organisations with 2% of the accounts each, and two administrators made through the
// account actions: an org_admin of the big organisation and a service_admin. Every
// attribute is drawn with a hash of the account's number, so none correlates with the
// login order the list is sorted by (a modulo would cluster, say, every blocked account
// under three given names and make a filter look slower or faster than it is).
func seed(ctx context.Context, db *postgres.DB, o options) (*fixtures, error) {
	began := time.Now()
	pool := db.Pool()
	fx := &fixtures{deep: map[string]postgres.MemberCursor{}, limit: o.limit}
	if err := pool.QueryRow(ctx, `INSERT INTO organisations (alias, name) VALUES ($1, 'Big Transport') RETURNING id`,
		bigOrg).Scan(&fx.bigID); err != nil {
		return nil, err
	}
	steps := []struct {
		sql  string
		args []any
	}{
		{`INSERT INTO organisations (alias, name) SELECT 'bench-small-' || i, 'Small Company ' || i FROM generate_series(1, $1) i`,
			[]any{o.small}},
		{`INSERT INTO org_roles (org_id, key, names) SELECT $1, k, jsonb_build_object('en', initcap(k)) FROM
			unnest(ARRAY['driver', 'operator', 'controller', 'manager']) k`, []any{fx.bigID}},
		// One statement for every account. Logins are "<given>.<family>.<n>" in ASCII.
		{`INSERT INTO accounts (login, login_folded, email, given_name, family_name, registration_method, status, purge_at,
			verification_status, last_visit_at, created_at, updated_at)
		SELECT l, l, l || '@example.org', g, f, 'admin',
			CASE WHEN abs(hashint4(i + 2000000)) % 100 < 2 THEN 'blocked'
				WHEN abs(hashint4(i + 2000000)) % 100 = 2 THEN 'pending_deletion' ELSE 'active' END,
			CASE WHEN abs(hashint4(i + 2000000)) % 100 = 2 THEN now() + interval '30 days' END,
			(ARRAY['verified', 'verified', 'verified', 'verified', 'verified', 'verified', 'new', 'new', 'requires_check',
				'incorrect_data'])[1 + abs(hashint4(i + 3000000)) % 10],
			now() - (i % 2000) * interval '1 hour', now() - i * interval '1 minute', now()
		FROM (SELECT i, g, f, translate(lower(g || '.' || f), 'äõöü ', 'aoou-') || '.' || i AS l
			FROM (SELECT i, ($2::text[])[1 + abs(hashint4(i)) % 30] AS g, ($3::text[])[1 + abs(hashint4(i + 1000000)) % 30] AS f
				FROM generate_series(1, $1) i) x) y`, []any{o.accounts, givenNames, familyNames}},
		{`INSERT INTO memberships (account_id, org_id, roles, managed, is_primary, created_at)
		SELECT id, $1, ARRAY[CASE WHEN h < 12 THEN 'driver' WHEN h < 17 THEN 'operator'
			WHEN h < 19 THEN 'controller' ELSE 'manager' END], true, true, created_at
		FROM (SELECT id, created_at, abs(hashint4(split_part(login, '.', 3)::int + 4000000)) % 20 AS h FROM accounts) a`, []any{fx.bigID}},
		{`INSERT INTO memberships (account_id, org_id, managed, created_at)
		SELECT a.id, o.id, false, a.created_at FROM accounts a
		JOIN organisations o ON o.alias = 'bench-small-' || (abs(hashint4(split_part(a.login, '.', 3)::int + 5000000)) % 50)`, nil},
		{`ANALYZE`, nil},
	}
	for _, s := range steps {
		if _, err := pool.Exec(ctx, s.sql, s.args...); err != nil {
			return nil, fmt.Errorf("seed: %w\n%s", err, s.sql)
		}
	}
	fx.seedTime = time.Since(began)
	if err := pool.QueryRow(ctx, `SELECT count(*) FILTER (WHERE org_id = $1), count(*) FROM memberships`, fx.bigID).Scan(&fx.members, &fx.rowsAll); err != nil {
		return nil, err
	}

	svc := &account.Service{DB: db, Argon2: argon}
	sys := account.System()
	for _, a := range []struct{ login, role, org string }{
		{"bench-org-admin", passport.RoleOrgAdmin, bigOrg},
		{"bench-service-admin", passport.RoleServiceAdmin, ""},
	} {
		acc, err := svc.CreateAccount(ctx, sys, account.NewAccount{Login: a.login, Email: a.login + "@example.org",
			Password: adminPassword, GivenName: "Bench", FamilyName: "Admin"})
		if err != nil {
			return nil, err
		}
		if err := svc.Grant(ctx, sys, acc.ID, a.role, a.org); err != nil {
			return nil, err
		}
		actor, err := svc.Admin(ctx, acc.ID, "127.0.0.1", "passport-bench-members", "")
		if err != nil {
			return nil, err
		}
		if a.role == passport.RoleOrgAdmin {
			fx.orgAdmin = actor
		} else {
			fx.serviceAdmin = actor
		}
	}

	// The cursors ~90% into each deep scenario's list, as the page before would hand them out.
	for _, sc := range scenarios {
		if !sc.deep {
			continue
		}
		q := `SELECT a.login_folded, m.org_id::text FROM memberships m JOIN accounts a ON a.id = m.account_id
			WHERE ($1 = '' OR m.org_id = $1::uuid) AND ($2 = '' OR $2 = ANY(m.roles))
			ORDER BY a.login_folded, m.org_id`
		org := fx.bigID
		if sc.service {
			org = ""
		}
		var n int
		if err := pool.QueryRow(ctx, `SELECT count(*) FROM (`+q+`) x`, org, sc.filter.Role).Scan(&n); err != nil {
			return nil, err
		}
		var c postgres.MemberCursor
		if err := pool.QueryRow(ctx, q+` OFFSET $3 LIMIT 1`, org, sc.filter.Role, n*9/10).Scan(&c.Login, &c.OrgID); err != nil {
			return nil, err
		}
		fx.deep[sc.name] = c
	}
	fmt.Printf("seeded %d accounts, %d memberships (%d in %s) in %s\n", o.accounts, fx.rowsAll, fx.members, bigOrg,
		fx.seedTime.Round(time.Millisecond))
	return fx, nil
}

// filter is the scenario's filter as the account action takes it.
func (fx *fixtures) filter(sc scenario) account.MemberFilter {
	f := sc.filter
	f.Limit = fx.limit
	if !sc.service {
		f.OrgID = bigOrg
	}
	if sc.deep {
		f.After = fx.deep[sc.name]
	}
	return f
}

// walkStore pages through the whole big organisation with the account action, following
// the cursor, and reports the latency of every page: keyset pagination should make the
// last page cost what the first does.
func (fx *fixtures) walkStore(ctx context.Context, svc *account.Service, o options) (result, error) {
	limit := o.limit
	r := result{layer: "action", name: fmt.Sprintf("org admin: walk all %d pages, one after another", (fx.members+limit-1)/limit)}
	f := account.MemberFilter{OrgID: bigOrg, Limit: limit}
	began := time.Now()
	rows := 0
	for {
		if time.Since(began) > o.walkMax {
			r.name = fmt.Sprintf("org admin: walk, stopped after %s at page %d of %d", o.walkMax, len(r.lat), (fx.members+limit-1)/limit)
			r.finish(time.Since(began), limit)
			printResult(r)
			return r, nil
		}
		t := time.Now()
		page, next, err := svc.Members(ctx, fx.orgAdmin, f)
		r.lat = append(r.lat, time.Since(t))
		if err != nil {
			return r, err
		}
		rows += len(page)
		if next == (postgres.MemberCursor{}) {
			break
		}
		f.After = next
	}
	if rows != fx.members {
		return r, fmt.Errorf("the walk saw %d rows of %d", rows, fx.members)
	}
	r.finish(time.Since(began), limit)
	printResult(r)
	return r, nil
}

// result is one scenario's figures.
type result struct {
	layer    string // "action" (in process) or "HTTP"
	name     string
	requests int64
	errors   int64
	rows     int // rows on the page
	elapsed  time.Duration
	lat      []time.Duration
}

func (r *result) finish(elapsed time.Duration, rows int) {
	r.elapsed, r.rows = elapsed, rows
	if r.requests == 0 {
		r.requests = int64(len(r.lat))
	}
	sort.Slice(r.lat, func(i, j int) bool { return r.lat[i] < r.lat[j] })
}

func (r result) pct(p float64) time.Duration {
	if len(r.lat) == 0 {
		return 0
	}
	return r.lat[min(len(r.lat)-1, int(float64(len(r.lat))*p))]
}

func (r result) rps() float64 { return float64(r.requests) / r.elapsed.Seconds() }

func printResult(r result) {
	fmt.Printf("%-6s %-52s p50 %8s  p95 %8s  p99 %8s  %6.0f pages/s  rows %3d  errors %d\n", r.layer, r.name,
		ms(r.pct(.5)), ms(r.pct(.95)), ms(r.pct(.99)), r.rps(), r.rows, r.errors)
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d.Microseconds())/1000) }

// load runs one scenario: o.concurrency virtual users repeat step for the warm-up, then for
// the measured period, recording each step's latency. step returns the rows it got.
func load(ctx context.Context, o options, layer, name string, step func(context.Context) (int, error)) (result, error) {
	rows, err := step(ctx) // one call first: a mistake stops here, not in a flood of errors
	if err != nil {
		return result{}, fmt.Errorf("%s %s: %w", layer, name, err)
	}
	var measuring atomic.Bool
	var requests, errs atomic.Int64
	var firstErr atomic.Value
	lats := make([][]time.Duration, o.concurrency)
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for i := range lats {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				t := time.Now()
				_, err := step(ctx)
				d := time.Since(t)
				if !measuring.Load() || ctx.Err() != nil {
					continue
				}
				requests.Add(1)
				lats[i] = append(lats[i], d)
				if err != nil {
					errs.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
				}
			}
		}()
	}
	time.Sleep(o.warmup)
	measuring.Store(true)
	began := time.Now()
	time.Sleep(o.duration)
	measuring.Store(false)
	elapsed := time.Since(began)
	cancel()
	wg.Wait()
	r := result{layer: layer, name: name, requests: requests.Load(), errors: errs.Load()}
	for _, l := range lats {
		r.lat = append(r.lat, l...)
	}
	r.finish(elapsed, rows)
	if e := firstErr.Load(); e != nil {
		fmt.Printf("  first error in %s: %s\n", name, e)
	}
	printResult(r)
	return r, nil
}

// http measures the same scenarios through the admin API of a `passport serve` pinned to
// one CPU, signed in as each administrator with the session cookie (the console's door),
// two factors on as the default configuration requires.
func (fx *fixtures) http(ctx context.Context, o options) ([]result, error) {
	srv, err := start(ctx, o, fx.dsn)
	if err != nil {
		return nil, err
	}
	defer srv.Stop()
	orgAdmin, err := adminClient(srv.URL, "bench-org-admin")
	if err != nil {
		return nil, err
	}
	serviceAdmin, err := adminClient(srv.URL, "bench-service-admin")
	if err != nil {
		return nil, err
	}
	// The route may not answer yet (a placeholder answers 404 to everyone).
	if code, _, err := get(ctx, orgAdmin, srv.URL+"/api/v1/admin/orgs/"+bigOrg+"/members"); err != nil {
		return nil, err
	} else if code != http.StatusOK {
		fmt.Printf("HTTP: GET /api/v1/admin/orgs/%s/members answers %d to its administrator: the HTTP layer is not measured\n", bigOrg, code)
		return nil, nil
	}

	// Walk every page of the big organisation once through the API, following next_cursor:
	// the latency of each page, and the cursors ~90% in for the deep scenarios.
	walk, cursors, err := fx.walkHTTP(ctx, orgAdmin, srv.URL, o.walkMax)
	if err != nil {
		return nil, err
	}
	var results []result
	for _, sc := range scenarios {
		if o.only != "" && !strings.Contains(sc.name, o.only) {
			continue
		}
		c, path := orgAdmin, "/api/v1/admin/orgs/"+bigOrg+"/members"
		if sc.service {
			c, path = serviceAdmin, "/api/v1/admin/members"
		}
		q := url.Values{"limit": {fmt.Sprint(fx.limit)}}
		f := sc.filter
		for k, v := range map[string]string{"status": f.Status, "verification": f.Verification, "role": f.Role, "q": f.Query} {
			if v != "" {
				q.Set(k, v)
			}
		}
		if f.OrgID != "" {
			path = "/api/v1/admin/orgs/" + f.OrgID + "/members"
		}
		name := sc.name
		if sc.deep {
			cur, note, err := deepCursor(ctx, c, srv.URL+path, q, cursors, sc, o.walkMax)
			if err != nil {
				return nil, err
			}
			q.Set("cursor", cur)
			name += note
		}
		u := srv.URL + path + "?" + q.Encode()
		r, err := load(ctx, o, "HTTP", name, func(ctx context.Context) (int, error) {
			code, body, err := get(ctx, c, u)
			if err != nil {
				return 0, err
			}
			if code != http.StatusOK {
				return 0, fmt.Errorf("%s: %d %.200s", u, code, body)
			}
			rows, _, err := page(body)
			return rows, err
		})
		if err != nil {
			return nil, err
		}
		results = append(results, r)
	}
	return append(results, walk), nil
}

// page reads a member list answer: its rows (the one array in it) and next_cursor.
func page(body []byte) (int, string, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(body, &m); err != nil {
		return 0, "", err
	}
	var next string
	if raw, ok := m["next_cursor"]; ok {
		_ = json.Unmarshal(raw, &next)
	}
	for _, raw := range m {
		var rows []json.RawMessage
		if json.Unmarshal(raw, &rows) == nil {
			return len(rows), next, nil
		}
	}
	return 0, "", fmt.Errorf("no list in %.200s", body)
}

func (fx *fixtures) walkHTTP(ctx context.Context, c *http.Client, base string, walkMax time.Duration) (result, []string, error) {
	pages := (fx.members + fx.limit - 1) / fx.limit
	r := result{layer: "HTTP", name: fmt.Sprintf("org admin: walk all %d pages, one after another", pages)}
	var cursors []string
	began := time.Now()
	rows, cursor := 0, ""
	for {
		if time.Since(began) > walkMax {
			r.name = fmt.Sprintf("org admin: walk, stopped after %s at page %d of %d", walkMax, len(r.lat), pages)
			r.finish(time.Since(began), fx.limit)
			printResult(r)
			return r, nil, nil // not 90% of the list: the deep scenarios page to theirs
		}
		q := url.Values{"limit": {fmt.Sprint(fx.limit)}}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		t := time.Now()
		code, body, err := get(ctx, c, base+"/api/v1/admin/orgs/"+bigOrg+"/members?"+q.Encode())
		r.lat = append(r.lat, time.Since(t))
		if err != nil {
			return r, nil, err
		}
		if code != http.StatusOK {
			return r, nil, fmt.Errorf("walk: %d %.200s", code, body)
		}
		n, next, err := page(body)
		if err != nil {
			return r, nil, err
		}
		rows += n
		if next == "" {
			break
		}
		cursors = append(cursors, next)
		cursor = next
	}
	if rows != fx.members {
		return r, nil, fmt.Errorf("the HTTP walk saw %d rows of %d", rows, fx.members)
	}
	r.finish(time.Since(began), fx.limit)
	printResult(r)
	return r, cursors, nil
}

// deepCursor returns the API's cursor ~90% into a scenario's list: from the unfiltered walk
// for the big organisation, else by paging through the list once, 200 rows a page. When
// that takes longer than walkMax (deep pages are slow), it returns the deepest cursor
// reached and says so in note.
func deepCursor(ctx context.Context, c *http.Client, endpoint string, q url.Values, walked []string, sc scenario,
	walkMax time.Duration) (cursor, note string, err error) {
	if !sc.service && sc.filter == (account.MemberFilter{}) && len(walked) > 0 {
		return walked[len(walked)*9/10], "", nil
	}
	var cursors []string
	q2 := url.Values{}
	for k, v := range q {
		q2[k] = v
	}
	q2.Set("limit", "200")
	for began := time.Now(); ; {
		if time.Since(began) > walkMax && len(cursors) > 0 {
			return cursors[len(cursors)-1], fmt.Sprintf(" (cursor only %d rows in: paging there took over %s)",
				200*len(cursors), walkMax), nil
		}
		code, body, err := get(ctx, c, endpoint+"?"+q2.Encode())
		if err != nil {
			return "", "", err
		}
		if code != http.StatusOK {
			return "", "", fmt.Errorf("%s: %d %.200s", endpoint, code, body)
		}
		_, next, err := page(body)
		if err != nil {
			return "", "", err
		}
		if next == "" {
			break
		}
		cursors = append(cursors, next)
		q2.Set("cursor", next)
	}
	if len(cursors) == 0 {
		return "", "", errors.New(sc.name + ": a single page, nothing deep")
	}
	return cursors[len(cursors)*9/10], "", nil
}

func get(ctx context.Context, c *http.Client, u string) (int, []byte, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	req.Header.Set("Accept", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, body, err
}

var (
	csrfField   = regexp.MustCompile(`name="csrf" value="([^"]+)"`)
	totpOnPage  = regexp.MustCompile(`id="totp-secret" class="mono-wrap">([A-Z2-7]+)<`)
	errNoSecret = errors.New("turning two factors on: no secret on the page")
)

// adminClient signs an administrator in through the sign-in page and turns two factors on
// in the cabinet (the admin API requires them by default), keeping the session cookie.
func adminClient(base, login string) (*http.Client, error) {
	jar, _ := cookiejar.New(nil)
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 64
	c := &http.Client{Jar: jar, Transport: t, Timeout: 30 * time.Second}
	// form reads the page's CSRF token into fields.
	form := func(path string, fields url.Values) error {
		_, body, err := get(context.Background(), c, base+path)
		if err != nil {
			return err
		}
		m := csrfField.FindStringSubmatch(string(body))
		if m == nil {
			return fmt.Errorf("%s: no form", path)
		}
		fields.Set("csrf", html.UnescapeString(m[1]))
		return nil
	}
	post := func(path string, fields url.Values) (string, error) {
		resp, err := c.PostForm(base+path, fields)
		if err != nil {
			return "", err
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		return string(body), err
	}
	fields := url.Values{"login": {login}, "password": {adminPassword}}
	if err := form("/signin", fields); err != nil {
		return nil, err
	}
	if _, err := post("/signin", fields); err != nil {
		return nil, err
	}
	fields = url.Values{}
	if err := form("/profile/2fa", fields); err != nil {
		return nil, fmt.Errorf("%s did not sign in: %w", login, err)
	}
	page, err := post("/profile/2fa/start", fields)
	if err != nil {
		return nil, err
	}
	m := totpOnPage.FindStringSubmatch(page)
	if m == nil {
		return nil, errNoSecret
	}
	code, err := totp.GenerateCode(m[1], time.Now())
	if err != nil {
		return nil, err
	}
	fields.Set("code", code)
	fields.Set("password", adminPassword)
	if _, err := post("/profile/2fa", fields); err != nil {
		return nil, err
	}
	return c, nil
}

func start(ctx context.Context, o options, dsn string) (*benchkit.Server, error) {
	return benchkit.Start(ctx, o.server, o.cpu, dsn, argon)
}

// report writes the markdown table to o.out/members-<time>.md and members-latest.md.
func report(o options, fx *fixtures, results []result) error {
	var b strings.Builder
	host, _ := os.Hostname()
	fmt.Fprintf(&b, "# Member list at %d accounts\n\n%s, host %s, %s, %s/%s.\n\n", fx.members,
		time.Now().UTC().Format("2006-01-02 15:04 MST"), host, benchkit.CPUModel(), runtime.GOOS, runtime.GOARCH)
	fmt.Fprintf(&b, "Seeded %d memberships (%d in %s, the rest in %d small organisations) in %s. "+
		"Pages of %d rows; each scenario %s warm-up, %s measured, %d virtual users asking for the same page. "+
		"\"action\" is internal/account's Members in process (no HTTP); \"HTTP\" is the admin API on `passport serve` pinned to CPU %q, "+
		"signed in with the session cookie, two factors on.\n\n",
		fx.rowsAll, fx.members, bigOrg, o.small, fx.seedTime.Round(time.Millisecond), o.limit, o.warmup, o.duration, o.concurrency, o.cpu)
	b.WriteString("| layer | scenario | p50 | p95 | p99 | pages/s | rows | errors |\n|---|---|---:|---:|---:|---:|---:|---:|\n")
	for _, r := range results {
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %.0f | %d | %d |\n", r.layer, r.name, ms(r.pct(.5)), ms(r.pct(.95)),
			ms(r.pct(.99)), r.rps(), r.rows, r.errors)
	}
	if err := os.MkdirAll(o.out, 0o755); err != nil {
		return err
	}
	path := filepath.Join(o.out, "members-"+time.Now().UTC().Format("20060102-150405")+".md")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(o.out, "members-latest.md"), []byte(b.String()), 0o644); err != nil {
		return err
	}
	fmt.Printf("\n%s\nreport: %s\n", b.String(), path)
	return nil
}
