// Package internal holds no code: this test keeps the dependency rule of the README's
// architecture paragraph, so a package cannot quietly start leaning on one it must not.
package internal

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
)

const module = "github.com/passport-idp/passport/"

// mayImport is the rule: for each package under internal/, the packages of this module its
// non-test code may import. The domain imports nothing of ours; the store only the domain;
// the protocol adapter the domain and the store; the account actions the domain and the
// store; the web server the domain, the store and the account actions (the provider reaches
// it as an http.Handler, so never oidc); senders only the domain; jobs
// the domain and the store (senders reach it as interfaces); configuration and the
// catalogue (i18n) nothing.
var mayImport = map[string][]string{
	"passport": {},
	"config":   {},
	"i18n":     {},
	"postgres": {"internal/passport", "migrations"},
	"oidc":     {"internal/passport", "internal/postgres"},
	"account":  {"internal/passport", "internal/postgres"},
	"web":      {"internal/passport", "internal/postgres", "internal/account", "internal/i18n", "static", "templates"},
	"jobs":     {"internal/passport", "internal/postgres", "internal/i18n"},
	"mail":     {"internal/passport", "internal/i18n"},
	"sms":      {"internal/passport"},
	"pgtest":   {"internal/postgres", "migrations"},
}

// TestDependencyRule parses every non-test Go file under internal/ and fails on an import
// of this module that the rule does not allow, and on a package the rule does not know.
func TestDependencyRule(t *testing.T) {
	dirs, err := os.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	seen := 0
	for _, d := range dirs {
		if !d.IsDir() {
			continue
		}
		allowed, known := mayImport[d.Name()]
		if !known {
			t.Errorf("internal/%s is not in the dependency rule: add it to mayImport (and to the README's architecture paragraph)", d.Name())
			continue
		}
		seen++
		for imp, file := range moduleImports(t, d.Name()) {
			if !slices.Contains(allowed, imp) {
				t.Errorf("internal/%s imports %s (%s): the rule allows only %v", d.Name(), imp, file, allowed)
			}
		}
	}
	if seen == 0 {
		t.Fatal("no package found: the test runs from the wrong folder")
	}
}

// moduleImports returns the imports of this module in dir's non-test files, each with a
// file that makes it, walking sub-folders too.
func moduleImports(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	fset := token.NewFileSet()
	err := filepath.WalkDir(dir, func(path string, e os.DirEntry, err error) error {
		if err != nil || e.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return err
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		for _, s := range f.Imports {
			p := strings.Trim(s.Path.Value, `"`)
			if rest, ok := strings.CutPrefix(p, module); ok {
				out[rest] = path
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestDependencyRuleCatchesAViolation proves the check can fail: the domain package
// importing the store is reported.
func TestDependencyRuleCatchesAViolation(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "x.go"), []byte("package x\nimport _ \""+module+"internal/postgres\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	got := moduleImports(t, dir)
	keys := make([]string, 0, len(got))
	for k := range got {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if !slices.Equal(keys, []string{"internal/postgres"}) || slices.Contains(mayImport["passport"], keys[0]) {
		t.Errorf("a domain file importing the store: found %v", keys)
	}
}
