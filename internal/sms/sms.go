// Package sms sends text messages and confirmation calls through an HTTP provider whose
// request is described by templates in the configuration. It knows nothing of the queue.
package sms

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"text/template"
	"time"

	"github.com/passport-idp/passport/internal/passport"
)

// Endpoint is one provider request: where and what to send. Body is a text/template
// rendered with .ID, .To (E.164), .Text, .Code and .Channel, with the helpers json (a JSON
// string literal) and query (URL-escaped).
type Endpoint struct {
	URL         string
	Method      string
	ContentType string
	Headers     map[string]string
	Body        string
}

// Sender calls the provider.
type Sender struct {
	endpoint Endpoint
	body     *template.Template
	url      *template.Template
	client   *http.Client
}

var helpers = template.FuncMap{
	"json": func(s string) (string, error) {
		b, err := json.Marshal(s)
		return string(b), err
	},
	"query": url.QueryEscape,
}

// New checks the templates and returns a Sender.
func New(e Endpoint, timeout time.Duration) (*Sender, error) {
	body, err := template.New("body").Funcs(helpers).Option("missingkey=error").Parse(e.Body)
	if err != nil {
		return nil, fmt.Errorf("sms: body template: %w", err)
	}
	u, err := template.New("url").Funcs(helpers).Option("missingkey=error").Parse(e.URL)
	if err != nil {
		return nil, fmt.Errorf("sms: url template: %w", err)
	}
	if e.Method == "" {
		e.Method = http.MethodPost
	}
	return &Sender{endpoint: e, body: body, url: u, client: &http.Client{Timeout: timeout}}, nil
}

type fields struct {
	ID, To, Text, Code, Channel string
}

// Send makes the provider request. 2xx is delivered; 429 and 5xx are retried; other 4xx
// answers are permanent.
func (s *Sender) Send(ctx context.Context, m *passport.Message) error {
	f := fields{ID: m.ID, To: m.To, Text: m.Text, Code: m.Code, Channel: m.Channel}
	var body, u bytes.Buffer
	if err := s.body.Execute(&body, f); err != nil {
		return &passport.PermanentError{Err: err}
	}
	if err := s.url.Execute(&u, f); err != nil {
		return &passport.PermanentError{Err: err}
	}
	req, err := http.NewRequestWithContext(ctx, s.endpoint.Method, strings.TrimSpace(u.String()), &body)
	if err != nil {
		return &passport.PermanentError{Err: err}
	}
	if s.endpoint.ContentType != "" {
		req.Header.Set("Content-Type", s.endpoint.ContentType)
	}
	for k, v := range s.endpoint.Headers {
		req.Header.Set(k, v)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 300))
	switch {
	case resp.StatusCode/100 == 2:
		return nil
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
		return fmt.Errorf("provider answered %d: %s", resp.StatusCode, snippet)
	default:
		return &passport.PermanentError{Err: fmt.Errorf("provider answered %d: %s", resp.StatusCode, snippet)}
	}
}
