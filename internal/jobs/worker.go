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
	claimed, err := w.DB.ClaimMessages(ctx, w.Concurrency, w.Lease)
	if err != nil {
		return 0, err
	}
	var wg sync.WaitGroup
	for _, c := range claimed {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w.deliver(ctx, c)
		}()
	}
	wg.Wait()
	return len(claimed), nil
}

func (w *Worker) deliver(ctx context.Context, c postgres.Claimed) {
	// Finishing must happen even when the server is shutting down mid-send.
	done := context.WithoutCancel(ctx)
	fail := func(err error) {
		permanent := passport.IsPermanent(err)
		w.Log.Warn("message not delivered", slog.String("id", c.ID), slog.String("channel", c.Channel),
			slog.String("kind", c.Kind), slog.Int("attempt", c.Attempts), slog.Bool("permanent", permanent),
			slog.String("error", err.Error()))
		if err := w.DB.RetryMessage(done, c.ID, c.Attempts, err.Error(), permanent); err != nil {
			w.Log.Error("message queue: recording a failure", slog.String("error", err.Error()))
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
	if err := w.DB.FinishMessage(done, c.ID, c.Attempts); err != nil {
		w.Log.Error("message queue: recording a delivery", slog.String("error", err.Error()))
	}
}

// DevSink is the development "delivery": it keeps each message in PostgreSQL, where
// /dev/messages shows it, and writes it to the log. Never use it in production: the log
// then holds one-time codes.
type DevSink struct {
	DB  *postgres.DB
	Log *slog.Logger
}

// Send stores and logs the message.
func (d *DevSink) Send(ctx context.Context, m *passport.Message) error {
	d.Log.Info("dev sink: message", slog.String("channel", m.Channel), slog.String("to", m.To),
		slog.String("kind", m.Kind), slog.String("subject", m.Subject), slog.String("text", m.Text),
		slog.String("code", m.Code))
	body := m.Text
	if m.Channel == passport.ChannelCall {
		body = "Incoming call; the caller's number ends in " + m.Code + ".\n\n" + m.Text
	}
	return d.DB.SaveDevMessage(ctx, postgres.DevMessage{ID: m.ID, Channel: m.Channel, Recipient: m.To, Kind: m.Kind,
		Subject: m.Subject, Body: body})
}
