package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/passport-idp/passport/internal/passport"
)

// Photo is a stored, re-encoded photo.
type Photo struct {
	ID          string
	AccountID   string
	Content     []byte
	ContentType string
	Width       int
	Height      int
	CreatedAt   time.Time
}

// SetPhoto replaces the account's photo and returns the new photo's id. The old photo's URL
// stops working.
func (db *DB) SetPhoto(ctx context.Context, p *Photo) error {
	return db.tx(ctx, func(tx pgx.Tx) error {
		now := db.now()
		if err := lockAccount(ctx, tx, p.AccountID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM photos WHERE account_id = $1`, p.AccountID); err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, `INSERT INTO photos (account_id, content, content_type, width, height, created_at)
			VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
			p.AccountID, p.Content, p.ContentType, p.Width, p.Height, now).Scan(&p.ID); err != nil {
			return err
		}
		p.CreatedAt = now
		_, err := tx.Exec(ctx, `UPDATE accounts SET updated_at = $2 WHERE id = $1`, p.AccountID, now)
		return err
	})
}

// DeletePhoto removes the account's photo. Returns ENOTFOUND when it has none.
func (db *DB) DeletePhoto(ctx context.Context, accountID string) error {
	return db.tx(ctx, func(tx pgx.Tx) error {
		if err := lockAccount(ctx, tx, accountID); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `DELETE FROM photos WHERE account_id = $1`, accountID)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return passport.Errorf(passport.ENOTFOUND, "There is no photo to delete.")
		}
		_, err = tx.Exec(ctx, `UPDATE accounts SET updated_at = $2 WHERE id = $1`, accountID, db.now())
		return err
	})
}

// Photo returns the photo with the id, of an active account. Returns ENOTFOUND otherwise.
func (db *DB) Photo(ctx context.Context, id string) (*Photo, error) {
	if !isUUID(id) {
		return nil, passport.Errorf(passport.ENOTFOUND, "No such photo.")
	}
	rows, _ := db.pool.Query(ctx, `SELECT p.id, p.account_id, p.content, p.content_type, p.width, p.height, p.created_at
		FROM photos p JOIN accounts a ON a.id = p.account_id WHERE p.id = $1 AND a.status = 'active'`, id)
	p, err := pgx.CollectExactlyOneRow(rows, pgx.RowToAddrOfStructByName[Photo])
	return p, mapErr(err, passport.Errorf(passport.ENOTFOUND, "No such photo."))
}

// lockAccount serialises changes to one account (photo replaced while its publicity
// changes, two uploads at once) on the account's row.
func lockAccount(ctx context.Context, tx pgx.Tx, accountID string) error {
	var id string
	err := tx.QueryRow(ctx, `SELECT id FROM accounts WHERE id = $1 FOR UPDATE`, accountID).Scan(&id)
	return mapErr(err, passport.Errorf(passport.ENOTFOUND, "No such account."))
}
