// Package mail sends email over SMTP. It knows nothing of the queue: the worker calls it.
package mail

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/textproto"
	"strconv"
	"strings"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/passport-idp/passport/internal/passport"
)

// TLS modes.
const (
	TLSNone     = "none"     // plain SMTP (a local relay only)
	TLSStartTLS = "starttls" // upgrade with STARTTLS, required
	TLSImplicit = "tls"      // TLS from the first byte (port 465)
)

// Config is the SMTP server to send through.
type Config struct {
	Host     string
	Port     int
	TLS      string
	Username string
	Password string
	From     string // "Passport <no-reply@example.org>"
	Timeout  time.Duration
	// TLSConfig overrides the TLS settings (tests use it to trust their own server).
	TLSConfig *tls.Config
}

// Sender delivers email.
type Sender struct{ cfg Config }

// New returns a Sender.
func New(cfg Config) *Sender { return &Sender{cfg: cfg} }

// Send delivers one message: multipart/alternative with text and HTML when there is HTML.
// A 5xx answer is permanent, anything else may be retried.
func (s *Sender) Send(ctx context.Context, m *passport.Message) error {
	from, err := mail.ParseAddress(s.cfg.From)
	if err != nil {
		return &passport.PermanentError{Err: fmt.Errorf("bad from address: %w", err)}
	}
	msg, err := build(from, m)
	if err != nil {
		return &passport.PermanentError{Err: err}
	}
	c, err := s.dial(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	if s.cfg.Username != "" {
		if err := c.Auth(sasl.NewPlainClient("", s.cfg.Username, s.cfg.Password)); err != nil {
			return classify(err)
		}
	}
	if err := c.SendMail(from.Address, []string{m.To}, bytes.NewReader(msg)); err != nil {
		return classify(err)
	}
	// The server has taken the message: a failing QUIT must not make the worker send it
	// again.
	_ = c.Quit()
	return nil
}

func (s *Sender) dial(ctx context.Context) (*smtp.Client, error) {
	addr := net.JoinHostPort(s.cfg.Host, strconv.Itoa(s.cfg.Port))
	tlsConfig := s.cfg.TLSConfig
	if tlsConfig == nil {
		tlsConfig = &tls.Config{ServerName: s.cfg.Host, MinVersion: tls.VersionTLS12}
	}
	deadline := time.Now().Add(s.cfg.Timeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	dialer := &net.Dialer{Deadline: deadline}
	var c *smtp.Client
	switch s.cfg.TLS {
	case TLSImplicit:
		conn, err := tls.DialWithDialer(dialer, "tcp", addr, tlsConfig)
		if err != nil {
			return nil, err
		}
		_ = conn.SetDeadline(deadline)
		c = smtp.NewClient(conn)
	case TLSStartTLS:
		conn, err := dialer.DialContext(ctx, "tcp", addr)
		if err != nil {
			return nil, err
		}
		_ = conn.SetDeadline(deadline)
		if c, err = smtp.NewClientStartTLS(conn, tlsConfig); err != nil {
			conn.Close()
			return nil, err
		}
	default:
		conn, err := dialer.DialContext(ctx, "tcp", addr)
		if err != nil {
			return nil, err
		}
		_ = conn.SetDeadline(deadline)
		c = smtp.NewClient(conn)
	}
	return c, nil
}

// classify makes a 5xx SMTP reply permanent.
func classify(err error) error {
	var se *smtp.SMTPError
	if errors.As(err, &se) && se.Code >= 500 {
		return &passport.PermanentError{Err: err}
	}
	return err
}

func build(from *mail.Address, m *passport.Message) ([]byte, error) {
	to, err := mail.ParseAddress(m.To)
	if err != nil {
		return nil, fmt.Errorf("bad recipient: %w", err)
	}
	var b bytes.Buffer
	h := textproto.MIMEHeader{}
	h.Set("From", from.String())
	h.Set("To", to.String())
	h.Set("Subject", mime.QEncoding.Encode("utf-8", m.Subject))
	h.Set("Date", time.Now().UTC().Format(time.RFC1123Z))
	h.Set("Message-ID", "<"+m.ID+"@"+domainOf(from.Address)+">")
	h.Set("MIME-Version", "1.0")
	h.Set("Auto-Submitted", "auto-generated")
	if m.HTML == "" {
		h.Set("Content-Type", "text/plain; charset=utf-8")
		h.Set("Content-Transfer-Encoding", "quoted-printable")
		writeHeader(&b, h)
		return b.Bytes(), writeQP(&b, m.Text)
	}
	w := multipart.NewWriter(&b)
	h.Set("Content-Type", "multipart/alternative; boundary="+w.Boundary())
	writeHeader(&b, h)
	for _, part := range []struct{ ctype, body string }{{"text/plain", m.Text}, {"text/html", m.HTML}} {
		pw, err := w.CreatePart(textproto.MIMEHeader{"Content-Type": {part.ctype + "; charset=utf-8"},
			"Content-Transfer-Encoding": {"quoted-printable"}})
		if err != nil {
			return nil, err
		}
		if err := writeQP(pw, part.body); err != nil {
			return nil, err
		}
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func writeHeader(b *bytes.Buffer, h textproto.MIMEHeader) {
	for _, k := range []string{"From", "To", "Subject", "Date", "Message-ID", "MIME-Version", "Auto-Submitted", "Content-Type", "Content-Transfer-Encoding"} {
		if v := h.Get(k); v != "" {
			fmt.Fprintf(b, "%s: %s\r\n", k, v)
		}
	}
	b.WriteString("\r\n")
}

func writeQP(w interface{ Write([]byte) (int, error) }, s string) error {
	qp := quotedprintable.NewWriter(w)
	if _, err := qp.Write([]byte(strings.ReplaceAll(s, "\n", "\r\n"))); err != nil {
		return err
	}
	return qp.Close()
}

func domainOf(addr string) string {
	if i := strings.LastIndexByte(addr, '@'); i >= 0 {
		return addr[i+1:]
	}
	return "localhost"
}
