package web

import (
	"bytes"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/yuin/goldmark"

	"github.com/passport-idp/passport/internal/i18n"
	"github.com/passport-idp/passport/internal/passport"
	"github.com/passport-idp/passport/static"
	"github.com/passport-idp/passport/templates"
)

// renderer parses every page (layout + page) once per language: each set has its
// language's T and TH functions. The default language is parsed at start, which also
// proves the templates sound (they are the same files in every language); another language
// is parsed the first time a page is shown in it, so a server whose people use one or two
// languages does not hold five copies of every page. In development, with an assets
// folder, it re-reads the files on every render so edits show without a rebuild.
type renderer struct {
	templates fs.FS
	static    fs.FS
	dev       bool
	cat       *i18n.Catalog

	mu    sync.Mutex
	pages map[string]map[string]*template.Template // language → page → template
}

func newRenderer(assetsDir string, cat *i18n.Catalog) (*renderer, error) {
	r := &renderer{templates: templates.FS, static: static.FS, cat: cat, pages: map[string]map[string]*template.Template{}}
	if assetsDir != "" {
		r.templates = os.DirFS(path.Join(assetsDir, "templates"))
		r.static = os.DirFS(path.Join(assetsDir, "static"))
		r.dev = true
	}
	_, err := r.set(i18n.Default)
	return r, err
}

// set returns the pages of one language, parsing them when they are not parsed yet (and
// always in development).
func (r *renderer) set(lang string) (map[string]*template.Template, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if pages := r.pages[lang]; pages != nil && !r.dev {
		return pages, nil
	}
	names, err := fs.Glob(r.templates, "*.html")
	if err != nil {
		return nil, err
	}
	partials, err := r.partials()
	if err != nil {
		return nil, err
	}
	pages := map[string]*template.Template{}
	fn := pageFuncs(r.cat.For(lang))
	for _, n := range names {
		if n == "layout.html" || n == "partials.html" || strings.HasPrefix(n, "partial_") {
			continue
		}
		src, err := fs.ReadFile(r.templates, n)
		if err != nil {
			return nil, err
		}
		files := append([]string{"layout.html", "partials.html"}, partials.usedBy(string(src))...)
		t, err := template.New("layout.html").Funcs(fn).ParseFS(r.templates, append(files, n)...)
		if err != nil {
			return nil, fmt.Errorf("templates: %w", err)
		}
		pages[strings.TrimSuffix(n, ".html")] = t
	}
	r.pages[lang] = pages
	return pages, nil
}

// partialFiles maps each partial_*.html (sections a few pages share, like the member
// page's parts) to its source. A page is parsed with the partials it uses only: parsing
// every partial into every page would keep their trees once per page and language.
type partialFiles map[string]string

func (r *renderer) partials() (partialFiles, error) {
	names, err := fs.Glob(r.templates, "partial_*.html")
	if err != nil {
		return nil, err
	}
	out := partialFiles{}
	for _, n := range names {
		b, err := fs.ReadFile(r.templates, n)
		if err != nil {
			return nil, err
		}
		out[n] = string(b)
	}
	return out, nil
}

var defineRE = regexp.MustCompile(`\{\{-?\s*define\s+"([^"]+)"`)

// usedBy lists the partials src calls, and the ones those call, in name order.
func (p partialFiles) usedBy(src string) []string {
	used := map[string]bool{}
	for grew := true; grew; {
		grew = false
		for name, body := range p {
			if used[name] {
				continue
			}
			for _, m := range defineRE.FindAllStringSubmatch(body, -1) {
				if strings.Contains(src, `{{template "`+m[1]+`"`) {
					used[name], grew = true, true
					src += body
					break
				}
			}
		}
	}
	out := make([]string, 0, len(used))
	for name := range used {
		out = append(out, name)
	}
	slices.Sort(out)
	return out
}

// pageFuncs are the functions templates have, bound to one language.
//
//	{{T "Sign in"}}                      a sentence of the catalogue
//	{{T "%d of %d" .Done .All}}          with fmt arguments
//	{{TH "to <strong>%s</strong>" .App}} a sentence with markup: the catalogue's text is
//	                                     trusted, the arguments are escaped
func pageFuncs(l *i18n.Localizer) template.FuncMap {
	return template.FuncMap{
		"join": strings.Join,
		// initial is the first letter of a name, for a photo placeholder.
		"initial": func(s string) string {
			for _, r := range s {
				return strings.ToUpper(string(r))
			}
			return "?"
		},
		"T": l.Sprintf,
		"TH": func(format string, args ...any) template.HTML {
			for i, a := range args {
				args[i] = template.HTMLEscapeString(fmt.Sprint(a))
			}
			return template.HTML(l.Sprintf(format, args...))
		},
	}
}

// markdown renders a Markdown document (the policy) as HTML. Raw HTML in it is left out, so
// an operator's document cannot put script on the page.
func markdown(doc []byte) (template.HTML, error) {
	var buf bytes.Buffer
	if err := goldmark.New().Convert(doc, &buf); err != nil {
		return "", err
	}
	return template.HTML(buf.String()), nil
}

func (r *renderer) render(lang, name string, data any) ([]byte, error) {
	pages, err := r.set(lang)
	if err != nil {
		return nil, err
	}
	t := pages[name]
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
	// The page's language and time zone, the languages to switch to, and where the
	// switcher returns.
	Lang      string
	Languages []i18n.Language
	Here      string
	loc       *i18n.Localizer
	zone      *time.Location
}

// base fills the layout's data for the current request; title is a sentence of the
// catalogue.
func (s *Server) base(c echo.Context, title string) Base {
	l := s.localizer(c)
	b := Base{Title: l.T(title), Lang: l.Lang(), Languages: i18n.Languages, Here: s.here(c), loc: l, zone: s.zone(c)}
	if br := browserOf(c); br != nil {
		b.CSRF = s.csrfToken(br)
	}
	if a := accountOf(c); a != nil {
		b.Account = a
	}
	return b
}

// here is where the language switcher returns: this page's address, or for a page that
// answers a form (a POST) the page one can GET at or above its path, keeping the
// application's sign-in it belongs to.
func (s *Server) here(c echo.Context) string {
	r := c.Request()
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		return r.URL.RequestURI()
	}
	p := r.URL.Path
	for p != "/" && p != "." && !s.servesGET(p) {
		p = path.Dir(p)
	}
	if p == "." {
		p = "/"
	}
	if id := c.FormValue("authRequestID"); id != "" {
		p += "?authRequestID=" + url.QueryEscape(id)
	}
	return p
}

// servesGET reports whether a GET route matches p (":name" matches any one segment).
func (s *Server) servesGET(p string) bool {
	want := strings.Split(p, "/")
	for _, got := range s.getRoutes {
		if len(got) != len(want) {
			continue
		}
		match := true
		for i := range got {
			if got[i] != want[i] && !strings.HasPrefix(got[i], ":") {
				match = false
				break
			}
		}
		if match {
			return true
		}
	}
	return false
}

// Date shows t's date in the page's language and time zone.
func (b Base) Date(t time.Time) string { return b.loc.Date(t, b.zone) }

// DateTime shows t's date, time and zone in the page's language and time zone.
func (b Base) DateTime(t time.Time) string { return b.loc.DateTime(t, b.zone) }

// page renders one page with its typed data, in the request's language.
func (s *Server) page(c echo.Context, status int, name string, data any) error {
	html, err := s.pages.render(s.localizer(c).Lang(), name, data)
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
