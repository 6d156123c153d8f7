package jobs

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/passport-idp/passport/internal/passport"
	"github.com/passport-idp/passport/internal/pgtest"
	"github.com/passport-idp/passport/internal/postgres"
)

// cuttingSender "accepts" every message, and on the first delivery of the victim cuts the
// database away right after accepting it, restoring it a moment later: the database goes
// away between the provider's acceptance and the record of the delivery.
type cuttingSender struct {
	proxy   *pgtest.Proxy
	victim  string
	outage  time.Duration
	mu      sync.Mutex
	seen    map[string]int
	total   int
	cutDone chan struct{}
}

func (c *cuttingSender) Send(_ context.Context, m *passport.Message) error {
	time.Sleep(time.Millisecond)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seen[m.Text]++
	c.total++
	if m.Text == c.victim && c.seen[m.Text] == 1 {
		c.proxy.Cut()
		time.AfterFunc(c.outage, func() { c.proxy.Restore(); close(c.cutDone) })
	}
	return nil
}

func (c *cuttingSender) delivered() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.total
}

// lockedBuffer collects the workers' log lines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestDatabaseLostAfterAcceptanceDeliversOnce: two replicas, each with its own pool through
// a proxy, deliver queued messages; right after the provider accepts one of them the database
// goes away for a second (every connection of both replicas is cut) and comes back. The
// delivery records are retried until they apply, so when the lease has long run out every
// message has been sent exactly once and is recorded as sent.
func TestDatabaseLostAfterAcceptanceDeliversOnce(t *testing.T) {
	const (
		n      = 20
		lease  = 4 * time.Second
		outage = time.Second
	)
	ctx := context.Background()
	db := pgtest.New(t) // direct, to queue and to check
	proxy, dsn := pgtest.NewProxy(t, db.Pool().Config().ConnString())
	var replicas []*postgres.DB
	for range 2 {
		r, err := postgres.Open(ctx, dsn, 10)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(r.Close)
		replicas = append(replicas, r)
	}
	enqueueN(t, db, n, passport.ChannelEmail)

	sender := &cuttingSender{proxy: proxy, victim: "message 7", outage: outage, seen: map[string]int{},
		cutDone: make(chan struct{})}
	logs := &lockedBuffer{}
	wctx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for _, r := range replicas {
		w := worker(r, sender)
		w.Lease = lease
		w.Log = slog.New(slog.NewTextHandler(logs, nil))
		wg.Add(1)
		go func() { defer wg.Done(); w.Run(wctx) }()
	}
	deadline := time.Now().Add(30 * time.Second)
	for sender.delivered() < n && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	select {
	case <-sender.cutDone:
	case <-time.After(10 * time.Second):
		t.Fatal("the victim was never sent: no cut happened")
	}
	// Any message whose delivery went unrecorded is claimed again once its lease runs out.
	time.Sleep(lease + time.Second)
	stop()
	wg.Wait()

	sender.mu.Lock()
	defer sender.mu.Unlock()
	if len(sender.seen) != n || sender.total != n {
		t.Errorf("delivered %d distinct, %d in all; want %d and %d", len(sender.seen), sender.total, n, n)
	}
	for text, k := range sender.seen {
		if k != 1 {
			t.Errorf("%s delivered %d times", text, k)
		}
	}
	var sent, withPayload int
	if err := db.Pool().QueryRow(ctx, `SELECT count(*) FILTER (WHERE status = 'sent'),
			count(*) FILTER (WHERE payload IS NOT NULL) FROM messages`).Scan(&sent, &withPayload); err != nil {
		t.Fatal(err)
	}
	if sent != n || withPayload != 0 {
		t.Errorf("%d sent, %d still holding content; want %d and 0", sent, withPayload, n)
	}
	if strings.Contains(logs.String(), "level=ERROR") {
		t.Error("a worker gave up recording an outcome")
	}
	if t.Failed() {
		t.Logf("worker log:\n%s", logs.String())
	}
}

// TestRecordRetryStopsAtItsBound: a record that keeps failing is tried with a growing wait
// until the next try would start past the bound, and its last error is returned; one that
// comes through is not tried again.
func TestRecordRetryStopsAtItsBound(t *testing.T) {
	ctx := context.Background()
	start := time.Now()
	tries := 0
	err := retry(ctx, start.Add(time.Second), func(context.Context) error { tries++; return errors.New("unreachable") })
	// Tries at 0, 0.1, 0.3 and 0.7 s; the next would start at 1.5 s.
	if err == nil || tries != 4 {
		t.Errorf("gave up after %d tries with %v; want 4 tries and the error", tries, err)
	}
	if took := time.Since(start); took < 700*time.Millisecond || took > 1500*time.Millisecond {
		t.Errorf("gave up after %v", took)
	}
	tries = 0
	err = retry(ctx, time.Now().Add(time.Minute), func(context.Context) error {
		if tries++; tries < 3 {
			return errors.New("unreachable")
		}
		return nil
	})
	if err != nil || tries != 3 {
		t.Errorf("%d tries, %v; want 3 and nil", tries, err)
	}
}
