package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/passport-idp/passport/internal/passport"
)

// CSV imports of members (SPEC §6). An import is a row of imports holding the file; any
// replica's job claims it with a lease (ClaimImport), applies its rows one transaction each
// (through internal/account) and saves its progress fenced on the attempt number, so a
// runner whose lease ran out and whose import another runner took cannot write over it.

// ImportsChannel is the LISTEN/NOTIFY channel that wakes the import jobs when one is queued.
const ImportsChannel = "passport_imports"

// ImportLease is how long a claim on an import lasts without news: a runner saves its
// progress (which extends the lease) well within it, so only a dead runner's import is
// claimed again.
const ImportLease = 2 * time.Minute

// ImportMaxAttempts bounds the claims of one import: an import whose runs keep dying (a
// row that crashes the process) fails instead of being retried for ever.
const ImportMaxAttempts = 5

// ImportActor is who started an import, kept so that the job acts as them (their grants
// are loaded again when it runs: a revoked administrator's import fails).
type ImportActor struct {
	Kind      string `json:"kind"`
	AccountID string `json:"account_id,omitempty"`
	ClientID  string `json:"client_id,omitempty"`
	IP        string `json:"ip,omitempty"`
	UserAgent string `json:"user_agent,omitempty"`
}

// Import is one CSV import, without its file and result.
type Import struct {
	ID         string
	OrgID      string
	Actor      ImportActor
	Status     string
	FileName   string
	Total      int
	Processed  int
	Created    int
	Unchanged  int
	Failed     int
	Error      string // a sentence of the catalogue, when it failed as a whole
	Attempts   int
	CreatedAt  time.Time
	FinishedAt *time.Time
}

// ImportProgress is what a runner has done so far.
type ImportProgress struct {
	Processed, Created, Unchanged, Failed int
	// Result is the result file's lines for the rows processed since the last save.
	Result string
}

const importColumns = `id, org_id, actor, status, file_name, total, processed, created, unchanged, failed, error,
	attempts, created_at, finished_at`

func noImport() *passport.Error { return passport.Errorf(passport.ENOTFOUND, "No such import.") }

// CreateImport stores a queued import of orgID, records import.started (by the request's
// actor) and wakes the import jobs when it commits.
func (db *DB) CreateImport(ctx context.Context, imp *Import, data []byte) error {
	return db.tx(ctx, func(tx pgx.Tx) error {
		now := db.now()
		err := tx.QueryRow(ctx, `INSERT INTO imports (org_id, actor, file_name, data, total, created_at)
			VALUES ($1, $2, $3, $4, $5, $6) RETURNING id, status`,
			imp.OrgID, imp.Actor, truncate(storable(imp.FileName), 200), data, imp.Total, now).Scan(&imp.ID, &imp.Status)
		if err != nil {
			return err
		}
		imp.CreatedAt = now
		if err := record(ctx, tx, now, passport.Event{Type: passport.EventImportStarted, OrgID: imp.OrgID,
			Details: map[string]any{"import": imp.ID, "file": imp.FileName, "rows": imp.Total}}); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `SELECT pg_notify($1, $2)`, ImportsChannel, imp.ID)
		return err
	})
}

// Import returns an import of orgID. Returns ENOTFOUND when there is none (or it belongs
// to another organisation).
func (db *DB) Import(ctx context.Context, orgID, id string) (*Import, error) {
	if !isUUID(id) || !isUUID(orgID) {
		return nil, noImport()
	}
	rows, _ := db.pool.Query(ctx, `SELECT `+importColumns+` FROM imports WHERE id = $1 AND org_id = $2`, id, orgID)
	imp, err := pgx.CollectExactlyOneRow(rows, pgx.RowToAddrOfStructByName[Import])
	return imp, mapErr(err, noImport())
}

// Imports lists the last imports of orgID, newest first.
func (db *DB) Imports(ctx context.Context, orgID string, limit int) ([]Import, error) {
	if !isUUID(orgID) {
		return []Import{}, nil
	}
	rows, _ := db.pool.Query(ctx, `SELECT `+importColumns+` FROM imports WHERE org_id = $1
		ORDER BY created_at DESC, id LIMIT $2`, orgID, limit)
	return pgx.CollectRows(rows, pgx.RowToStructByName[Import])
}

// ImportResult returns the result file of an import of orgID ("" until it has one).
// Returns ENOTFOUND when there is no such import in orgID.
func (db *DB) ImportResult(ctx context.Context, orgID, id string) (string, error) {
	if !isUUID(id) || !isUUID(orgID) {
		return "", noImport()
	}
	var result string
	err := db.pool.QueryRow(ctx, `SELECT result FROM imports WHERE id = $1 AND org_id = $2`, id, orgID).Scan(&result)
	return result, mapErr(err, noImport())
}

// ImportRun is a claimed import with what its runner needs: the file and the result so far.
type ImportRun struct {
	Import
	Data   []byte
	Result string
}

// ImportForRun returns the import a runner claimed with attempt. Returns ENOTFOUND when it
// is no longer this attempt's (another runner claimed it since).
func (db *DB) ImportForRun(ctx context.Context, id string, attempt int) (*ImportRun, error) {
	if !isUUID(id) {
		return nil, noImport()
	}
	r := &ImportRun{}
	rows, _ := db.pool.Query(ctx, `SELECT `+importColumns+` FROM imports WHERE id = $1 AND attempts = $2 AND status = 'running'`, id, attempt)
	imp, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[Import])
	if err != nil {
		return nil, mapErr(err, noImport())
	}
	r.Import = imp
	err = db.pool.QueryRow(ctx, `SELECT coalesce(data, ''::bytea), result FROM imports WHERE id = $1`, id).Scan(&r.Data, &r.Result)
	return r, mapErr(err, noImport())
}

// ClaimedImport is an import a runner holds a lease on; Attempt fences its writes.
type ClaimedImport struct {
	ID      string
	Attempt int
}

// ClaimImport leases one import to the caller in one statement: the oldest queued one, or
// a running one whose lease ran out (its runner died; rows are idempotent, so resuming is
// safe). SKIP LOCKED lets every replica claim at once without waiting on each other, and
// the lease keeps a claimed import from being claimed again while its runner lives. An
// abandoned import that used up its attempts is marked failed instead. Returns nil when
// nothing is due.
func (db *DB) ClaimImport(ctx context.Context) (*ClaimedImport, error) {
	now := db.now()
	if _, err := db.pool.Exec(ctx, `UPDATE imports SET status = 'failed', leased_until = NULL, finished_at = $1, data = NULL,
			error = 'The import stopped after repeated failures.'
		WHERE status = 'running' AND leased_until < $1 AND attempts >= $2`, now, ImportMaxAttempts); err != nil {
		return nil, err
	}
	var c ClaimedImport
	err := db.pool.QueryRow(ctx, `
		UPDATE imports SET status = 'running', attempts = attempts + 1, leased_until = $2
		WHERE id = (
			SELECT id FROM imports
			WHERE status = 'queued' OR (status = 'running' AND leased_until < $1)
			ORDER BY created_at, id
			LIMIT 1
			FOR UPDATE SKIP LOCKED)
		RETURNING id, attempts`, now, now.Add(ImportLease)).Scan(&c.ID, &c.Attempt)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &c, nil
}

// errLeaseLost is the answer to a runner whose import is no longer its own.
var errLeaseLost = passport.Errorf(passport.ECONFLICT, "Another runner took over this import.")

// SaveImportProgress records a runner's progress, appends its new result lines and extends
// its lease. Fenced on the attempt: when another runner has claimed the import since, it
// writes nothing and returns ECONFLICT, and the runner must stop.
func (db *DB) SaveImportProgress(ctx context.Context, id string, attempt int, p ImportProgress) error {
	now := db.now()
	tag, err := db.pool.Exec(ctx, `UPDATE imports SET processed = $3, created = $4, unchanged = $5, failed = $6,
			result = result || $7, leased_until = $8
		WHERE id = $1 AND attempts = $2 AND status = 'running'`,
		id, attempt, p.Processed, p.Created, p.Unchanged, p.Failed, p.Result, now.Add(ImportLease))
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return errLeaseLost
	}
	return nil
}

// FinishImport records the end of a run: done (with its last progress), or failed with a
// sentence of the catalogue saying why. The file is erased (the result keeps its rows), and
// import.finished is recorded by the actor ctx carries. Fenced like SaveImportProgress.
func (db *DB) FinishImport(ctx context.Context, id string, attempt int, p ImportProgress, failure string) error {
	return db.tx(ctx, func(tx pgx.Tx) error {
		now := db.now()
		status := passport.ImportDone
		if failure != "" {
			status = passport.ImportFailed
		}
		var orgID, fileName string
		err := tx.QueryRow(ctx, `UPDATE imports SET processed = $3, created = $4, unchanged = $5, failed = $6,
				result = result || $7, status = $8, error = $9, data = NULL, leased_until = NULL, finished_at = $10
			WHERE id = $1 AND attempts = $2 AND status = 'running'
			RETURNING org_id, file_name`,
			id, attempt, p.Processed, p.Created, p.Unchanged, p.Failed, p.Result, status, failure, now).Scan(&orgID, &fileName)
		if errors.Is(err, pgx.ErrNoRows) {
			return errLeaseLost
		}
		if err != nil {
			return err
		}
		return record(ctx, tx, now, passport.Event{Type: passport.EventImportFinished, OrgID: orgID,
			Details: map[string]any{"import": id, "file": fileName, "status": status,
				"created": p.Created, "unchanged": p.Unchanged, "failed": p.Failed}})
	})
}

// LoginHolder tells who holds a login: nobody (AccountID ""), a member of the organisation
// asked about, or an account outside it.
type LoginHolder struct {
	AccountID string
	Member    bool
}

// LoginHolder looks a login up (compared after case folding) and reports whether its
// account is a member of orgID.
func (db *DB) LoginHolder(ctx context.Context, orgID, login string) (LoginHolder, error) {
	var h LoginHolder
	err := db.pool.QueryRow(ctx, `SELECT a.id::text, EXISTS (SELECT 1 FROM memberships m WHERE m.account_id = a.id AND m.org_id = $2)
		FROM accounts a WHERE a.login_folded = $1`, passport.FoldLogin(login), nullUUID(orgID)).Scan(&h.AccountID, &h.Member)
	if errors.Is(err, pgx.ErrNoRows) {
		return LoginHolder{}, nil
	}
	return h, err
}

// LoginHolders looks many logins up at once (for a dry run): folded login → holder, for
// the logins that are held.
func (db *DB) LoginHolders(ctx context.Context, orgID string, logins []string) (map[string]LoginHolder, error) {
	folded := make([]string, len(logins))
	for i, l := range logins {
		folded[i] = passport.FoldLogin(l)
	}
	rows, err := db.pool.Query(ctx, `SELECT a.login_folded, a.id::text,
			EXISTS (SELECT 1 FROM memberships m WHERE m.account_id = a.id AND m.org_id = $2)
		FROM accounts a WHERE a.login_folded = ANY($1)`, folded, nullUUID(orgID))
	if err != nil {
		return nil, err
	}
	out := map[string]LoginHolder{}
	var key string
	var h LoginHolder
	_, err = pgx.ForEachRow(rows, []any{&key, &h.AccountID, &h.Member}, func() error {
		out[key] = h
		return nil
	})
	return out, err
}

// ImportTemplateKeys lists the stored credential message templates' keys (the
// built-in "standard" is not stored).
func (db *DB) ImportTemplateKeys(ctx context.Context) ([]string, error) {
	rows, _ := db.pool.Query(ctx, `SELECT key FROM credential_templates ORDER BY key`)
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// WaitForImports signals wake whenever an import is queued (NOTIFY), until ctx ends or the
// connection fails; it holds one connection of its own. ready (when not nil) is called
// once it listens.
func (db *DB) WaitForImports(ctx context.Context, ready func(), wake chan<- struct{}) error {
	return db.Listen(ctx, ImportsChannel, ready, func(string) {
		select {
		case wake <- struct{}{}:
		default:
		}
	})
}
