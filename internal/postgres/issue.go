package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/passport-idp/passport/internal/passport"
)

// Accounts issued by organisations (SPEC §6): a member created with its membership, issued
// credentials with their message and delivery status, the two-factor reset, and the
// credential message templates.

// NewIssue is an issuing of credentials to store.
type NewIssue struct {
	AccountID string // filled in by CreateIssuedMember
	OrgID     string // "" when a service administrator acts outside any organisation
	IssuedBy  string // the administrator's account id, "" for a client or the system
	Hash      string // the new password's hash
	Generated bool
	Channel   string
	Template  string
	ExpiresAt time.Time
	// Message carries the login details (nil for the channel none).
	Message *passport.Outgoing
}

// CredentialIssue is one issuing of credentials with its delivery status.
type CredentialIssue struct {
	ID        string
	AccountID string
	OrgID     string
	Channel   string
	Template  string
	ExpiresAt time.Time
	CreatedAt time.Time
	VoidedAt  *time.Time
	// MessageStatus is the message's status (pending, sending, sent, failed), "" without
	// one; MessageError the last delivery error.
	MessageStatus string
	MessageError  string
	SentAt        *time.Time
}

// CreateIssuedMember creates an account issued by an organisation, its managed membership
// (primary, as the account's first) and, when issue is given, its credentials, all in one
// transaction, recording account.created and member.added (and credentials.issued).
// Returns a field error on "login" when the login is taken, on "roles" for a role outside
// the catalogue; nothing is written then.
func (db *DB) CreateIssuedMember(ctx context.Context, a *passport.Account, m NewMember, issue *NewIssue) (string, error) {
	if !isUUID(m.OrgID) {
		return "", orgNotFound()
	}
	var issueID string
	err := db.tx(ctx, func(tx pgx.Tx) error {
		now := db.now()
		if err := checkRoles(ctx, tx, m.OrgID, m.Roles); err != nil {
			return err
		}
		if err := createAccount(ctx, tx, now, a); err != nil {
			return err
		}
		if err := record(ctx, tx, now, passport.Event{Type: passport.EventAccountCreated, AccountID: a.ID, OrgID: m.OrgID,
			Details: map[string]any{"registration_method": a.RegistrationMethod}}); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `
			INSERT INTO memberships (account_id, org_id, roles, position, managed, is_primary, created_by, created_at)
			VALUES ($1, $2, $3, $4, true, true, $5, $6)`,
			a.ID, m.OrgID, passport.NonNil(m.Roles), m.Position, nullUUID(m.CreatedBy), now); err != nil {
			return err
		}
		if err := record(ctx, tx, now, passport.Event{Type: passport.EventMemberAdded, AccountID: a.ID, OrgID: m.OrgID,
			Details: map[string]any{"roles": passport.NonNil(m.Roles), "position": m.Position, "managed": true}}); err != nil {
			return err
		}
		if issue == nil {
			return nil
		}
		issue.AccountID = a.ID
		var err error
		issueID, err = issueCredentials(ctx, tx, now, *issue)
		return err
	})
	return issueID, err
}

// IssueCredentials gives the account a new temporary password and returns the issue's id.
// In one transaction it sets the password and its expiry, requires a password change at
// the next sign-in, ends every session and revokes every token, voids the previous issue
// (cancelling its message if it still waits in the queue), queues the login details and
// records credentials.issued. Returns ENOTFOUND when there is no such account.
func (db *DB) IssueCredentials(ctx context.Context, in NewIssue) (string, error) {
	if !isUUID(in.AccountID) {
		return "", passport.Errorf(passport.ENOTFOUND, "No such account.")
	}
	var id string
	err := db.tx(ctx, func(tx pgx.Tx) error {
		if err := lockAccount(ctx, tx, in.AccountID); err != nil {
			return err
		}
		var err error
		id, err = issueCredentials(ctx, tx, db.now(), in)
		return err
	})
	return id, err
}

// withAction is the SQL of the account's required actions with the one in param added,
// unless it is there already (the order of the list stays as it was).
func withAction(param string) string {
	return `CASE WHEN ` + param + `::text = ANY (required_actions) THEN required_actions ELSE required_actions || ` + param + `::text END`
}

func issueCredentials(ctx context.Context, tx pgx.Tx, now time.Time, in NewIssue) (string, error) {
	tag, err := tx.Exec(ctx, `
		UPDATE accounts SET password_hash = $2, password_expires_at = $3, updated_at = $4,
			required_actions = `+withAction("$5")+`
		WHERE id = $1 AND status <> 'deleted'`,
		in.AccountID, in.Hash, in.ExpiresAt, now, passport.ActionChangePassword)
	if err != nil {
		return "", err
	}
	if tag.RowsAffected() == 0 {
		return "", passport.Errorf(passport.ENOTFOUND, "No such account.")
	}
	// Whoever holds a session or a token made with the old password loses it.
	if err := signOutEverywhere(ctx, tx, in.AccountID, now); err != nil {
		return "", err
	}
	// The previous issue is void: its password is gone already (replaced above); its
	// message must not deliver a dead password afterwards, nor keep it readable at rest.
	// That holds for a message a worker is sending right now too: its outcome can no
	// longer be recorded (FinishMessage and RetryMessage are fenced on 'sending'), so a
	// passing failure does not queue the dead password again.
	if err := voidIssued(ctx, tx, in.AccountID, now); err != nil {
		return "", err
	}
	var messageID *string
	if in.Message != nil {
		m := *in.Message
		m.AccountID = in.AccountID
		ids, err := enqueueIDs(ctx, tx, now, m)
		if err != nil {
			return "", err
		}
		messageID = &ids[0]
	}
	var id string
	if err := tx.QueryRow(ctx, `
		INSERT INTO credential_issues (account_id, org_id, issued_by, channel, template, message_id, expires_at, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`,
		in.AccountID, nullUUID(in.OrgID), nullUUID(in.IssuedBy), in.Channel, in.Template, messageID, in.ExpiresAt, now).Scan(&id); err != nil {
		return "", err
	}
	return id, record(ctx, tx, now, passport.Event{Type: passport.EventCredentialsIssued, AccountID: in.AccountID, OrgID: in.OrgID,
		Details: map[string]any{"channel": in.Channel, "template": in.Template, "generated": in.Generated}})
}

// CredentialIssues returns the account's latest issues, newest first, with their
// message's delivery status; orgID "" for every organisation's (a service administrator).
func (db *DB) CredentialIssues(ctx context.Context, accountID, orgID string, limit int) ([]CredentialIssue, error) {
	if !isUUID(accountID) {
		return []CredentialIssue{}, nil
	}
	rows, _ := db.pool.Query(ctx, `
		SELECT i.id, i.account_id, coalesce(i.org_id::text, '') AS org_id, i.channel, i.template, i.expires_at,
			i.created_at, i.voided_at, coalesce(m.status, '') AS message_status, coalesce(m.last_error, '') AS message_error,
			m.sent_at
		FROM credential_issues i LEFT JOIN messages m ON m.id = i.message_id
		WHERE i.account_id = $1 AND ($2 = '' OR i.org_id::text = $2)
		ORDER BY i.created_at DESC, i.id LIMIT $3`, accountID, orgID, limit)
	return pgx.CollectRows(rows, pgx.RowToStructByName[CredentialIssue])
}

// ResetTwoFactor removes the account's TOTP secret and recovery codes, requires enrolling
// two factors at the next sign-in, voids half-finished sign-ins and records
// two_factor.reset for orgID. Returns ENOTFOUND when there is no such account.
func (db *DB) ResetTwoFactor(ctx context.Context, accountID, orgID string) error {
	if !isUUID(accountID) {
		return passport.Errorf(passport.ENOTFOUND, "No such account.")
	}
	return db.tx(ctx, func(tx pgx.Tx) error {
		now := db.now()
		if err := lockAccount(ctx, tx, accountID); err != nil {
			return err
		}
		var had bool
		if err := tx.QueryRow(ctx, `WITH gone AS (DELETE FROM totp WHERE account_id = $1 RETURNING enabled_at IS NOT NULL AS was_on)
			SELECT coalesce(bool_or(was_on), false) FROM gone`, accountID).Scan(&had); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM recovery_codes WHERE account_id = $1`, accountID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE accounts SET updated_at = $2,
			required_actions = `+withAction("$3")+`
			WHERE id = $1`, accountID, now, passport.ActionEnrolTwoFactor); err != nil {
			return err
		}
		// The device may be lost or stolen: a session still open on it must not enrol a
		// key of its own. The person signs in again and enrols.
		if err := signOutEverywhere(ctx, tx, accountID, now); err != nil {
			return err
		}
		return record(ctx, tx, now, passport.Event{Type: passport.EventTwoFactorReset, AccountID: accountID, OrgID: orgID,
			Details: map[string]any{"had_two_factor": had}})
	})
}

// ---- Credential message templates ----

const templateColumns = `key, names, bodies, created_at, updated_at`

// CredentialTemplates lists the stored templates by key.
func (db *DB) CredentialTemplates(ctx context.Context) ([]passport.CredentialTemplate, error) {
	rows, _ := db.pool.Query(ctx, `SELECT `+templateColumns+` FROM credential_templates ORDER BY key`)
	return pgx.CollectRows(rows, pgx.RowToStructByName[passport.CredentialTemplate])
}

// CredentialTemplate returns a stored template. Returns ENOTFOUND when there is none.
func (db *DB) CredentialTemplate(ctx context.Context, key string) (*passport.CredentialTemplate, error) {
	rows, _ := db.pool.Query(ctx, `SELECT `+templateColumns+` FROM credential_templates WHERE key = $1`, key)
	t, err := pgx.CollectExactlyOneRow(rows, pgx.RowToAddrOfStructByName[passport.CredentialTemplate])
	return t, mapErr(err, passport.Errorf(passport.ENOTFOUND, "No such template."))
}

// SaveCredentialTemplate creates or replaces a template and records
// credentials.template_saved.
func (db *DB) SaveCredentialTemplate(ctx context.Context, t *passport.CredentialTemplate) error {
	return db.tx(ctx, func(tx pgx.Tx) error {
		now := db.now()
		if err := tx.QueryRow(ctx, `
			INSERT INTO credential_templates (key, names, bodies, created_at, updated_at) VALUES ($1, $2, $3, $4, $4)
			ON CONFLICT (key) DO UPDATE SET names = excluded.names, bodies = excluded.bodies, updated_at = excluded.updated_at
			RETURNING created_at, updated_at`, t.Key, t.Names, t.Bodies, now).Scan(&t.CreatedAt, &t.UpdatedAt); err != nil {
			return err
		}
		return record(ctx, tx, now, passport.Event{Type: passport.EventCredentialTemplateSaved, Details: map[string]any{"key": t.Key}})
	})
}

// DeleteCredentialTemplate deletes a template and records credentials.template_deleted.
// Issues that used it keep its key. Returns ENOTFOUND when there is none.
func (db *DB) DeleteCredentialTemplate(ctx context.Context, key string) error {
	return db.tx(ctx, func(tx pgx.Tx) error {
		now := db.now()
		tag, err := tx.Exec(ctx, `DELETE FROM credential_templates WHERE key = $1`, key)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return passport.Errorf(passport.ENOTFOUND, "No such template.")
		}
		return record(ctx, tx, now, passport.Event{Type: passport.EventCredentialTemplateDeleted, Details: map[string]any{"key": key}})
	})
}
