package web

import (
	"bytes"
	"fmt"
	htmltemplate "html/template"
	"io/fs"
	"os"
	"strings"
	texttemplate "text/template"

	"github.com/passport-idp/passport/internal/passport"
	"github.com/passport-idp/passport/templates"
)

// MessageData is what message templates may use.
type MessageData struct {
	Name     string // how to address the person
	Login    string
	Code     string
	Link     string
	NewValue string // the new email or phone
	When     string
	Minutes  int
}

// messageTemplates renders messages/<kind>.<language>.tmpl: a "subject", a "text" and, for
// email, an "html" block (escaped as HTML). A file in the configured folder overrides the
// shipped one of the same name.
type messageTemplates struct {
	shipped       fs.FS
	override      fs.FS
	defaultLocale string
}

func newMessageTemplates(dir, defaultLocale string) *messageTemplates {
	m := &messageTemplates{shipped: templates.FS, defaultLocale: defaultLocale}
	if dir != "" {
		m.override = os.DirFS(dir)
	}
	return m
}

func (m *messageTemplates) file(kind, lang string) ([]byte, bool) {
	name := kind + "." + lang + ".tmpl"
	if m.override != nil {
		if b, err := fs.ReadFile(m.override, name); err == nil {
			return b, true
		}
	}
	b, err := fs.ReadFile(m.shipped, "messages/"+name)
	return b, err == nil
}

// render picks the person's language when a template exists for it, else the default.
func (m *messageTemplates) render(kind, locale string, data MessageData) (passport.Content, string, error) {
	lang, _, _ := strings.Cut(strings.ToLower(locale), "-")
	src, ok := m.file(kind, lang)
	if !ok {
		lang = m.defaultLocale
		if src, ok = m.file(kind, lang); !ok {
			return passport.Content{}, "", fmt.Errorf("no message template %s.%s.tmpl", kind, lang)
		}
	}
	var c passport.Content
	tt, err := texttemplate.New(kind).Option("missingkey=error").Parse(string(src))
	if err != nil {
		return c, "", fmt.Errorf("message template %s.%s: %w", kind, lang, err)
	}
	exec := func(name string) (string, error) {
		if tt.Lookup(name) == nil {
			return "", nil
		}
		var b bytes.Buffer
		err := tt.ExecuteTemplate(&b, name, data)
		return strings.TrimSpace(b.String()), err
	}
	if c.Subject, err = exec("subject"); err != nil {
		return c, "", err
	}
	if c.Text, err = exec("text"); err != nil {
		return c, "", err
	}
	if tt.Lookup("html") != nil {
		ht, err := htmltemplate.New(kind).Option("missingkey=error").Parse(string(src))
		if err != nil {
			return c, "", err
		}
		var b bytes.Buffer
		if err := ht.ExecuteTemplate(&b, "html", data); err != nil {
			return c, "", err
		}
		c.HTML = "<!doctype html><html><body style=\"font-family:sans-serif\">" + b.String() + "</body></html>"
	}
	return c, lang, nil
}

// message renders and seals one message for the queue.
func (s *Server) message(channel, to, kind string, a *passport.Account, data MessageData) (passport.Outgoing, error) {
	if data.Name == "" {
		data.Name = a.Name()
	}
	if data.Login == "" {
		data.Login = a.Login
	}
	content, lang, err := s.msgs.render(kind, a.Locale, data)
	if err != nil {
		return passport.Outgoing{}, err
	}
	if channel == passport.ChannelCall {
		content.Code = data.Code
	}
	payload, err := s.cfg.Sealer.Seal(content)
	if err != nil {
		return passport.Outgoing{}, err
	}
	return passport.Outgoing{Channel: channel, To: to, Kind: kind, Locale: lang, AccountID: a.ID, Payload: payload}, nil
}
