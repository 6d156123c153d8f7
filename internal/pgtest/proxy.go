package pgtest

import (
	"errors"
	"io"
	"net"
	"net/url"
	"strings"
	"sync"
	"testing"
)

// Proxy is a TCP proxy in front of PostgreSQL that a test can cut and restore, to see what
// the code does when the database goes away and comes back, without stopping the server
// every test package shares.
type Proxy struct {
	target string
	ln     net.Listener

	mu     sync.Mutex
	cut    bool
	closed bool
	conns  map[net.Conn]struct{} // both ends of every forwarded connection
	wg     sync.WaitGroup
}

// StartProxy listens on 127.0.0.1:0 and forwards every connection to target (host:port).
func StartProxy(target string) (*Proxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &Proxy{target: target, ln: ln, conns: map[net.Conn]struct{}{}}
	p.wg.Add(1)
	go p.accept()
	return p, nil
}

// NewProxy starts a proxy to the host:port of dsn (a postgres:// URL, as NewURL gives), closes
// it when the test ends, and returns the proxy and dsn rewritten to go through it.
func NewProxy(t testing.TB, dsn string) (*Proxy, string) {
	t.Helper()
	target, err := hostPort(dsn)
	if err != nil {
		t.Fatal(err)
	}
	p, err := StartProxy(target)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close() })
	return p, p.URL(dsn)
}

// Addr is the host:port the proxy listens on.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// URL returns dsn with its host and port replaced by Addr. dsn is a URL
// (postgres://user:password@host:port/db?…) or a keyword/value string without quoted values.
func (p *Proxy) URL(dsn string) string {
	if u, err := url.Parse(dsn); err == nil && u.Scheme != "" {
		u.Host = p.Addr()
		return u.String()
	}
	host, port, _ := net.SplitHostPort(p.Addr())
	var kept []string
	for _, f := range strings.Fields(dsn) {
		if k, _, _ := strings.Cut(f, "="); k != "host" && k != "hostaddr" && k != "port" {
			kept = append(kept, f)
		}
	}
	return strings.Join(append(kept, "host="+host, "port="+port), " ")
}

// Cut closes every open connection and refuses new ones (accepts and closes them at once)
// until Restore: to a client, the database has gone away.
func (p *Proxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = true
	p.closeAll()
}

// Restore makes the proxy forward new connections again.
func (p *Proxy) Restore() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = false
}

// Close stops listening, closes every connection and waits for the proxy's goroutines.
func (p *Proxy) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	err := p.ln.Close()
	p.closeAll()
	p.mu.Unlock()
	p.wg.Wait()
	return err
}

// closeAll closes every tracked connection; p.mu is held.
func (p *Proxy) closeAll() {
	for c := range p.conns {
		_ = c.Close()
		delete(p.conns, c)
	}
}

// track registers c unless the proxy is cut or closed, in which case it closes c and
// returns false. Checking and registering under one lock is what makes Cut race-free: a
// connection is either registered before Cut (and closed by it) or refused after.
func (p *Proxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cut || p.closed {
		_ = c.Close()
		return false
	}
	p.conns[c] = struct{}{}
	return true
}

func (p *Proxy) untrack(conns ...net.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range conns {
		_ = c.Close()
		delete(p.conns, c)
	}
}

func (p *Proxy) accept() {
	defer p.wg.Done()
	for {
		client, err := p.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		if !p.track(client) {
			continue
		}
		p.wg.Add(1)
		go p.forward(client)
	}
}

func (p *Proxy) forward(client net.Conn) {
	defer p.wg.Done()
	server, err := net.Dial("tcp", p.target)
	if err != nil {
		p.untrack(client)
		return
	}
	// Cut may have closed client while dialling: then server is refused too.
	p.mu.Lock()
	_, alive := p.conns[client]
	if alive && !p.cut && !p.closed {
		p.conns[server] = struct{}{}
	} else {
		alive = false
	}
	p.mu.Unlock()
	if !alive {
		_ = server.Close()
		p.untrack(client)
		return
	}
	done := make(chan struct{}, 2)
	pipe := func(dst, src net.Conn) {
		_, _ = io.Copy(dst, src)
		// One direction ended: end both, as a dropped connection would.
		p.untrack(client, server)
		done <- struct{}{}
	}
	go pipe(server, client)
	go pipe(client, server)
	<-done
	<-done
}

// hostPort is the host:port of a postgres:// URL, 5432 when it names no port.
func hostPort(dsn string) (string, error) {
	u, err := url.Parse(dsn)
	if err != nil || u.Scheme == "" {
		return "", errors.New("pgtest: proxy needs a postgres:// URL")
	}
	host, port := u.Hostname(), u.Port()
	if host == "" {
		host = "localhost"
	}
	if port == "" {
		port = "5432"
	}
	return net.JoinHostPort(host, port), nil
}
