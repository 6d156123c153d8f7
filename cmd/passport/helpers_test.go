package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/passport-idp/passport/internal/pgtest"
	"github.com/passport-idp/passport/internal/postgres"
)

// testDB is the package's throwaway database; every server in these tests shares it.
var testDB string

func TestMain(m *testing.M) {
	dsn, cleanup, err := pgtest.NewURL()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	testDB = dsn
	code := m.Run()
	cleanup()
	os.Exit(code)
}

// testSecret is the secret_key of every test server (base64 of 32 bytes).
const testSecret = "dGVzdC1zZWNyZXQta2V5LWZvci1wYXNzcG9ydC10ZXN0cyE="

// env is a getenv backed by a map, with the test database and secret preset.
func env(kv ...string) func(string) string {
	m := map[string]string{
		"PASSPORT_DATABASE_URL":               testDB,
		"PASSPORT_SECRET_KEY":                 testSecret,
		"PASSPORT_LOG_LEVEL":                  "warn",
		"PASSPORT_PASSWORD_ARGON2_MEMORY_KIB": "1024", // keeps tests fast; production uses 19 MiB
		"PASSPORT_PASSWORD_ARGON2_ITERATIONS": "1",
		// Every test signs in from 127.0.0.1: the per-IP limit is tested on its own.
		"PASSPORT_RATE_LIMIT_SIGNIN_PER_IP": "100000", "PASSPORT_RATE_LIMIT_SIGNIN_ATTEMPTS_PER_IP": "100000",
	}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) string { return m[k] }
}

// cli runs the passport command in-process and returns its exit code and output.
func cli(t *testing.T, getenv func(string) string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(context.Background(), args, getenv, &out, &errb)
	return code, out.String(), errb.String()
}

// mustCLI runs the command and fails the test unless it succeeds.
func mustCLI(t *testing.T, args ...string) string {
	t.Helper()
	code, out, errs := cli(t, env(), args...)
	if code != 0 {
		t.Fatalf("passport %s: exit %d: %s", strings.Join(args, " "), code, errs)
	}
	return out
}

func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// server is one `passport serve` running in-process.
type server struct {
	URL    string // where it listens
	Issuer string
}

// startServer runs `passport serve` on a free port, waits until /healthz answers and stops
// it when the test ends. issuer "" means its own URL.
func startServer(t *testing.T, issuer string, kv ...string) *server {
	t.Helper()
	addr := freePort(t)
	url := "http://" + addr
	if issuer == "" {
		issuer = url
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	args := append([]string{"PASSPORT_LISTEN", addr, "PASSPORT_ISSUER", issuer}, kv...)
	go func() {
		var logs bytes.Buffer
		code := run(ctx, []string{"serve"}, env(args...), io.Discard, &logs)
		if code != 0 {
			t.Logf("serve exited %d: %s", code, logs.String())
		}
		done <- code
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case code := <-done:
			if code != 0 {
				t.Errorf("serve: exit code %d after shutdown", code)
			}
		case <-time.After(20 * time.Second):
			t.Error("serve did not shut down")
		}
	})
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(url + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return &server{URL: url, Issuer: issuer}
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

// openDB opens the test database for checks and for moving rows in time.
func openDB(t *testing.T) *postgres.DB {
	t.Helper()
	db, err := postgres.Open(context.Background(), testDB, 2)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	return db
}

// browser is a cookie-keeping HTTP client that stops at any redirect leaving Passport, like
// a browser arriving at the application.
type browser struct {
	*http.Client
	t        *testing.T
	base     string
	password string // the password of the person signed in with signInDirectly
}

func newBrowser(t *testing.T, s *server) *browser {
	jar, _ := cookiejar.New(nil)
	b := &browser{t: t, base: s.URL}
	b.Client = &http.Client{Jar: jar, Timeout: 30 * time.Second, CheckRedirect: func(r *http.Request, via []*http.Request) error {
		if !strings.HasPrefix(r.URL.String(), s.URL) {
			return http.ErrUseLastResponse
		}
		return nil
	}}
	return b
}

// get fetches a URL and returns the final response with its body read.
func (b *browser) get(u string) (*http.Response, string) {
	b.t.Helper()
	resp, err := b.Get(u)
	if err != nil {
		b.t.Fatal(err)
	}
	return resp, readBody(b.t, resp)
}

// post submits a form to a Passport path.
func (b *browser) post(path string, form url.Values) (*http.Response, string) {
	b.t.Helper()
	resp, err := b.PostForm(b.base+path, form)
	if err != nil {
		b.t.Fatal(err)
	}
	return resp, readBody(b.t, resp)
}

func readBody(t *testing.T, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(body)
}

var (
	hiddenField  = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)
	checkedField = regexp.MustCompile(`<input type="checkbox" name="([^"]+)" value="([^"]*)" checked>`)
)

// hidden returns the hidden fields of the page's forms, and its ticked checkboxes, as a
// browser would send them.
func hidden(page string) url.Values {
	v := url.Values{}
	for _, re := range []*regexp.Regexp{hiddenField, checkedField} {
		for _, m := range re.FindAllStringSubmatch(page, -1) {
			if v.Get(m[1]) == "" {
				v.Set(m[1], html.UnescapeString(m[2]))
			}
		}
	}
	return v
}

// redirectParams returns the query of a response's Location, which must start with prefix.
func redirectParams(t *testing.T, resp *http.Response, prefix string) url.Values {
	t.Helper()
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusFound && resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, prefix) {
		t.Fatalf("got %d to %q; want a redirect to %s", resp.StatusCode, loc, prefix)
	}
	u, err := url.Parse(loc)
	if err != nil {
		t.Fatal(err)
	}
	return u.Query()
}

// postJSON posts a form with optional basic auth and decodes the JSON answer.
func postJSON(t *testing.T, endpoint string, form url.Values, user, pass string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if user != "" {
		req.SetBasicAuth(url.QueryEscape(user), url.QueryEscape(pass))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body := readBody(t, resp)
	var out map[string]any
	if body != "" && strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		if err := json.Unmarshal([]byte(body), &out); err != nil {
			t.Fatalf("decoding %q: %v", body, err)
		}
	} else {
		out = map[string]any{"_body": body}
	}
	return resp.StatusCode, out
}

func timeAfter(ms int) <-chan time.Time { return time.After(time.Duration(ms) * time.Millisecond) }
