package mail

import (
	"bufio"
	"context"
	"net"
	"net/mail"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/passport-idp/passport/internal/passport"
)

// stubSMTP is an SMTP server that takes every message and keeps its data. With dropAtQuit
// it drops the connection at QUIT instead of answering.
type stubSMTP struct {
	port       int
	dropAtQuit bool
	mu         sync.Mutex
	data       []string
}

func newStubSMTP(t *testing.T, dropAtQuit bool) *stubSMTP {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	_, port, _ := net.SplitHostPort(l.Addr().String())
	s := &stubSMTP{dropAtQuit: dropAtQuit}
	s.port, _ = strconv.Atoi(port)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go s.serve(c)
		}
	}()
	return s
}

func (s *stubSMTP) serve(c net.Conn) {
	defer c.Close()
	r := bufio.NewReader(c)
	write := func(line string) { _, _ = c.Write([]byte(line + "\r\n")) }
	write("220 stub")
	inData := false
	var data strings.Builder
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		switch cmd := strings.ToUpper(strings.TrimSpace(line)); {
		case inData && strings.TrimSpace(line) == ".":
			inData = false
			s.mu.Lock()
			s.data = append(s.data, data.String())
			s.mu.Unlock()
			data.Reset()
			write("250 queued")
		case inData:
			data.WriteString(line)
		case strings.HasPrefix(cmd, "EHLO"), strings.HasPrefix(cmd, "HELO"):
			write("250 stub")
		case strings.HasPrefix(cmd, "MAIL"), strings.HasPrefix(cmd, "RCPT"):
			write("250 ok")
		case cmd == "DATA":
			inData = true
			write("354 go on")
		case cmd == "QUIT":
			if s.dropAtQuit {
				return // drop the connection instead of answering
			}
			write("221 bye")
			return
		}
	}
}

func (s *stubSMTP) received() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.data...)
}

func (s *stubSMTP) sender() *Sender {
	return New(Config{Host: "127.0.0.1", Port: s.port, TLS: TLSNone, From: "Passport <no-reply@example.org>", Timeout: 5 * time.Second})
}

// TestQuitFailureAfterAcceptanceIsDelivered: a server that takes the message and then drops
// the connection at QUIT has the message; Send must not report a failure that would make the
// queue send it again.
func TestQuitFailureAfterAcceptanceIsDelivered(t *testing.T) {
	s := newStubSMTP(t, true)
	err := s.sender().Send(context.Background(), &passport.Message{ID: "m1", To: "person@example.org",
		Content: passport.Content{Subject: "Hello", Text: "Body"}})
	if err != nil {
		t.Fatalf("Send after the server accepted the message: %v", err)
	}
}

// TestMessageIDIsStableAcrossAttempts: when the queue sends a message again (its delivery
// went unrecorded), the second copy carries the first one's Message-ID, derived from the
// queue's message id alone, so mail servers and clients can drop the duplicate.
func TestMessageIDIsStableAcrossAttempts(t *testing.T) {
	s := newStubSMTP(t, false)
	const id = "5f0c7c1e-2b7a-4d3e-9a61-0c8f5e2d4b77"
	for attempt := 1; attempt <= 2; attempt++ {
		m := &passport.Message{ID: id, Channel: passport.ChannelEmail, To: "person@example.org", Kind: "email_changed",
			Attempts: attempt, Content: passport.Content{Subject: "Hello", Text: "Body", HTML: "<p>Body</p>"}}
		if err := s.sender().Send(context.Background(), m); err != nil {
			t.Fatalf("attempt %d: %v", attempt, err)
		}
	}
	got := s.received()
	if len(got) != 2 {
		t.Fatalf("server got %d messages, want 2", len(got))
	}
	var ids []string
	for _, data := range got {
		msg, err := mail.ReadMessage(strings.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, msg.Header.Get("Message-ID"))
	}
	if want := "<" + id + "@example.org>"; ids[0] != want || ids[1] != want {
		t.Errorf("Message-IDs %q; want %q twice", ids, want)
	}
}
