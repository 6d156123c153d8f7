package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/passport-idp/passport/internal/passport"
)

// notifyChannel is the LISTEN/NOTIFY channel that wakes workers when a message is queued.
const notifyChannel = "passport_messages"

// enqueue inserts messages in the caller's transaction and wakes the workers when it commits.
func enqueue(ctx context.Context, tx pgx.Tx, now time.Time, msgs ...passport.Outgoing) error {
	_, err := enqueueIDs(ctx, tx, now, msgs...)
	return err
}

// enqueueIDs is enqueue that returns the messages' ids, in order.
func enqueueIDs(ctx context.Context, tx pgx.Tx, now time.Time, msgs ...passport.Outgoing) ([]string, error) {
	ids := make([]string, 0, len(msgs))
	for _, m := range msgs {
		var account *string
		if m.AccountID != "" {
			account = &m.AccountID
		}
		runAt := any(now)
		if m.Hold {
			runAt = "infinity"
		}
		var id string
		if err := tx.QueryRow(ctx, `INSERT INTO messages (channel, recipient, kind, locale, account_id, payload, created_at, run_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8::timestamptz) RETURNING id`, m.Channel, m.To, m.Kind, m.Locale, account, m.Payload, now,
			runAt).Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	if len(msgs) > 0 {
		if _, err := tx.Exec(ctx, `SELECT pg_notify($1, '')`, notifyChannel); err != nil {
			return nil, err
		}
	}
	return ids, nil
}

// ofDeletedAccount is true for a message row of a purged account: once such a message (the
// final "account deleted" email) is done, its recipient address is erased too.
const ofDeletedAccount = `EXISTS (SELECT 1 FROM accounts a WHERE a.id = messages.account_id AND a.status = 'deleted')`

// Enqueue queues messages on their own (when no other change causes them).
func (db *DB) Enqueue(ctx context.Context, msgs ...passport.Outgoing) error {
	return db.tx(ctx, func(tx pgx.Tx) error { return enqueue(ctx, tx, db.now(), msgs...) })
}

// Claimed is a message a worker holds a lease on.
type Claimed struct {
	ID       string
	Channel  string
	To       string
	Kind     string
	Payload  []byte
	Attempts int
}

// ClaimMessages leases up to n due messages to the caller in one statement: pending ones
// whose time has come, and ones whose previous lease ran out (a worker died mid-send).
// SKIP LOCKED lets every replica claim at once without taking each other's rows. Each
// claim increments attempts, which then fences the finishing update.
func (db *DB) ClaimMessages(ctx context.Context, n int, lease time.Duration) ([]Claimed, error) {
	now := db.now()
	rows, _ := db.pool.Query(ctx, `
		UPDATE messages SET status = 'sending', attempts = attempts + 1, leased_until = $3
		WHERE id IN (
			SELECT id FROM messages
			WHERE (status = 'pending' AND run_at <= $1) OR (status = 'sending' AND leased_until < $1)
			ORDER BY run_at
			LIMIT $2
			FOR UPDATE SKIP LOCKED)
		RETURNING id, channel, recipient AS to, kind, payload, attempts`, now, n, now.Add(lease))
	return pgx.CollectRows(rows, pgx.RowToStructByName[Claimed])
}

// FinishMessage records a delivery and reports whether this attempt's delivery is recorded.
// The update is fenced: it applies only while the message is still this attempt's (a worker
// whose lease ran out and whose message another worker claimed cannot overwrite the next
// attempt's outcome); then it reports false, with no error. It reports true when this
// attempt's record had already applied, so a caller may repeat it after an error that left
// the outcome unknown (a connection lost before the answer). The content is erased: nothing
// of a sent message's text stays at rest.
func (db *DB) FinishMessage(ctx context.Context, id string, attempt int) (bool, error) {
	// Both subqueries see the row as it was before the update: "already sent by this
	// attempt" is a repeated record, not another worker's.
	var recorded bool
	err := db.pool.QueryRow(ctx, `
		WITH finished AS (
			UPDATE messages SET status = 'sent', sent_at = $3, payload = NULL, leased_until = NULL, last_error = '',
				recipient = CASE WHEN `+ofDeletedAccount+` THEN '' ELSE recipient END
			WHERE id = $1 AND attempts = $2 AND status = 'sending'
			RETURNING 1)
		SELECT EXISTS (SELECT 1 FROM finished)
			OR EXISTS (SELECT 1 FROM messages WHERE id = $1 AND attempts = $2 AND status = 'sent')`,
		id, attempt, db.now()).Scan(&recorded)
	return recorded, err
}

// RetryMessage records a failed attempt: the message waits for its backoff, or is marked
// failed (and its content erased) when the attempts are spent or the error is permanent.
// Fenced like FinishMessage: it does nothing (and returns nil) once the message is no
// longer this attempt's, so repeating it after an error is safe.
func (db *DB) RetryMessage(ctx context.Context, id string, attempt int, cause string, permanent bool) error {
	now := db.now()
	_, err := db.pool.Exec(ctx, `
		UPDATE messages SET
			status = CASE WHEN $5 OR attempts >= max_attempts THEN 'failed' ELSE 'pending' END,
			payload = CASE WHEN $5 OR attempts >= max_attempts THEN NULL ELSE payload END,
			recipient = CASE WHEN ($5 OR attempts >= max_attempts) AND `+ofDeletedAccount+` THEN '' ELSE recipient END,
			run_at = $3, leased_until = NULL,
			-- A provider's error often quotes the address: none for a deleted account.
			last_error = CASE WHEN `+ofDeletedAccount+` THEN 'delivery failed' ELSE left($4, 500) END
		WHERE id = $1 AND attempts = $2 AND status = 'sending'`,
		id, attempt, now.Add(passport.Backoff(attempt)), cause, permanent)
	return err
}

// WaitForMessages blocks until a message is queued (NOTIFY) or ctx ends; it holds one
// connection of its own.
func (db *DB) WaitForMessages(ctx context.Context, wake chan<- struct{}) error {
	return db.Listen(ctx, notifyChannel, nil, func(string) {
		select {
		case wake <- struct{}{}:
		default:
		}
	})
}

// ClientsChannel is notified (by a trigger) with a client's id whenever it changes.
const ClientsChannel = "passport_clients"

// Listen calls fn with the payload of every NOTIFY on channel until ctx ends or the
// connection fails; it holds one connection of its own meanwhile. ready (when not nil) is
// called once the connection listens.
func (db *DB) Listen(ctx context.Context, channel string, ready func(), fn func(payload string)) error {
	// A connection of its own, outside the pool: a listener holds it for ever, and the
	// pool's connections are for requests.
	conn, err := pgx.ConnectConfig(ctx, db.pool.Config().ConnConfig.Copy())
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{channel}.Sanitize()); err != nil {
		return err
	}
	if ready != nil {
		ready()
	}
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		fn(n.Payload)
	}
}

// DevMessage is what the development sink delivered.
type DevMessage struct {
	ID        string
	Channel   string
	Recipient string
	Kind      string
	Subject   string
	Body      string
	CreatedAt time.Time
}

// SaveDevMessage keeps a message delivered to the development sink.
func (db *DB) SaveDevMessage(ctx context.Context, m DevMessage) error {
	_, err := db.pool.Exec(ctx, `INSERT INTO dev_messages (id, channel, recipient, kind, subject, body, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (id) DO NOTHING`, m.ID, m.Channel, m.Recipient, m.Kind, m.Subject, m.Body, db.now())
	return err
}

// DevMessages lists the last messages of the development sink.
func (db *DB) DevMessages(ctx context.Context, limit int) ([]DevMessage, error) {
	rows, _ := db.pool.Query(ctx, `SELECT id, channel, recipient, kind, subject, body, created_at FROM dev_messages
		ORDER BY created_at DESC LIMIT $1`, limit)
	return pgx.CollectRows(rows, pgx.RowToStructByName[DevMessage])
}
