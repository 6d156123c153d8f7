package i18n

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/passport-idp/passport/internal/passport"
)

// templateSentence finds {{T "…"}} and {{TH "…"}} in page templates.
var templateSentence = regexp.MustCompile(`\{\{-?\s*(?:\(\s*)?TH?\s+"((?:[^"\\]|\\.)*)"`)

// sentenceCalls are the functions whose argument at the index is a sentence of the
// catalogue: domain errors, page titles, texts shown by the web layer.
var sentenceCalls = map[string]int{
	"Errorf": 1, "FieldError": 1, "Text": 0, // package passport (the fmt.Errorf of other packages is skipped below)
	"text": 1, "base": 1, "renderError": 2, // package web
	"Sprintf": 0, // an i18n.Localizer's (fmt.Sprintf is skipped below)
}

// usedSentences returns every sentence literal the code and the templates show, with where.
func usedSentences(t *testing.T) map[string]string {
	t.Helper()
	used := map[string]string{}
	pages, _ := filepath.Glob("../../templates/*.html")
	for _, p := range pages {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range templateSentence.FindAllStringSubmatch(string(b), -1) {
			s, err := strconv.Unquote(`"` + m[1] + `"`)
			if err != nil {
				t.Errorf("%s: %q: %v", p, m[1], err)
				continue
			}
			used[s] = filepath.Base(p)
		}
	}
	for _, dir := range []string{"../passport", "../postgres", "../web", "../oidc", "../account"} {
		files, _ := filepath.Glob(dir + "/*.go")
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			fset := token.NewFileSet()
			file, err := parser.ParseFile(fset, f, nil, 0)
			if err != nil {
				t.Fatal(err)
			}
			ast.Inspect(file, func(n ast.Node) bool {
				switch n := n.(type) {
				case *ast.CallExpr:
					name := ""
					switch fn := n.Fun.(type) {
					case *ast.Ident:
						name = fn.Name
					case *ast.SelectorExpr:
						if x, ok := fn.X.(*ast.Ident); ok && (x.Name == "fmt" || x.Name == "errors" || x.Name == "slog") {
							return true
						}
						name = fn.Sel.Name
					}
					i, ok := sentenceCalls[name]
					if !ok || len(n.Args) <= i {
						return true
					}
					if lit, ok := n.Args[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
						if s, err := strconv.Unquote(lit.Value); err == nil {
							used[s] = fset.Position(lit.Pos()).String()
						}
					}
				case *ast.KeyValueExpr:
					// &passport.Error{Message: "…"}
					if k, ok := n.Key.(*ast.Ident); ok && k.Name == "Message" {
						if lit, ok := n.Value.(*ast.BasicLit); ok && lit.Kind == token.STRING {
							if s, err := strconv.Unquote(lit.Value); err == nil {
								used[s] = fset.Position(lit.Pos()).String()
							}
						}
					}
				}
				return true
			})
		}
	}
	// The field labels' table.
	for f, label := range passport.FieldLabels {
		used[label] = "passport.FieldLabels[" + string(f) + "]"
	}
	return used
}

// TestCatalogueHasEverySentence: every sentence the templates and the domain, store and web
// code show is in the catalogue (so in all five languages: TestCatalogueIsComplete).
func TestCatalogueHasEverySentence(t *testing.T) {
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	used := usedSentences(t)
	if len(used) < 50 {
		t.Fatalf("found only %d sentences: the scan is broken", len(used))
	}
	var missing []string
	for s, where := range used {
		if !c.Has("en", s) {
			missing = append(missing, where+": "+strconv.Quote(s))
		}
	}
	sort.Strings(missing)
	for _, m := range missing {
		t.Errorf("not in the catalogue: %s", m)
	}
}
