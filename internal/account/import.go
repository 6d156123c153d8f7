package account

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"io"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/passport-idp/passport/internal/passport"
	"github.com/passport-idp/passport/internal/postgres"
)

// CSV imports of members (SPEC §6). A file has a header row naming its columns (any order,
// any letter case) and one member per row; UTF-8 with or without a byte-order mark, the
// values separated by commas or semicolons (told from the header row). CheckImport is the
// dry run: every row is checked as CreateMember would check it and nothing is written.
// StartImport queues the file; a background job on any replica calls RunImport, which
// applies the rows one transaction each, idempotent on the login: a row whose login is
// already a member of the organisation is left unchanged (no message either), so running
// the same file twice, or resuming a run that died, creates nothing twice.

// ImportColumns are the columns an import file may have.
var ImportColumns = []string{"login", "email", "phone", "given_name", "family_name", "birthdate", "position", "roles",
	"issue_credentials", "template", "channel", "locale"}

// resultColumns are the columns the result file adds; a result file imported again
// ignores them (so a corrected result file can be imported as it is).
var resultColumns = []string{"outcome", "message"}

// ImportProblem is one problem of one row: a sentence of the catalogue (Error) about a
// column ("" for the whole row or the file).
type ImportProblem struct {
	Row    int    // the data row, from 1 (the header row is not counted)
	Line   int    // the file's line where the row starts
	Column string // a column of ImportColumns, or ""
	Error  *passport.Error
}

// ImportReport is a dry run's answer.
type ImportReport struct {
	Rows      int // data rows in the file
	Valid     int // rows that would create a member
	Unchanged int // rows whose login is already a member of the organisation (left as they are)
	Problems  []ImportProblem
}

// defaultImportRows bounds a file when the caller gives no bound.
const defaultImportRows = 50000

// importSaveEvery and importSaveAfter say how often a run saves its progress (which also
// extends its lease, postgres.ImportLease): every so many rows or so much time.
const (
	importSaveEvery = 500
	importSaveAfter = 5 * time.Second
)

// importBatchRows rows are applied importParallel at a time (each its own transaction), and the
// progress is saved between batches only, so that what it counts is a prefix of the file.
const (
	importBatchRows = 64
	importParallel  = 4
)

// CheckImport checks a file of members for orgID and reports every problem by row and
// column; it writes nothing. A file that cannot be read as a whole (not CSV, not UTF-8, no
// header, an unknown column, more than maxRows rows) is an EINVALID error. Returns
// ENOTFOUND for an organisation out of the actor's scope.
func (s *Service) CheckImport(ctx context.Context, actor passport.Actor, orgID string, data []byte, maxRows int) (*ImportReport, error) {
	o, err := s.Org(ctx, actor, orgID)
	if err != nil {
		return nil, err
	}
	f, err := parseImport(data, maxRows)
	if err != nil {
		return nil, err
	}
	templates, err := s.importTemplates(ctx)
	if err != nil {
		return nil, err
	}
	rows := f.members(templates)
	logins := make([]string, 0, len(rows))
	for _, r := range rows {
		if r.key != "" {
			logins = append(logins, r.key)
		}
	}
	holders, err := s.DB.LoginHolders(ctx, o.ID, logins)
	if err != nil {
		return nil, err
	}
	rep := &ImportReport{Rows: len(rows), Problems: []ImportProblem{}}
	lookups := &memberLookups{loginsKnown: true} // held logins are handled below, before checkMember
	for _, r := range rows {
		if r.broken {
			rep.Problems = append(rep.Problems, r.problems...)
			continue
		}
		if h, held := holders[r.key]; held {
			if h.Member && len(r.problems) == 0 {
				rep.Unchanged++
				continue
			}
			if !h.Member {
				r.problem(r.loginColumn(), passport.FieldError("login", "This login is already taken."))
			}
		} else {
			_, _, fe, err := s.checkMember(ctx, o, r.member, lookups)
			if err != nil {
				return nil, err
			}
			for field, e := range fe {
				r.problem(columnOf(field), e)
			}
		}
		if len(r.problems) == 0 {
			rep.Valid++
		}
		rep.Problems = append(rep.Problems, r.sorted()...)
	}
	return rep, nil
}

// StartImport queues a file of members for orgID and returns the queued import; a job
// applies it (RunImport). The file is checked as a whole first (see CheckImport); its rows
// are checked when they are applied, and their problems go to the result file. Returns
// ENOTFOUND for an organisation out of the actor's scope.
func (s *Service) StartImport(ctx context.Context, actor passport.Actor, orgID, fileName string, data []byte, maxRows int) (*postgres.Import, error) {
	o, err := s.Org(ctx, actor, orgID)
	if err != nil {
		return nil, err
	}
	f, err := parseImport(data, maxRows)
	if err != nil {
		return nil, err
	}
	fileName = strings.TrimSpace(fileName)
	if utf8.RuneCountInString(fileName) > 200 {
		fileName = string([]rune(fileName)[:200])
	}
	imp := &postgres.Import{OrgID: o.ID, FileName: fileName, Total: len(f.rows), Actor: postgres.ImportActor{
		Kind: actor.Kind, AccountID: actor.AccountID, ClientID: actor.ClientID, IP: actor.IP, UserAgent: actor.UserAgent}}
	if err := s.DB.CreateImport(in(ctx, actor, o.ID), imp, data); err != nil {
		return nil, err
	}
	return imp, nil
}

// Import returns an import of orgID. Returns ENOTFOUND for an organisation out of the
// actor's scope and for an import of another organisation.
func (s *Service) Import(ctx context.Context, actor passport.Actor, orgID, id string) (*postgres.Import, error) {
	o, err := s.Org(ctx, actor, orgID)
	if err != nil {
		return nil, err
	}
	return s.DB.Import(ctx, o.ID, id)
}

// Imports lists the last imports of orgID, newest first.
func (s *Service) Imports(ctx context.Context, actor passport.Actor, orgID string) ([]postgres.Import, error) {
	o, err := s.Org(ctx, actor, orgID)
	if err != nil {
		return nil, err
	}
	return s.DB.Imports(ctx, o.ID, 50)
}

// ImportResult returns the result file of an import of orgID so far: the input's rows with
// an outcome (created, unchanged, error) and a message, each problem's sentence written by
// translate (the reader's language). Scoped like Import.
func (s *Service) ImportResult(ctx context.Context, actor passport.Actor, orgID, id string, translate func(string, ...any) string) ([]byte, error) {
	o, err := s.Org(ctx, actor, orgID)
	if err != nil {
		return nil, err
	}
	stored, err := s.DB.ImportResult(ctx, o.ID, id)
	if err != nil {
		return nil, err
	}
	return renderResult(stored, translate)
}

// RunImport applies a claimed import (attempt fences its writes): row by row, one
// transaction each, from where the last run stopped, saving its progress as it goes; then
// the result file and the status. It acts as the administrator who started it, with their
// grants as they are now: an import of someone who lost them fails. An error (the
// database failing, the claim lost to another runner) stops it; the import is claimed
// again once its lease runs out, and resumes.
func (s *Service) RunImport(ctx context.Context, id string, attempt int) error {
	run, err := s.DB.ImportForRun(ctx, id, attempt)
	if err != nil {
		return err
	}
	p := postgres.ImportProgress{Processed: run.Processed, Created: run.Created, Unchanged: run.Unchanged, Failed: run.Failed}
	actor, failure, err := s.importActor(ctx, run.OrgID, run.Actor)
	if err != nil {
		return err
	}
	if failure != "" {
		// The import's end is recorded by the system: its administrator may act no more.
		return s.DB.FinishImport(passport.WithActor(ctx, passport.Actor{Kind: passport.ActorSystem}), id, attempt, p, failure)
	}
	base := ctx
	ctx = in(ctx, actor, run.OrgID)
	f, err := parseImport(run.Data, 0)
	if err != nil {
		return s.DB.FinishImport(ctx, id, attempt, p, "The file could not be read.")
	}
	templates, err := s.importTemplates(ctx)
	if err != nil {
		return err
	}
	rows := f.members(templates)
	var chunk bytes.Buffer
	w := csv.NewWriter(&chunk)
	w.Comma = f.comma
	if run.Result == "" {
		// A result file imported again brings its own outcome and message columns: they
		// are not repeated (so that result file imports again as it is too).
		if err := w.Write(append(f.echo(f.header), "outcome", "problems")); err != nil {
			return err
		}
	}
	save := func() error {
		w.Flush()
		p.Result = chunk.String()
		chunk.Reset()
		return s.DB.SaveImportProgress(ctx, id, attempt, p)
	}
	saved, since := time.Now(), 0
	for start := p.Processed; start < len(rows); start += importBatchRows {
		if start > run.Processed {
			// The administrator's grants are looked at again before every batch: one
			// revoked (or disabled with their organisation) while the file runs stops it
			// here, not after the whole file was applied in their name.
			now, failure, err := s.importActor(base, run.OrgID, run.Actor)
			if err != nil {
				return err
			}
			if failure != "" {
				w.Flush()
				p.Result = chunk.String()
				return s.DB.FinishImport(passport.WithActor(base, passport.Actor{Kind: passport.ActorSystem}), id, attempt, p, failure)
			}
			actor = now
			ctx = in(base, actor, run.OrgID)
		}
		batch := rows[start:min(start+importBatchRows, len(rows))]
		outs, err := s.importBatch(ctx, actor, run.OrgID, batch)
		for i, o := range outs {
			if o.err != nil {
				// The rows before it are done (each its own transaction): keep them. The
				// batch's later rows may be done too; when resumed they are unchanged.
				err = o.err
				break
			}
			switch o.outcome {
			case passport.ImportCreated:
				p.Created++
			case passport.ImportUnchanged:
				p.Unchanged++
			default:
				p.Failed++
			}
			p.Processed++
			since++
			if werr := w.Write(append(f.echo(batch[i].fields), o.outcome, encodeProblems(o.problems))); werr != nil {
				return werr
			}
		}
		if err != nil {
			if serr := save(); serr != nil {
				return errors.Join(err, serr)
			}
			return err
		}
		if since >= importSaveEvery || time.Since(saved) >= importSaveAfter {
			if err := save(); err != nil {
				return err
			}
			saved, since = time.Now(), 0
		}
	}
	w.Flush()
	p.Result = chunk.String()
	return s.DB.FinishImport(ctx, id, attempt, p, "")
}

// rowOutcome is what applying one row came to.
type rowOutcome struct {
	outcome  string
	problems []ImportProblem
	err      error
}

// importBatch applies a batch of rows, importParallel at a time, each in its own
// transaction: rows are independent (a login repeated in the file is refused before), and
// a row's time is mostly waiting for the database, so a few at once go several times
// faster. The logins are looked up for the whole batch in one query.
func (s *Service) importBatch(ctx context.Context, actor passport.Actor, orgID string, batch []importRow) ([]rowOutcome, error) {
	outs := make([]rowOutcome, len(batch))
	keys := make([]string, 0, len(batch))
	for _, r := range batch {
		if r.key != "" {
			keys = append(keys, r.key)
		}
	}
	holders, err := s.DB.LoginHolders(ctx, orgID, keys)
	if err != nil {
		return nil, err
	}
	// The organisation and its role catalogue, once for the batch, not once per row; the
	// logins were looked up above (a login taken since is caught by the unique index).
	o, err := s.Org(ctx, actor, orgID)
	if err != nil {
		return nil, err
	}
	catalogue, err := s.DB.Roles(ctx, o.ID)
	if err != nil {
		return nil, err
	}
	lk := &memberLookups{catalogue: catalogue, loaded: true, loginsKnown: true}
	sem := make(chan struct{}, importParallel)
	var wg sync.WaitGroup
	for i := range batch {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			out := &outs[i]
			out.outcome, out.problems, out.err = s.importRow(ctx, actor, o, lk, &batch[i], holders[batch[i].key])
		}()
	}
	wg.Wait()
	return outs, nil
}

// importRow applies one row: unchanged when its login is already a member of orgID, an
// error when another account holds it or the row has problems, else the member is created
// (and credentials issued) in one transaction. An error is returned only when the run
// must stop (the database failing), never for a row's own problems.
func (s *Service) importRow(ctx context.Context, actor passport.Actor, o *passport.Organisation, lk *memberLookups, r *importRow,
	known postgres.LoginHolder) (string, []ImportProblem, error) {
	if len(r.problems) > 0 {
		return passport.ImportError, r.sorted(), nil
	}
	holder := func() (string, []ImportProblem, error) {
		h, err := s.DB.LoginHolder(ctx, o.ID, r.key)
		switch {
		case err != nil:
			return "", nil, err
		case h.Member:
			return passport.ImportUnchanged, nil, nil
		case h.AccountID != "":
			r.problem(r.loginColumn(), passport.FieldError("login", "This login is already taken."))
			return passport.ImportError, r.problems, nil
		}
		return "", nil, nil
	}
	// known is the login's holder when the batch began: a login taken since is caught by
	// CreateMember (the unique login), then looked up again below.
	switch {
	case r.key == "" || known.AccountID == "":
	case known.Member:
		return passport.ImportUnchanged, nil, nil
	default:
		r.problem(r.loginColumn(), passport.FieldError("login", "This login is already taken."))
		return passport.ImportError, r.problems, nil
	}
	_, _, fe, err := s.createMember(ctx, actor, o, r.member, r.cred, lk)
	if err != nil {
		var pe *passport.Error
		if !errors.As(err, &pe) {
			return "", nil, err
		}
		switch pe.Code {
		case passport.EINVALID, passport.ECONFLICT, passport.EFORBIDDEN, passport.ENOTFOUND:
		default:
			return "", nil, err
		}
		if pe.Field == "login" && r.key != "" {
			// Another runner (or person) took the login meanwhile: unchanged if it is
			// this organisation's member now.
			if outcome, problems, err := holder(); outcome != "" || err != nil {
				return outcome, problems, err
			}
		}
		r.problem(columnOf(pe.Field), pe)
		return passport.ImportError, r.problems, nil
	}
	if len(fe) > 0 {
		if _, taken := fe["login"]; taken && r.key != "" {
			// The login may have been taken meanwhile by another runner of this import.
			if outcome, problems, err := holder(); outcome != "" || err != nil {
				return outcome, problems, err
			}
		}
		for field, e := range fe {
			r.problem(columnOf(field), e)
		}
		return passport.ImportError, r.sorted(), nil
	}
	return passport.ImportCreated, nil, nil
}

// importActor rebuilds the actor who started an import, with their authority as it is now.
// failure (a sentence) says why they may act no more.
func (s *Service) importActor(ctx context.Context, orgID string, ia postgres.ImportActor) (passport.Actor, string, error) {
	const gone = "The administrator who started this import no longer administers the organisation."
	switch ia.Kind {
	case passport.ActorSystem:
		return System(), "", nil
	case passport.ActorAdmin:
		a, err := s.DB.Account(ctx, ia.AccountID)
		if passport.ErrorCode(err) == passport.ENOTFOUND || (err == nil && a.Status != passport.StatusActive) {
			return passport.Actor{}, gone, nil
		}
		if err != nil {
			return passport.Actor{}, "", err
		}
		actor, err := s.Admin(ctx, a.ID, ia.IP, ia.UserAgent, ia.ClientID)
		if err != nil {
			return passport.Actor{}, "", err
		}
		if !actor.Authority.CanAdminOrg(orgID) {
			return passport.Actor{}, gone, nil
		}
		return actor, "", nil
	case passport.ActorClient:
		cl, err := s.DB.Client(ctx, ia.ClientID)
		if passport.ErrorCode(err) == passport.ENOTFOUND || (err == nil && (cl.Disabled || cl.AdminOrgID != orgID)) {
			return passport.Actor{}, gone, nil
		}
		if err != nil {
			return passport.Actor{}, "", err
		}
		o, err := s.DB.Org(ctx, orgID)
		if err != nil {
			return passport.Actor{}, "", err
		}
		if o.Status != passport.OrgActive {
			return passport.Actor{}, gone, nil
		}
		return ServiceAccount(cl.ID, orgID, ia.IP, ia.UserAgent), "", nil
	}
	return passport.Actor{}, gone, nil
}

// importTemplates is the set of credential message templates a row may name.
func (s *Service) importTemplates(ctx context.Context) (map[string]bool, error) {
	keys, err := s.DB.ImportTemplateKeys(ctx)
	if err != nil {
		return nil, err
	}
	set := map[string]bool{"standard": true}
	for _, k := range keys {
		set[k] = true
	}
	return set, nil
}

// ---- The file ----

// importFile is a parsed file: its header and its data rows.
type importFile struct {
	comma  rune
	header []string       // as written
	col    map[string]int // column name → index
	rows   []csvRow
}

type csvRow struct {
	n, line int
	fields  []string
}

// parseImport reads a file as a whole: the header row, the delimiter, the rows. It checks
// what makes the file unreadable (each row's values are checked later, row by row).
func parseImport(data []byte, maxRows int) (*importFile, error) {
	if maxRows <= 0 {
		maxRows = defaultImportRows
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	if !utf8.Valid(data) || bytes.IndexByte(data, 0) >= 0 {
		return nil, passport.FieldError("file", "The file is not UTF-8 text: save it as “CSV UTF-8” and try again.")
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, passport.FieldError("file", "The file is empty: it needs a header row and a row per member.")
	}
	f := &importFile{comma: sniffComma(data), col: map[string]int{}}
	r := csv.NewReader(bytes.NewReader(data))
	r.Comma = f.comma
	r.FieldsPerRecord = -1
	unreadable := func(err error) error {
		line := 1
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			line = pe.StartLine
		}
		return passport.FieldError("file", "The file is not valid CSV: look at line %d (quotes must be closed and doubled inside a value).", line)
	}
	header, err := r.Read()
	if err != nil {
		return nil, unreadable(err)
	}
	f.header = header
	for i, h := range header {
		name := columnName(h)
		switch {
		case name == "":
			return nil, passport.FieldError("file", "Column %d of the header row has no name.", i+1)
		case !slices.Contains(ImportColumns, name) && !slices.Contains(resultColumns, name):
			return nil, passport.FieldError("file", "Unknown column “%s”: the columns are %s.", strings.TrimSpace(h), strings.Join(ImportColumns, ", "))
		}
		if _, twice := f.col[name]; twice {
			return nil, passport.FieldError("file", "The column “%s” appears twice.", name)
		}
		f.col[name] = i
	}
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, unreadable(err)
		}
		line, _ := r.FieldPos(0)
		if blank(rec) {
			continue
		}
		if len(f.rows) >= maxRows {
			return nil, passport.FieldError("file", "The file has more than %d rows: split it into smaller files.", maxRows)
		}
		f.rows = append(f.rows, csvRow{n: len(f.rows) + 1, line: line, fields: rec})
	}
	if len(f.rows) == 0 {
		return nil, passport.FieldError("file", "The file has no rows after the header row.")
	}
	return f, nil
}

// sniffComma tells the delimiter from the header row: a semicolon when it has more of them
// than commas (outside quotes), else a comma.
func sniffComma(data []byte) rune {
	commas, semicolons, quoted := 0, 0, false
	for _, b := range data {
		switch {
		case b == '"':
			quoted = !quoted
		case quoted:
		case b == '\n':
			if semicolons > commas {
				return ';'
			}
			return ','
		case b == ',':
			commas++
		case b == ';':
			semicolons++
		}
	}
	if semicolons > commas {
		return ';'
	}
	return ','
}

func blank(rec []string) bool {
	for _, v := range rec {
		if strings.TrimSpace(v) != "" {
			return false
		}
	}
	return true
}

// importRow is a data row read as a member.
type importRow struct {
	csvRow
	member   NewMember
	cred     *Credentials // nil: no credentials
	key      string       // the login the row is idempotent on (login, else email), "" if none
	hasLogin bool         // the login column gave the key
	broken   bool         // the row cannot be read (its values do not match the header)
	problems []ImportProblem
}

func (r *importRow) problem(column string, e *passport.Error) {
	r.problems = append(r.problems, ImportProblem{Row: r.n, Line: r.line, Column: column, Error: e})
}

// loginColumn is the column that gave the row's login.
func (r *importRow) loginColumn() string {
	if r.hasLogin {
		return "login"
	}
	return "email"
}

// sorted returns the row's problems in the order of the columns.
func (r *importRow) sorted() []ImportProblem {
	slices.SortStableFunc(r.problems, func(a, b ImportProblem) int {
		return slices.Index(ImportColumns, a.Column) - slices.Index(ImportColumns, b.Column)
	})
	return r.problems
}

// echo is what the result file repeats of a row (or of the header row): its values in the
// columns of ImportColumns, as many as the header names, without a result file's own
// outcome and message columns.
func (f *importFile) echo(fields []string) []string {
	out := make([]string, 0, len(f.header))
	for i, h := range f.header {
		if slices.Contains(resultColumns, columnName(h)) {
			continue
		}
		v := ""
		if i < len(fields) {
			v = fields[i]
		}
		out = append(out, v)
	}
	return out
}

// columnName is a header's column as ImportColumns names it.
func columnName(h string) string {
	return strings.NewReplacer(" ", "_", "-", "_").Replace(strings.ToLower(strings.TrimSpace(h)))
}

// members reads every row as a member and checks what needs no database beyond the template
// names: the number of values, issue_credentials, template, channel, and logins repeated
// within the file (the later row is the problem).
func (f *importFile) members(templates map[string]bool) []importRow {
	out := make([]importRow, 0, len(f.rows))
	first := map[string]int{}
	for _, row := range f.rows {
		r := importRow{csvRow: row}
		if len(row.fields) != len(f.header) {
			r.broken = true
			r.problem("", passport.Errorf(passport.EINVALID, "This row has %d values, but the header row has %d columns.", len(row.fields), len(f.header)))
			out = append(out, r)
			continue
		}
		get := func(col string) string {
			if i, ok := f.col[col]; ok {
				return strings.TrimSpace(unguard(strings.TrimSpace(row.fields[i])))
			}
			return ""
		}
		var roles []string
		for _, role := range strings.FieldsFunc(get("roles"), func(c rune) bool { return c == ';' || c == '|' }) {
			if role = strings.TrimSpace(role); role != "" {
				roles = append(roles, role)
			}
		}
		r.member = NewMember{Login: get("login"), Email: get("email"), Phone: get("phone"), GivenName: get("given_name"),
			FamilyName: get("family_name"), Birthdate: get("birthdate"), Locale: get("locale"), Position: get("position"), Roles: roles}
		issue := false
		switch strings.ToLower(get("issue_credentials")) {
		case "", "no", "false", "0":
		case "yes", "true", "1":
			issue = true
		default:
			r.problem("issue_credentials", passport.FieldError("issue_credentials", "Write yes or no."))
		}
		tmpl := get("template")
		if tmpl == "" {
			tmpl = "standard"
		} else if !templates[tmpl] {
			r.problem("template", passport.FieldError("template", "There is no message template with this name."))
		}
		channel := strings.ToLower(get("channel"))
		switch channel {
		case "":
			channel = passport.ChannelEmail
		case passport.ChannelEmail, passport.ChannelSMS, "none":
		default:
			r.problem("channel", passport.FieldError("channel", "The channel is email, sms or none."))
		}
		if issue {
			switch {
			case channel == passport.ChannelEmail && r.member.Email == "":
				r.problem("channel", passport.FieldError("channel", "Sending by email needs an email address."))
			case channel == passport.ChannelSMS && r.member.Phone == "":
				r.problem("channel", passport.FieldError("channel", "Sending by SMS needs a phone number."))
			case channel == "none":
				// A generated password nobody sees: an import hands nothing over by hand.
				r.problem("channel", passport.FieldError("channel", "An import sends login details by email or SMS: none would issue a password nobody sees."))
			}
			r.cred = &Credentials{Generate: true, Template: tmpl, Channel: channel}
		}
		r.key, r.hasLogin = r.member.Login, r.member.Login != ""
		if r.key == "" {
			r.key = r.member.Email
		}
		if r.key = passport.FoldLogin(r.key); r.key != "" {
			if n, seen := first[r.key]; seen {
				r.problem(r.loginColumn(), passport.FieldError("login", "This login is also in row %d of the file.", n))
			} else {
				first[r.key] = row.n
			}
		}
		out = append(out, r)
	}
	return out
}

// columnOf is the column a member field's problem is about.
func columnOf(field string) string {
	if slices.Contains(ImportColumns, field) {
		return field
	}
	return ""
}

// ---- The result file ----

// formulaStart are the first characters that make a spreadsheet read a cell as a formula
// (=, +, - and @; a tab or a carriage return in front of one).
const formulaStart = "=+-@\t\r"

// guard writes a value of the result file so that a spreadsheet reads it as text, not as
// a formula (CSV injection: a name typed as =HYPERLINK(…) in the file an administrator
// uploaded comes back in the file they open): a value starting with one of formulaStart
// gets an apostrophe in front, which spreadsheets take as "text follows" and do not show.
func guard(v string) string {
	if v != "" && strings.ContainsRune(formulaStart, rune(v[0])) {
		return "'" + v
	}
	return v
}

// unguard reads a value guard wrote as it was typed, so that a result file imports again
// as it is (the result file writes a phone +372… as '+372…; read back, it is +372… again).
func unguard(v string) string {
	if len(v) > 1 && v[0] == '\'' && strings.ContainsRune(formulaStart, rune(v[1])) {
		return v[1:]
	}
	return v
}

// storedProblem is a problem as the stored result keeps it: the sentence, its arguments and
// the column, translated when the file is downloaded.
type storedProblem struct {
	Column  string `json:"c,omitempty"`
	Message string `json:"m"`
	Args    []any  `json:"a,omitempty"`
}

func encodeProblems(ps []ImportProblem) string {
	if len(ps) == 0 {
		return ""
	}
	out := make([]storedProblem, 0, len(ps))
	for _, p := range ps {
		out = append(out, storedProblem{Column: p.Column, Message: p.Error.Message, Args: p.Error.Args})
	}
	b, _ := json.Marshal(out)
	return string(b)
}

// renderResult turns the stored result (the rows, an outcome and the problems) into the
// file an administrator downloads: the problems written as sentences in one message column.
func renderResult(stored string, translate func(string, ...any) string) ([]byte, error) {
	var out bytes.Buffer
	out.WriteString("\ufeff") // spreadsheets read UTF-8 by this mark
	if stored == "" {
		return out.Bytes(), nil
	}
	comma := sniffComma([]byte(stored))
	r := csv.NewReader(strings.NewReader(stored))
	r.Comma = comma
	r.FieldsPerRecord = -1
	w := csv.NewWriter(&out)
	w.Comma = comma
	for first := true; ; first = false {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		if len(rec) == 0 {
			continue
		}
		last := len(rec) - 1
		if first {
			rec[last] = "message"
		} else if rec[last] != "" {
			var ps []storedProblem
			if err := json.Unmarshal([]byte(rec[last]), &ps); err != nil {
				return nil, err
			}
			var msgs []string
			for _, p := range ps {
				m := translate(p.Message, wholeNumbers(p.Args)...)
				if p.Column != "" {
					m = p.Column + ": " + m
				}
				msgs = append(msgs, m)
			}
			rec[last] = strings.Join(msgs, " ")
		}
		if !first {
			for i := range rec {
				rec[i] = guard(rec[i])
			}
		}
		if err := w.Write(rec); err != nil {
			return nil, err
		}
	}
	w.Flush()
	return out.Bytes(), w.Error()
}

// wholeNumbers turns the whole numbers JSON made float64 back into ints (for %d).
func wholeNumbers(args []any) []any {
	for i, a := range args {
		if f, ok := a.(float64); ok && f == float64(int64(f)) {
			args[i] = int(f)
		}
	}
	return args
}
