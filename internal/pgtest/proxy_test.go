package pgtest

import (
	"bufio"
	"context"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// echoServer answers every line with the same line, until the test ends.
func echoServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				r := bufio.NewReader(c)
				for {
					line, err := r.ReadString('\n')
					if err != nil {
						return
					}
					if _, err := c.Write([]byte(line)); err != nil {
						return
					}
				}
			}()
		}
	}()
	return ln.Addr().String()
}

// roundTrip dials addr, sends a line and reports whether the same line came back.
func roundTrip(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return false
	}
	defer c.Close()
	return echoes(c)
}

func echoes(c net.Conn) bool {
	_ = c.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := c.Write([]byte("ping\n")); err != nil {
		return false
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	return err == nil && line == "ping\n"
}

// TestProxyCutAndRestore: a cut closes the open connections and refuses new ones; a restore
// forwards again.
func TestProxyCutAndRestore(t *testing.T) {
	p, err := StartProxy(echoServer(t))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	open, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer open.Close()
	if !echoes(open) {
		t.Fatal("no echo through the proxy")
	}
	p.Cut()
	if echoes(open) {
		t.Error("a connection open before the cut still works")
	}
	if roundTrip(p.Addr()) {
		t.Error("a new connection works while cut")
	}
	p.Restore()
	if !roundTrip(p.Addr()) {
		t.Error("no echo after restore")
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if roundTrip(p.Addr()) {
		t.Error("a connection works after Close")
	}
}

// TestProxyCutWhileBusy: cuts and restores while connections come and go (run with -race).
func TestProxyCutWhileBusy(t *testing.T) {
	p, err := StartProxy(echoServer(t))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
					roundTrip(p.Addr())
				}
			}
		}()
	}
	for range 50 {
		p.Cut()
		time.Sleep(time.Millisecond)
		p.Restore()
		time.Sleep(time.Millisecond)
	}
	close(stop)
	wg.Wait()
	if !roundTrip(p.Addr()) {
		t.Error("no echo after the storm")
	}
}

// TestProxyToPostgres: a query through the proxy fails while it is cut and works again after.
func TestProxyToPostgres(t *testing.T) {
	dsn, cleanup, err := NewURL()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cleanup)
	p, proxied := NewProxy(t, dsn)
	if proxied == dsn {
		t.Fatalf("URL not rewritten: %s", proxied)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	query := func(c *pgx.Conn) error { var one int; return c.QueryRow(ctx, `SELECT 1`).Scan(&one) }
	c, err := pgx.Connect(ctx, proxied)
	if err != nil {
		t.Fatal(err)
	}
	if err := query(c); err != nil {
		t.Fatal(err)
	}
	p.Cut()
	if err := query(c); err == nil {
		t.Error("a query on a cut connection worked")
	}
	if _, err := pgx.Connect(ctx, proxied); err == nil {
		t.Error("connected while cut")
	}
	p.Restore()
	c, err = pgx.Connect(ctx, proxied)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	if err := query(c); err != nil {
		t.Fatal(err)
	}
}

func TestProxyURL(t *testing.T) {
	p := &Proxy{ln: fakeAddr("127.0.0.1:4242")}
	for dsn, want := range map[string]string{
		"postgres://u:p@db.example:5432/x?sslmode=disable": "postgres://u:p@127.0.0.1:4242/x?sslmode=disable",
		"host=db port=5433 user=u dbname=x":                "user=u dbname=x host=127.0.0.1 port=4242",
	} {
		if got := p.URL(dsn); got != want {
			t.Errorf("URL(%q) = %q, want %q", dsn, got, want)
		}
	}
}

type fakeAddr string

func (a fakeAddr) Accept() (net.Conn, error) { return nil, net.ErrClosed }
func (a fakeAddr) Close() error              { return nil }
func (a fakeAddr) Addr() net.Addr {
	ap, _ := net.ResolveTCPAddr("tcp", string(a))
	return ap
}
