package main

import (
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// mailbox is a real SMTP server in the test process: everything Passport sends arrives here.
type mailbox struct {
	addr string
	mu   sync.Mutex
	got  []received
	news chan struct{}
}

type received struct {
	From, To, Subject, Text, HTML string
}

func newMailbox(t *testing.T) *mailbox {
	t.Helper()
	mb := &mailbox{news: make(chan struct{}, 100)}
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &smtpSession{mb: mb}, nil }))
	srv.Domain = "localhost"
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	srv.ErrorLog = nopLogger{}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	mb.addr = l.Addr().String()
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { srv.Close() })
	return mb
}

type nopLogger struct{}

func (nopLogger) Printf(string, ...interface{}) {}
func (nopLogger) Println(...interface{})        {}

// env returns the settings that point Passport's SMTP sender at this mailbox.
func (mb *mailbox) env() []string {
	host, port, _ := net.SplitHostPort(mb.addr)
	return []string{"PASSPORT_MESSAGES_EMAIL", "smtp", "PASSPORT_MESSAGES_SMTP_HOST", host, "PASSPORT_MESSAGES_SMTP_PORT", port,
		"PASSPORT_MESSAGES_SMTP_TLS", "none", "PASSPORT_MESSAGES_SMTP_FROM", "Passport <no-reply@passport.test>"}
}

// wait returns the next message to the address, failing the test after a while.
func (mb *mailbox) wait(t *testing.T, to string) received {
	t.Helper()
	deadline := time.After(15 * time.Second)
	for {
		mb.mu.Lock()
		for i, m := range mb.got {
			if strings.EqualFold(m.To, to) {
				mb.got = append(mb.got[:i], mb.got[i+1:]...)
				mb.mu.Unlock()
				return m
			}
		}
		mb.mu.Unlock()
		select {
		case <-mb.news:
		case <-deadline:
			t.Fatalf("no mail to %s arrived", to)
		}
	}
}

type smtpSession struct {
	mb       *mailbox
	from, to string
}

func (s *smtpSession) Reset()        {}
func (s *smtpSession) Logout() error { return nil }
func (s *smtpSession) Mail(from string, _ *smtp.MailOptions) error {
	s.from = from
	return nil
}
func (s *smtpSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.to = to
	return nil
}
func (s *smtpSession) Data(r io.Reader) error {
	msg, err := mail.ReadMessage(r)
	if err != nil {
		return err
	}
	dec := new(mime.WordDecoder)
	subject, _ := dec.DecodeHeader(msg.Header.Get("Subject"))
	m := received{From: s.from, To: s.to, Subject: subject}
	mediaType, params, _ := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if strings.HasPrefix(mediaType, "multipart/") {
		mr := multipart.NewReader(msg.Body, params["boundary"])
		for {
			p, err := mr.NextPart()
			if err != nil {
				break
			}
			body, _ := io.ReadAll(p) // NextPart already undoes quoted-printable
			if strings.HasPrefix(p.Header.Get("Content-Type"), "text/html") {
				m.HTML = string(body)
			} else {
				m.Text = string(body)
			}
		}
	} else {
		body, _ := io.ReadAll(quotedprintable.NewReader(msg.Body))
		m.Text = string(body)
	}
	s.mb.mu.Lock()
	s.mb.got = append(s.mb.got, m)
	s.mb.mu.Unlock()
	s.mb.news <- struct{}{}
	return nil
}

// waitSubject waits for a message to the address whose subject contains want, skipping
// others to that address.
func (mb *mailbox) waitSubject(t *testing.T, to, want string) received {
	t.Helper()
	for i := 0; i < 10; i++ {
		if m := mb.wait(t, to); strings.Contains(m.Subject, want) {
			return m
		}
	}
	t.Fatalf("no mail to %s about %q", to, want)
	return received{}
}
