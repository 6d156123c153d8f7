package jobs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/passport-idp/passport/internal/passport"
	"github.com/passport-idp/passport/internal/pgtest"
	"github.com/passport-idp/passport/internal/postgres"
)

var sealer = passport.NewSealer([32]byte{7})

func enqueueN(t *testing.T, db *postgres.DB, n int, channel string) {
	t.Helper()
	batch := make([]passport.Outgoing, 0, n)
	for i := 0; i < n; i++ {
		payload, err := sealer.Seal(passport.Content{Subject: "s", Text: fmt.Sprintf("message %d", i)})
		if err != nil {
			t.Fatal(err)
		}
		batch = append(batch, passport.Outgoing{Channel: channel, To: fmt.Sprintf("p%d@example.org", i), Kind: "test", Locale: "en", Payload: payload})
	}
	if err := db.Enqueue(context.Background(), batch...); err != nil {
		t.Fatal(err)
	}
}

// countingSender records every delivery.
type countingSender struct {
	mu    sync.Mutex
	seen  map[string]int
	total atomic.Int64
}

func (c *countingSender) Send(_ context.Context, m *passport.Message) error {
	time.Sleep(200 * time.Microsecond) // a little real work, so the workers interleave
	c.mu.Lock()
	c.seen[m.Text]++
	c.mu.Unlock()
	c.total.Add(1)
	return nil
}

func worker(db *postgres.DB, s passport.Sender) *Worker {
	return &Worker{DB: db, Senders: map[string]passport.Sender{passport.ChannelEmail: s}, Sealer: sealer,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Concurrency: 8, Lease: time.Minute, Poll: 20 * time.Millisecond}
}

// TestTwoWorkersDeliverEachMessageOnce: two workers on one database (two replicas) and 500
// queued messages: every message is delivered exactly once.
func TestTwoWorkersDeliverEachMessageOnce(t *testing.T) {
	db := pgtest.New(t)
	other, err := postgres.Open(context.Background(), db.Pool().Config().ConnString(), 10)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(other.Close)
	enqueueN(t, db, 500, passport.ChannelEmail)

	sender := &countingSender{seen: map[string]int{}}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for _, d := range []*postgres.DB{db, other} {
		wg.Add(1)
		go func() { defer wg.Done(); worker(d, sender).Run(ctx) }()
	}
	deadline := time.Now().Add(60 * time.Second)
	for sender.total.Load() < 500 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond) // a duplicate, if any, would land now
	cancel()
	wg.Wait()

	if len(sender.seen) != 500 || sender.total.Load() != 500 {
		t.Fatalf("delivered %d distinct, %d in all; want 500 and 500", len(sender.seen), sender.total.Load())
	}
	for text, n := range sender.seen {
		if n != 1 {
			t.Errorf("%s delivered %d times", text, n)
		}
	}
	var sent, withPayload int
	if err := db.Pool().QueryRow(context.Background(),
		`SELECT count(*) FILTER (WHERE status = 'sent'), count(*) FILTER (WHERE payload IS NOT NULL) FROM messages`).Scan(&sent, &withPayload); err != nil {
		t.Fatal(err)
	}
	if sent != 500 || withPayload != 0 {
		t.Errorf("status: %d sent, %d still holding content; want 500 and 0", sent, withPayload)
	}
}

type failingSender struct{ calls atomic.Int64 }

func (f *failingSender) Send(context.Context, *passport.Message) error {
	f.calls.Add(1)
	return errors.New("connection refused")
}

// TestFailingSenderRetriesWithBackoffThenFails: each failure waits longer; after the last
// attempt the message is failed and its content erased.
func TestFailingSenderRetriesWithBackoffThenFails(t *testing.T) {
	ctx := context.Background()
	db := pgtest.New(t)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	db.Now = func() time.Time { return now }
	enqueueN(t, db, 1, passport.ChannelEmail)
	if _, err := db.Pool().Exec(ctx, `UPDATE messages SET run_at = $1`, now); err != nil {
		t.Fatal(err)
	}
	sender := &failingSender{}
	w := worker(db, sender)
	var waits []time.Duration
	for attempt := 1; attempt <= 8; attempt++ {
		if n, err := w.RunOnce(ctx); err != nil || n != 1 {
			t.Fatalf("attempt %d: claimed %d, %v", attempt, n, err)
		}
		// Not due again before its backoff.
		if n, _ := w.RunOnce(ctx); n != 0 {
			t.Fatalf("attempt %d: retried at once", attempt)
		}
		var status string
		var runAt time.Time
		if err := db.Pool().QueryRow(ctx, `SELECT status, run_at FROM messages`).Scan(&status, &runAt); err != nil {
			t.Fatal(err)
		}
		if attempt < 8 {
			if status != "pending" {
				t.Fatalf("attempt %d: status %s", attempt, status)
			}
			waits = append(waits, runAt.Sub(now))
			now = runAt
		} else if status != "failed" {
			t.Fatalf("after the last attempt: status %s, want failed", status)
		}
	}
	for i := 1; i < len(waits); i++ {
		if waits[i] < waits[i-1] {
			t.Errorf("backoff shrank: %v", waits)
		}
	}
	if waits[0] != 15*time.Second || waits[len(waits)-1] <= waits[0] {
		t.Errorf("backoff: %v", waits)
	}
	if sender.calls.Load() != 8 {
		t.Errorf("sender called %d times, want 8", sender.calls.Load())
	}
	var payload []byte
	var lastErr string
	if err := db.Pool().QueryRow(ctx, `SELECT payload, last_error FROM messages`).Scan(&payload, &lastErr); err != nil {
		t.Fatal(err)
	}
	if payload != nil || lastErr != "connection refused" {
		t.Errorf("failed message: payload kept %v, last error %q", payload != nil, lastErr)
	}
}

// TestExpiredLeaseIsFenced: a worker whose lease ran out cannot record an outcome over the
// attempt that took the message over.
func TestExpiredLeaseIsFenced(t *testing.T) {
	ctx := context.Background()
	db := pgtest.New(t)
	now := time.Now()
	db.Now = func() time.Time { return now }
	enqueueN(t, db, 1, passport.ChannelEmail)
	first, err := db.ClaimMessages(ctx, 1, time.Minute)
	if err != nil || len(first) != 1 {
		t.Fatal(first, err)
	}
	now = now.Add(2 * time.Minute) // the first worker hangs past its lease
	second, err := db.ClaimMessages(ctx, 1, time.Minute)
	if err != nil || len(second) != 1 || second[0].Attempts != 2 {
		t.Fatalf("re-claim: %v %v", second, err)
	}
	if err := db.RetryMessage(ctx, first[0].ID, first[0].Attempts, "late failure", true); err != nil {
		t.Fatal(err)
	}
	if ok, err := db.FinishMessage(ctx, first[0].ID, first[0].Attempts); err != nil || ok {
		t.Fatalf("the stale worker's delivery record: applied %v, %v; want refused", ok, err)
	}
	if ok, err := db.FinishMessage(ctx, second[0].ID, second[0].Attempts); err != nil || !ok {
		t.Fatalf("the current worker's delivery record: applied %v, %v", ok, err)
	}
	// Repeating a record that applied (its answer lost with the connection) still says so.
	if ok, err := db.FinishMessage(ctx, second[0].ID, second[0].Attempts); err != nil || !ok {
		t.Fatalf("repeated record: applied %v, %v", ok, err)
	}
	var status string
	if err := db.Pool().QueryRow(ctx, `SELECT status FROM messages`).Scan(&status); err != nil || status != "sent" {
		t.Fatalf("status %q (%v): the stale worker's failure must not win", status, err)
	}
}

type nopSender struct{}

func (nopSender) Send(context.Context, *passport.Message) error { return nil }

// BenchmarkQueueThroughput measures messages delivered per second through PostgreSQL by one
// worker with a sender that does nothing: the queue's own cost (claim, decrypt, finish).
func BenchmarkQueueThroughput(b *testing.B) {
	db := pgtest.New(b)
	w := worker(db, nopSender{})
	w.Concurrency = 32
	ctx := context.Background()
	b.ResetTimer()
	for done := 0; done < b.N; {
		b.StopTimer()
		n := min(b.N-done, 1000)
		batch := make([]passport.Outgoing, n)
		for i := range batch {
			payload, _ := sealer.Seal(passport.Content{Text: "x"})
			batch[i] = passport.Outgoing{Channel: passport.ChannelEmail, To: "a@example.org", Kind: "bench", Locale: "en", Payload: payload}
		}
		if err := db.Enqueue(ctx, batch...); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		for got := 0; got < n; {
			k, err := w.RunOnce(ctx)
			if err != nil {
				b.Fatal(err)
			}
			got += k
		}
		done += n
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}
