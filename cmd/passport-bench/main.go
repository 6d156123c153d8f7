// Command passport-bench loads a real `passport serve` process with every hot path of the
// provider and prints a table per scenario: requests per second, latency percentiles,
// errors, and the server's resident memory. `make bench` runs it with the server pinned to
// one CPU.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/passport-idp/passport/cmd/internal/benchkit"
	"github.com/passport-idp/passport/internal/passport"
	"github.com/passport-idp/passport/internal/pgtest"
	"github.com/passport-idp/passport/internal/postgres"
)

type options struct {
	server      string
	cpu         string
	duration    time.Duration
	warmup      time.Duration
	concurrency int
	signinConc  int
	out         string
	pprof       string
	only        string
}

func main() {
	var o options
	flag.StringVar(&o.server, "server", "bin/passport", "the passport binary to start")
	flag.StringVar(&o.cpu, "cpu", "1", "CPU list the server is pinned to with taskset (\"\" for none)")
	flag.DurationVar(&o.duration, "duration", 10*time.Second, "measured time per scenario")
	flag.DurationVar(&o.warmup, "warmup", 2*time.Second, "unmeasured warm-up per scenario")
	flag.IntVar(&o.concurrency, "concurrency", 32, "concurrent virtual users (keep-alive connections)")
	flag.IntVar(&o.signinConc, "signin-concurrency", 8, "concurrent virtual users in the sign-in scenarios")
	flag.StringVar(&o.out, "out", "bench-results", "folder for the markdown report")
	flag.StringVar(&o.pprof, "pprof", "", "serve the server's pprof on this address (dev.pprof_listen)")
	flag.StringVar(&o.only, "only", "", "run only the scenarios whose name contains this (e.g. \"photo\")")
	flag.Parse()
	if err := run(context.Background(), o); err != nil {
		fmt.Fprintln(os.Stderr, "passport-bench:", err)
		os.Exit(1)
	}
}

// result is one scenario's figures.
type result struct {
	name     string
	requests int64
	errors   int64
	elapsed  time.Duration
	lat      []time.Duration
	peakRSS  int64
	cpu      time.Duration // the server's CPU time during the measured period
	note     string
}

// perCPU is requests per second of server CPU time: the "per CPU" figure, which does not
// depend on whether the load generator (sharing the other CPUs with PostgreSQL) could keep
// the server's CPU busy.
func (r result) perCPU() float64 { return float64(r.requests) / r.cpu.Seconds() }

// busy is the share of one CPU the server used.
func (r result) busy() float64 { return r.cpu.Seconds() / r.elapsed.Seconds() }

func (r result) rps() float64 { return float64(r.requests) / r.elapsed.Seconds() }

func (r result) pct(p float64) time.Duration {
	if len(r.lat) == 0 {
		return 0
	}
	return r.lat[min(len(r.lat)-1, int(float64(len(r.lat))*p))]
}

func run(ctx context.Context, o options) error {
	dsn, cleanup, err := pgtest.NewURL()
	if err != nil {
		return err
	}
	defer cleanup()
	db, err := postgres.Open(ctx, dsn, 8)
	if err != nil {
		return err
	}
	defer db.Close()
	fx, err := seed(ctx, db, o.concurrency+o.signinConc)
	if err != nil {
		return err
	}

	keycloakArgon := passport.Argon2Params{MemoryKiB: 7 * 1024, Iterations: 5, Parallelism: 1}
	srv, err := start(ctx, o, dsn, keycloakArgon)
	if err != nil {
		return err
	}
	fmt.Printf("server pinned to CPU %q; start-up to first ready /readyz: %s; idle RSS %.1f MB\n",
		o.cpu, srv.Startup.Round(time.Millisecond), mb(srv.rss()))
	idle := srv.rss()

	var results []result
	runScenario := func(name string, conc int, setup func(vu int) (step, error), note string) error {
		r, err := load(ctx, o, srv, name, conc, setup)
		if err != nil {
			srv.Stop()
			return fmt.Errorf("%s: %w", name, err)
		}
		r.note = note
		results = append(results, r)
		printResult(r)
		return nil
	}
	c := newClient(o.concurrency + o.signinConc)
	scenarios := []struct {
		name  string
		conc  int
		setup func(vu int) (step, error)
		note  string
	}{
		{"discovery + JWKS", o.concurrency, fx.discovery(c, srv.URL), "alternating GETs"},
		{"client_credentials", o.concurrency, fx.clientCredentials(c, srv.URL), "opaque access token"},
		{"userinfo", o.concurrency, fx.userinfo(c, srv.URL), "release rule with publicity and consent"},
		{"introspection", o.concurrency, fx.introspection(c, srv.URL), "client_secret_basic, claims included"},
		{"refresh_token (rotation)", o.concurrency, fx.refresh(c, srv.URL), "RS256 ID token; each VU follows its own chain"},
		{"sign-in (argon2id 7 MiB, t=5)", o.signinConc, fx.signin(srv.URL), "authorize, form, code, token, ID token check"},
	}
	for _, s := range scenarios {
		if o.only != "" && !strings.Contains(s.name, o.only) {
			continue
		}
		if err := runScenario(s.name, s.conc, s.setup, s.note); err != nil {
			return err
		}
	}
	srv.Stop()

	// The default argon2id setting (OWASP: 19 MiB, t=2), for the sign-in only.
	if o.only == "" || strings.Contains("sign-in", o.only) {
		srv2, err := start(ctx, o, dsn, passport.DefaultArgon2)
		if err != nil {
			return err
		}
		if err := func() error {
			defer srv2.Stop()
			r, err := load(ctx, o, srv2, "sign-in (argon2id 19 MiB, t=2)", o.signinConc, fx.signin(srv2.URL))
			if err != nil {
				return err
			}
			r.note = "Passport's default"
			results = append(results, r)
			printResult(r)
			return nil
		}(); err != nil {
			return err
		}
	}

	// Photo uploads, on a server of their own: their memory is the figure that matters.
	if o.only == "" || strings.Contains(photoScenario, o.only) {
		r, err := fx.photoUploadsRun(ctx, o, dsn, keycloakArgon)
		if err != nil {
			return fmt.Errorf("%s: %w", photoScenario, err)
		}
		results = append(results, r)
		printResult(r)
	}
	return report(o, srv.Startup, idle, results)
}

func mb(b int64) float64 { return float64(b) / (1 << 20) }

func printResult(r result) {
	fmt.Printf("%-32s %7.0f req/s  %7.0f per server CPU-s (busy %3.0f%%)  p50 %8s  p95 %8s  p99 %8s  errors %d  peak RSS %.1f MB\n",
		r.name, r.rps(), r.perCPU(), 100*r.busy(), ms(r.pct(.5)), ms(r.pct(.95)), ms(r.pct(.99)), r.errors, mb(r.peakRSS))
}

// server is the passport process under test, with its resident memory sampled.
type server struct {
	*benchkit.Server
	mu   sync.Mutex
	peak int64
}

func start(ctx context.Context, o options, dsn string, argon passport.Argon2Params) (*server, error) {
	k, err := benchkit.Start(ctx, o.server, o.cpu, dsn, argon,
		"PASSPORT_RATE_LIMIT_SIGNIN_PER_IP=1000000000",
		"PASSPORT_RATE_LIMIT_SIGNIN_PER_ACCOUNT=1000000000",
		"PASSPORT_RATE_LIMIT_SIGNIN_ATTEMPTS_PER_IP=1000000000",
		"PASSPORT_DEV_PPROF_LISTEN="+o.pprof)
	if err != nil {
		return nil, err
	}
	s := &server{Server: k}
	go s.sampleRSS()
	return s, nil
}

// cpuTime reads the server's user + system CPU time from /proc/<pid>/stat.
func (s *server) cpuTime() time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", s.Cmd.Process.Pid))
	if err != nil {
		return 0
	}
	// The command name may hold spaces: the fields we want follow its closing parenthesis.
	fields := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	var utime, stime int64
	fmt.Sscan(fields[11], &utime)
	fmt.Sscan(fields[12], &stime)
	return time.Duration(utime+stime) * time.Second / 100 // USER_HZ is 100 on Linux
}

// rss reads the server's resident set size from /proc.
func (s *server) rss() int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.Cmd.Process.Pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			var kb int64
			fmt.Sscan(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), &kb)
			return kb << 10
		}
	}
	return 0
}

func (s *server) sampleRSS() {
	for s.Cmd.ProcessState == nil {
		r := s.rss()
		s.mu.Lock()
		s.peak = max(s.peak, r)
		s.mu.Unlock()
		time.Sleep(50 * time.Millisecond)
	}
}

func (s *server) takePeak() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.peak
	s.peak = s.rss()
	return p
}

// step is one request (or one flow) of a virtual user.
type step func(ctx context.Context) error

// load runs a scenario: a warm-up, then the measured period, with conc virtual users.
func load(ctx context.Context, o options, srv *server, name string, conc int, setup func(vu int) (step, error)) (result, error) {
	steps := make([]step, conc)
	for i := range steps {
		s, err := setup(i)
		if err != nil {
			return result{}, err
		}
		steps[i] = s
	}
	var measuring atomic.Bool
	var requests, errs atomic.Int64
	lats := make([][]time.Duration, conc)
	var firstErr atomic.Value
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for i := range steps {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				t := time.Now()
				err := steps[i](ctx)
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
	srv.takePeak()
	measuring.Store(true)
	began, cpu0 := time.Now(), srv.cpuTime()
	time.Sleep(o.duration)
	measuring.Store(false)
	elapsed, cpu := time.Since(began), srv.cpuTime()-cpu0
	cancel()
	wg.Wait()
	r := result{name: name, requests: requests.Load(), errors: errs.Load(), elapsed: elapsed, peakRSS: srv.takePeak(), cpu: cpu}
	for _, l := range lats {
		r.lat = append(r.lat, l...)
	}
	sort.Slice(r.lat, func(i, j int) bool { return r.lat[i] < r.lat[j] })
	if e := firstErr.Load(); e != nil {
		fmt.Printf("  first error in %s: %s\n", name, e)
	}
	return r, nil
}

func newClient(conns int) *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns, t.MaxIdleConnsPerHost, t.MaxConnsPerHost = conns*2, conns*2, conns*2
	return &http.Client{Transport: t, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func drain(resp *http.Response) {
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
}

// report writes the markdown table.
func report(o options, startup time.Duration, idle int64, results []result) error {
	var b strings.Builder
	host, _ := os.Hostname()
	fmt.Fprintf(&b, "# Passport load benchmark\n\n%s, host %s, %s, %s/%s; server pinned to CPU %q, "+
		"load generator and PostgreSQL on the others.\n\n", time.Now().UTC().Format("2006-01-02 15:04 MST"), host,
		benchkit.CPUModel(), runtime.GOOS, runtime.GOARCH, o.cpu)
	fmt.Fprintf(&b, "Each scenario: %s warm-up, %s measured, keep-alive connections; %d virtual users (%d for sign-ins).\n\n",
		o.warmup, o.duration, o.concurrency, o.signinConc)
	fmt.Fprintf(&b, "Start-up to first ready /readyz: **%s**. Resident memory idle: **%.1f MB**.\n\n", startup.Round(time.Millisecond), mb(idle))
	b.WriteString("\"Per server CPU-second\" is requests divided by the CPU time the server process used: the per-CPU figure, " +
		"independent of whether the load generator, sharing the other CPU with PostgreSQL, kept the server busy.\n\n")
	b.WriteString("| scenario | requests/s | per server CPU-second | server CPU busy | p50 | p95 | p99 | errors | peak RSS | notes |\n" +
		"|---|---:|---:|---:|---:|---:|---:|---:|---:|---|\n")
	for _, r := range results {
		fmt.Fprintf(&b, "| %s | %.0f | %.0f | %.0f%% | %s | %s | %s | %d | %.1f MB | %s |\n", r.name, r.rps(), r.perCPU(), 100*r.busy(),
			ms(r.pct(.5)), ms(r.pct(.95)), ms(r.pct(.99)), r.errors, mb(r.peakRSS), r.note)
	}
	if err := os.MkdirAll(o.out, 0o755); err != nil {
		return err
	}
	path := filepath.Join(o.out, time.Now().UTC().Format("20060102-150405")+".md")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(o.out, "latest.md"), []byte(b.String()), 0o644); err != nil {
		return err
	}
	fmt.Printf("\n%s\nreport: %s\n", b.String(), path)
	return nil
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d.Microseconds())/1000) }
