package web

import (
	"bytes"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"os"
	"path"
	"strings"
	"sync"

	"github.com/labstack/echo/v4"

	"github.com/passport-idp/passport/internal/passport"
	"github.com/passport-idp/passport/static"
	"github.com/passport-idp/passport/templates"
)

// renderer parses every page once at start (layout + page). In development, with an assets
// folder, it re-reads the files on every render so edits show without a rebuild.
type renderer struct {
	templates fs.FS
	static    fs.FS
	dev       bool

	mu    sync.Mutex
	pages map[string]*template.Template
}

func newRenderer(assetsDir string) (*renderer, error) {
	r := &renderer{templates: templates.FS, static: static.FS}
	if assetsDir != "" {
		r.templates = os.DirFS(path.Join(assetsDir, "templates"))
		r.static = os.DirFS(path.Join(assetsDir, "static"))
		r.dev = true
	}
	return r, r.parse()
}

func (r *renderer) parse() error {
	names, err := fs.Glob(r.templates, "*.html")
	if err != nil {
		return err
	}
	pages := map[string]*template.Template{}
	for _, n := range names {
		if n == "layout.html" || n == "partials.html" {
			continue
		}
		t, err := template.New("layout.html").Funcs(funcs).ParseFS(r.templates, "layout.html", "partials.html", n)
		if err != nil {
			return fmt.Errorf("templates: %w", err)
		}
		pages[strings.TrimSuffix(n, ".html")] = t
	}
	r.mu.Lock()
	r.pages = pages
	r.mu.Unlock()
	return nil
}

var funcs = template.FuncMap{
	"join": strings.Join,
	// initial is the first letter of a name, for a photo placeholder.
	"initial": func(s string) string {
		for _, r := range s {
			return strings.ToUpper(string(r))
		}
		return "?"
	},
}

func (r *renderer) render(name string, data any) ([]byte, error) {
	if r.dev {
		if err := r.parse(); err != nil {
			return nil, err
		}
	}
	r.mu.Lock()
	t := r.pages[name]
	r.mu.Unlock()
	if t == nil {
		return nil, fmt.Errorf("templates: no page %q", name)
	}
	var buf bytes.Buffer
	if err := t.Execute(&buf, data); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Base is what every page's layout needs.
type Base struct {
	Title   string
	CSRF    string
	Account *passport.Account // the signed-in person, when known
}

// base fills the layout's data for the current request.
func (s *Server) base(c echo.Context, title string) Base {
	b := Base{Title: title}
	if br := browserOf(c); br != nil {
		b.CSRF = s.csrfToken(br)
	}
	return b
}

// page renders one page with its typed data.
func (s *Server) page(c echo.Context, status int, name string, data any) error {
	html, err := s.pages.render(name, data)
	if err != nil {
		return err
	}
	return c.HTMLBlob(status, html)
}

func (s *Server) handleStatic(c echo.Context) error {
	name := strings.TrimPrefix(c.Param("*"), "/")
	b, err := fs.ReadFile(s.pages.static, name)
	if err != nil || strings.Contains(name, "..") {
		return echo.ErrNotFound
	}
	c.Response().Header().Set("Cache-Control", "public, max-age=3600")
	c.Response().Header().Set("X-Content-Type-Options", "nosniff")
	ctype := http.DetectContentType(b)
	switch path.Ext(name) {
	case ".css":
		ctype = "text/css; charset=utf-8"
	case ".js":
		ctype = "text/javascript; charset=utf-8"
	case ".svg":
		ctype = "image/svg+xml"
	}
	return c.Blob(http.StatusOK, ctype, b)
}
