// Package jobs runs Passport's background work on every replica: the message queue worker
// and periodic clean-ups. Work is shared through PostgreSQL (SKIP LOCKED claims with leases),
// never through memory, so any number of replicas may run it at once.
package jobs

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/passport-idp/passport/internal/passport"
	"github.com/passport-idp/passport/internal/postgres"
)

// Worker delivers queued messages.
type Worker struct {
	DB      *postgres.DB
	Senders map[string]passport.Sender // by channel
	Sealer  passport.Sealer
	Log     *slog.Logger
	// Concurrency is how many messages this replica sends at once.
	Concurrency int
	// Lease is how long a claim lasts. A send is cut off well before it ends, so no other
	// replica can claim a message while it is still being sent.
	Lease time.Duration
	// Poll is how often an idle worker looks for due messages (retries) besides being woken
	// by NOTIFY when a message is queued.
	Poll time.Duration
}

// Run delivers messages until ctx ends.
func (w *Worker) Run(ctx context.Context) {
	wake := make(chan struct{}, 1)
	go func() {
		for ctx.Err() == nil {
			if err := w.DB.WaitForMessages(ctx, wake); err != nil && ctx.Err() == nil {
				w.Log.Warn("message queue: listening", slog.String("error", err.Error()))
				time.Sleep(time.Second)
			}
		}
	}()
	for ctx.Err() == nil {
		n, err := w.RunOnce(ctx)
		if err != nil && ctx.Err() == nil {
			w.Log.Warn("message queue", slog.String("error", err.Error()))
		}
		if n == w.Concurrency && err == nil {
			continue // probably more waiting
		}
		select {
		case <-ctx.Done():
		case <-wake:
		case <-time.After(w.Poll):
		}
	}
}

// RunOnce claims up to Concurrency due messages, sends them in parallel and records each
// outcome. It returns how many it claimed.
func (w *Worker) RunOnce(ctx context.Context) (int, error) {
	// Taken before the claim, so the lease this replica counts on ends no later than the one
	// the database holds.
	claimedAt := time.Now()
	claimed, err := w.DB.ClaimMessages(ctx, w.Concurrency, w.Lease)
	if err != nil {
		return 0, err
	}
	var wg sync.WaitGroup
	for _, c := range claimed {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w.deliver(ctx, c, claimedAt.Add(w.Lease))
		}()
	}
	wg.Wait()
	return len(claimed), nil
}

// Recording an outcome is retried, waiting recordBackoff, then twice as long each time up
// to recordBackoffMax, each try cut off after recordTry.
const (
	recordBackoff    = 100 * time.Millisecond
	recordBackoffMax = 2 * time.Second
	recordTry        = 5 * time.Second
)

func (w *Worker) deliver(ctx context.Context, c postgres.Claimed, leaseEnd time.Time) {
	// Recording must happen even when the server is shutting down mid-send.
	done := context.WithoutCancel(ctx)
	// An outcome that could not be recorded costs a second send once the lease ends (another
	// replica claims the message again), so the record is retried well past the lease: until
	// another lease has gone by. Past the lease it still applies as long as no other replica
	// has claimed the message, since it is fenced by the attempt number, not by the clock; and
	// once one has, the fence refuses it and retrying stops. The lease is not extended while
	// retrying: an extension cannot be written while the database is unreachable either, and
	// once it answers, the record is one statement as cheap as an extension would be. A
	// replica shutting down retries as long: its supervisor's kill is the limit.
	recordUntil := leaseEnd.Add(w.Lease)
	fail := func(cause error) {
		permanent := passport.IsPermanent(cause)
		w.Log.Warn("message not delivered", slog.String("id", c.ID), slog.String("channel", c.Channel),
			slog.String("kind", c.Kind), slog.Int("attempt", c.Attempts), slog.Bool("permanent", permanent),
			slog.String("error", cause.Error()))
		if err := retry(done, recordUntil, func(ctx context.Context) error {
			return w.DB.RetryMessage(ctx, c.ID, c.Attempts, cause.Error(), permanent)
		}); err != nil {
			w.Log.Error("message queue: gave up recording a failure; the message is retried when its lease ends",
				slog.String("id", c.ID), slog.Int("attempt", c.Attempts), slog.String("error", err.Error()))
		}
	}
	content, err := w.Sealer.Open(c.Payload)
	if err != nil {
		fail(&passport.PermanentError{Err: err})
		return
	}
	sender := w.Senders[c.Channel]
	if sender == nil {
		fail(&passport.PermanentError{Err: errors.New("no sender for channel " + c.Channel)})
		return
	}
	sctx, cancel := context.WithTimeout(ctx, w.Lease/2)
	defer cancel()
	m := &passport.Message{ID: c.ID, Channel: c.Channel, To: c.To, Kind: c.Kind, Attempts: c.Attempts, Content: content}
	if err := sender.Send(sctx, m); err != nil {
		fail(err)
		return
	}
	// Sent: from here until the record applies, a lost lease means the message goes out twice.
	var recorded bool
	if err := retry(done, recordUntil, func(ctx context.Context) (err error) {
		recorded, err = w.DB.FinishMessage(ctx, c.ID, c.Attempts)
		return err
	}); err != nil {
		w.Log.Error("message queue: gave up recording a delivery; the message will be sent again",
			slog.String("id", c.ID), slog.Int("attempt", c.Attempts), slog.String("error", err.Error()))
		return
	}
	if !recorded {
		w.Log.Warn("message queue: delivered after another replica took the message over; it is sent twice",
			slog.String("id", c.ID), slog.Int("attempt", c.Attempts))
	}
}

// retry calls fn until it returns nil or the next try would start after until, and returns
// fn's last error then. fn must be safe to repeat (the queue's fenced updates are).
func retry(ctx context.Context, until time.Time, fn func(context.Context) error) error {
	wait := recordBackoff
	for {
		tctx, cancel := context.WithTimeout(ctx, recordTry)
		err := fn(tctx)
		cancel()
		if err == nil || ctx.Err() != nil || time.Now().Add(wait).After(until) {
			return err
		}
		time.Sleep(wait)
		wait = min(2*wait, recordBackoffMax)
	}
}

// DevSink is the development "delivery": it keeps each message in PostgreSQL, where
// /dev/messages shows it, and logs that it is there. Never use it in production: the
// database then keeps one-time codes and links readable.
type DevSink struct {
	DB  *postgres.DB
	Log *slog.Logger
}

// Send stores the message and logs where to read it. The log line names the message, not
// its recipient, and carries no text, code or subject (a subject may hold a code): secrets
// never go to the log.
func (d *DevSink) Send(ctx context.Context, m *passport.Message) error {
	body := m.Text
	if m.Channel == passport.ChannelCall {
		body = "Incoming call; the caller's number ends in " + m.Code + ".\n\n" + m.Text
	}
	if err := d.DB.SaveDevMessage(ctx, postgres.DevMessage{ID: m.ID, Channel: m.Channel, Recipient: m.To, Kind: m.Kind,
		Subject: m.Subject, Body: body}); err != nil {
		return err
	}
	d.Log.Info("dev sink: message kept, read it at /dev/messages", slog.String("id", m.ID),
		slog.String("channel", m.Channel), slog.String("kind", m.Kind))
	return nil
}
