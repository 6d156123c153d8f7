package web

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/passport-idp/passport/internal/passport"
)

// TestOpenAPIIsValidAndMatchesTheRoutes: docs/openapi.yaml is a valid OpenAPI document,
// and it documents exactly the account API's routes, no more and no fewer.
func TestOpenAPIIsValidAndMatchesTheRoutes(t *testing.T) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromFile("../../docs/openapi.yaml")
	if err != nil {
		t.Fatalf("docs/openapi.yaml does not load: %v", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("docs/openapi.yaml is not valid OpenAPI: %v", err)
	}
	if len(doc.Servers) != 1 || doc.Servers[0].URL != "/api/v1" {
		t.Fatalf("servers: want the one /api/v1, got %v", doc.Servers)
	}
	documented := map[string]bool{}
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			documented[method+" "+path] = true
		}
	}

	s, err := New(Config{Argon2: passport.Argon2Params{MemoryKiB: 64, Iterations: 1, Parallelism: 1}},
		nil, noProvider{}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	param := regexp.MustCompile(`:([a-z_]+)`)
	served := map[string]bool{}
	for _, r := range s.echo.Routes() {
		path, ok := strings.CutPrefix(r.Path, "/api/v1")
		if !ok || strings.HasSuffix(r.Path, "/*") || r.Method == echo404 {
			continue
		}
		served[r.Method+" "+param.ReplaceAllString(path, "{$1}")] = true
	}
	if len(served) == 0 {
		t.Fatal("no /api/v1 route found")
	}
	for _, k := range sortedKeys(served) {
		if !documented[k] {
			t.Errorf("%s is served but not in docs/openapi.yaml", k)
		}
	}
	for _, k := range sortedKeys(documented) {
		if !served[k] {
			t.Errorf("%s is in docs/openapi.yaml but not served", k)
		}
	}
}

// noProvider stands in for the OpenID Provider: listing routes calls none of it.
type noProvider struct{ http.Handler }

func (noProvider) CallbackURL(string) string { return "" }
func (noProvider) Fail(http.ResponseWriter, *http.Request, *passport.AuthRequest, string, string) {
}
func (noProvider) AccessToken(context.Context, string) (*passport.AccessToken, error) {
	return nil, &passport.Error{Code: passport.ENOTFOUND}
}

// echo404 is the pseudo-method Echo registers for a group's catch-all.
const echo404 = "echo_route_not_found"

func sortedKeys(m map[string]bool) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
