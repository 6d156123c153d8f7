package mail

import (
	"bufio"
	"context"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/passport-idp/passport/internal/passport"
)

// TestQuitFailureAfterAcceptanceIsDelivered: a server that takes the message and then drops
// the connection at QUIT has the message; Send must not report a failure that would make the
// queue send it again.
func TestQuitFailureAfterAcceptanceIsDelivered(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		c, err := l.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		r := bufio.NewReader(c)
		write := func(s string) { _, _ = c.Write([]byte(s + "\r\n")) }
		write("220 stub")
		inData := false
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			switch cmd := strings.ToUpper(strings.TrimSpace(line)); {
			case inData && strings.TrimSpace(line) == ".":
				inData = false
				write("250 queued")
			case inData:
			case strings.HasPrefix(cmd, "EHLO"), strings.HasPrefix(cmd, "HELO"):
				write("250 stub")
			case strings.HasPrefix(cmd, "MAIL"), strings.HasPrefix(cmd, "RCPT"):
				write("250 ok")
			case cmd == "DATA":
				inData = true
				write("354 go on")
			case cmd == "QUIT":
				return // drop the connection instead of answering
			}
		}
	}()
	_, port, _ := net.SplitHostPort(l.Addr().String())
	p, _ := strconv.Atoi(port)
	s := New(Config{Host: "127.0.0.1", Port: p, TLS: TLSNone, From: "Passport <no-reply@example.org>", Timeout: 5 * time.Second})
	err = s.Send(context.Background(), &passport.Message{ID: "m1", To: "person@example.org",
		Content: passport.Content{Subject: "Hello", Text: "Body"}})
	if err != nil {
		t.Fatalf("Send after the server accepted the message: %v", err)
	}
}
