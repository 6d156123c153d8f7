package web

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/passport-idp/passport/internal/account"
	"github.com/passport-idp/passport/internal/passport"
	"github.com/passport-idp/passport/internal/postgres"
)

// CSV imports of members (SPEC §6): the admin API and the console page. A dry run checks
// the file and answers every problem by row and column, writing nothing; a real import is
// queued, and the job (RunImport, on any replica) applies it row by row. The console and
// the API call the same internal/account functions.

// importLimit bounds an uploaded file (the rows are bounded by [issued] import_max_rows).
const importLimit = 20 << 20

// RunImport applies one claimed import: what the import job (internal/jobs) calls, with
// the account service the web layer built (its message hooks included).
func (s *Server) RunImport(ctx context.Context, id string, attempt int) error {
	return s.acct.RunImport(ctx, id, attempt)
}

// AdminImport is a CSV import as the admin API returns it.
type AdminImport struct {
	ID        string `json:"id"`
	FileName  string `json:"file_name"`
	Status    string `json:"status"` // queued, running, done, failed
	Total     int    `json:"total"`
	Processed int    `json:"processed"`
	Created   int    `json:"created"`
	Unchanged int    `json:"unchanged"`
	Failed    int    `json:"failed"`
	// Error says why the import failed as a whole ("" unless status is failed).
	Error      string     `json:"error"`
	CreatedAt  time.Time  `json:"created_at"`
	FinishedAt *time.Time `json:"finished_at"`
	ResultURL  string     `json:"result_url"`
}

func (s *Server) adminImportJSON(c echo.Context, orgID string, imp *postgres.Import) AdminImport {
	out := AdminImport{ID: imp.ID, FileName: imp.FileName, Status: imp.Status, Total: imp.Total, Processed: imp.Processed,
		Created: imp.Created, Unchanged: imp.Unchanged, Failed: imp.Failed, CreatedAt: imp.CreatedAt, FinishedAt: imp.FinishedAt,
		ResultURL: "/api/v1/admin/orgs/" + orgID + "/imports/" + imp.ID + "/result"}
	if imp.Error != "" {
		out.Error = s.text(c, imp.Error)
	}
	return out
}

// AdminImportProblem is one problem of a dry run: the data row (from 1, the header row not
// counted), the file's line, the column ("" for the whole row) and the message.
type AdminImportProblem struct {
	Row     int    `json:"row"`
	Line    int    `json:"line"`
	Column  string `json:"column"`
	Message string `json:"message"`
}

// AdminImportReport is a dry run's answer: nothing was written.
type AdminImportReport struct {
	Rows      int                  `json:"rows"`
	Valid     int                  `json:"valid"`
	Unchanged int                  `json:"unchanged"`
	Problems  []AdminImportProblem `json:"problems"`
}

func (s *Server) importProblems(c echo.Context, rep *account.ImportReport) []AdminImportProblem {
	out := make([]AdminImportProblem, 0, len(rep.Problems))
	for _, p := range rep.Problems {
		out = append(out, AdminImportProblem{Row: p.Row, Line: p.Line, Column: p.Column, Message: s.errText(c, p.Error)})
	}
	return out
}

// importUpload reads the uploaded file: a multipart form's "file", or the body itself
// (text/csv) named by ?file_name=.
func (s *Server) importUpload(c echo.Context) (string, []byte, error) {
	r := c.Request()
	tooLargeErr := &passport.Error{Code: passport.ETOOLARGE, Field: "file", Message: "The file is too large: the limit is %s.",
		Args: []any{passport.Bytes(importLimit)}}
	ct := r.Header.Get("Content-Type")
	if strings.HasPrefix(ct, "multipart/form-data") {
		fh, err := c.FormFile("file")
		if tooLarge(err) {
			return "", nil, tooLargeErr
		}
		if err != nil {
			return "", nil, passport.FieldError("file", "Choose a CSV file.")
		}
		if fh.Size > importLimit {
			return "", nil, tooLargeErr
		}
		f, err := fh.Open()
		if err != nil {
			return "", nil, err
		}
		defer f.Close()
		data, err := io.ReadAll(io.LimitReader(f, importLimit+1))
		if err != nil {
			return "", nil, err
		}
		if len(data) > importLimit {
			return "", nil, tooLargeErr
		}
		return fh.Filename, data, nil
	}
	mt := strings.ToLower(strings.TrimSpace(strings.Split(ct, ";")[0]))
	switch mt {
	case "", "text/csv", "text/plain", "application/csv", "application/octet-stream":
	default:
		return "", nil, &passport.Error{Code: passport.EINVALID, Field: "file",
			Message: "Send the CSV file as the body (Content-Type: text/csv) or as the file of a multipart form."}
	}
	data, err := io.ReadAll(http.MaxBytesReader(c.Response(), r.Body, importLimit))
	if tooLarge(err) {
		return "", nil, tooLargeErr
	}
	if err != nil {
		return "", nil, err
	}
	return c.QueryParam("file_name"), data, nil
}

// ---- The admin API ----

// apiAdminImportCreate checks (dry_run=true: 200 with the report, nothing written) or
// queues (202 with the import and its Location) a CSV file of members.
func (s *Server) apiAdminImportCreate(c echo.Context) error {
	ctx, actor := c.Request().Context(), actorOf(c)
	o, err := s.adminOrgParam(c)
	if err != nil {
		return err
	}
	dry := false
	switch c.QueryParam("dry_run") {
	case "", "false", "0":
	case "true", "1":
		dry = true
	default:
		return passport.FieldError("dry_run", "dry_run is true or false.")
	}
	name, data, err := s.importUpload(c)
	if err != nil {
		return err
	}
	if dry {
		rep, err := s.acct.CheckImport(ctx, actor, o.ID, data, s.cfg.Issued.ImportMaxRows)
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, AdminImportReport{Rows: rep.Rows, Valid: rep.Valid, Unchanged: rep.Unchanged,
			Problems: s.importProblems(c, rep)})
	}
	imp, err := s.acct.StartImport(ctx, actor, o.ID, name, data, s.cfg.Issued.ImportMaxRows)
	if err != nil {
		return err
	}
	c.Response().Header().Set("Location", "/api/v1/admin/orgs/"+o.ID+"/imports/"+imp.ID)
	return c.JSON(http.StatusAccepted, s.adminImportJSON(c, o.ID, imp))
}

func (s *Server) apiAdminImports(c echo.Context) error {
	o, err := s.adminOrgParam(c)
	if err != nil {
		return err
	}
	list, err := s.acct.Imports(c.Request().Context(), actorOf(c), o.ID)
	if err != nil {
		return err
	}
	out := make([]AdminImport, 0, len(list))
	for i := range list {
		out = append(out, s.adminImportJSON(c, o.ID, &list[i]))
	}
	return c.JSON(http.StatusOK, map[string]any{"imports": out})
}

func (s *Server) apiAdminImport(c echo.Context) error {
	o, err := s.adminOrgParam(c)
	if err != nil {
		return err
	}
	imp, err := s.acct.Import(c.Request().Context(), actorOf(c), o.ID, c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, s.adminImportJSON(c, o.ID, imp))
}

func (s *Server) apiAdminImportResult(c echo.Context) error {
	o, err := s.adminOrgParam(c)
	if err != nil {
		return err
	}
	return s.importResult(c, o.ID)
}

// importResult sends an import's result file (so far), its messages in the reader's
// language.
func (s *Server) importResult(c echo.Context, orgID string) error {
	id := c.Param("id")
	b, err := s.acct.ImportResult(c.Request().Context(), actorOf(c), orgID, id,
		func(m string, args ...any) string { return s.text(c, m, args...) })
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	c.Response().Header().Set("Content-Disposition", `attachment; filename="import-`+id+`-result.csv"`)
	return c.Blob(http.StatusOK, "text/csv; charset=utf-8", b)
}

// ---- The console ----

var importStatuses = map[string]string{
	passport.ImportQueued: "Queued", passport.ImportRunning: "Running",
	passport.ImportDone: "Finished", passport.ImportFailed: "Failed",
}

type importView struct {
	AdminImport
	Href, ResultHref string
	StatusText       string // a sentence of the catalogue
	Percent          int
}

type importProblemView struct {
	Row, Line       int
	Column, Problem string
}

type importReportView struct {
	FileName               string
	Rows, Valid, Unchanged int
	Problems               []importProblemView
	More                   int // problems not shown
	Clean                  bool
}

type adminImportsPage struct {
	consoleBase
	Org     *passport.Organisation
	Ref     string
	Imports []importView
	Import  *importView // the import page's
	Report  *importReportView
	Columns string
	MaxRows int
	Errors  map[string]string
}

// maxShownProblems bounds the dry-run report on the page (the API gives every one).
const maxShownProblems = 500

func (s *Server) importView(c echo.Context, o *passport.Organisation, imp *postgres.Import) importView {
	base := "/admin/orgs/" + url.PathEscape(o.Alias) + "/imports/" + imp.ID
	v := importView{AdminImport: s.adminImportJSON(c, o.ID, imp), Href: base, ResultHref: base + "/result",
		StatusText: importStatuses[imp.Status]}
	if imp.Total > 0 {
		v.Percent = imp.Processed * 100 / imp.Total
	}
	return v
}

func (s *Server) renderImports(c echo.Context, status int, o *passport.Organisation, rep *importReportView, errs map[string]string, problem string) error {
	list, err := s.acct.Imports(c.Request().Context(), actorOf(c), o.ID)
	if err != nil {
		return err
	}
	p := adminImportsPage{consoleBase: s.consoleBase(c, "Import members from CSV", "orgs"), Org: o, Ref: o.Alias, Report: rep,
		Columns: strings.Join(account.ImportColumns, ", "), MaxRows: s.cfg.Issued.ImportMaxRows, Errors: errs}
	p.Problem = problem
	if c.QueryParam("saved") == "import-started" {
		p.Flash = "The import is queued: reload the page to see its progress."
	}
	for i := range list {
		p.Imports = append(p.Imports, s.importView(c, o, &list[i]))
	}
	return s.page(c, status, "admin_imports", p)
}

// handleAdminImports shows the upload form and the organisation's last imports.
func (s *Server) handleAdminImports(c echo.Context, a *passport.Account) error {
	o, err := s.acct.Org(c.Request().Context(), actorOf(c), c.Param("org"))
	if err != nil {
		return err
	}
	return s.renderImports(c, http.StatusOK, o, nil, nil, "")
}

// handleAdminImportUpload checks the uploaded file (action=check: the report on the page,
// nothing written) or queues it (action=import: to the import's page).
func (s *Server) handleAdminImportUpload(c echo.Context, a *passport.Account) error {
	ctx, actor := c.Request().Context(), actorOf(c)
	o, err := s.acct.Org(ctx, actor, c.Param("org"))
	if err != nil {
		return err
	}
	action := c.FormValue("action")
	if action != "check" && action != "import" {
		return passport.Errorf(passport.EINVALID, "The form could not be read.")
	}
	fail := func(err error) error {
		errs := map[string]string{}
		var pe *passport.Error
		if asDomain(err, &pe) && pe.Code == passport.ETOOLARGE {
			errs["file"] = s.errText(c, pe)
			return s.renderImports(c, http.StatusRequestEntityTooLarge, o, nil, errs, "")
		}
		status, problem, err := s.refusal(c, err, errs)
		if err != nil {
			return err
		}
		return s.renderImports(c, status, o, nil, errs, problem)
	}
	name, data, err := s.importUpload(c)
	if err != nil {
		return fail(err)
	}
	if action == "check" {
		rep, err := s.acct.CheckImport(ctx, actor, o.ID, data, s.cfg.Issued.ImportMaxRows)
		if err != nil {
			return fail(err)
		}
		v := &importReportView{FileName: name, Rows: rep.Rows, Valid: rep.Valid, Unchanged: rep.Unchanged,
			Clean: len(rep.Problems) == 0}
		for i, p := range s.importProblems(c, rep) {
			if i == maxShownProblems {
				v.More = len(rep.Problems) - i
				break
			}
			v.Problems = append(v.Problems, importProblemView{Row: p.Row, Line: p.Line, Column: p.Column, Problem: p.Message})
		}
		return s.renderImports(c, http.StatusOK, o, v, nil, "")
	}
	imp, err := s.acct.StartImport(ctx, actor, o.ID, name, data, s.cfg.Issued.ImportMaxRows)
	if err != nil {
		return fail(err)
	}
	return c.Redirect(http.StatusSeeOther, "/admin/orgs/"+url.PathEscape(o.Alias)+"/imports/"+imp.ID+"?saved=import-started")
}

// handleAdminImport shows one import: its status and counters (a reload shows the
// progress) and the result file's link.
func (s *Server) handleAdminImport(c echo.Context, a *passport.Account) error {
	ctx, actor := c.Request().Context(), actorOf(c)
	o, err := s.acct.Org(ctx, actor, c.Param("org"))
	if err != nil {
		return err
	}
	imp, err := s.acct.Import(ctx, actor, o.ID, c.Param("id"))
	if err != nil {
		return err
	}
	v := s.importView(c, o, imp)
	p := adminImportsPage{consoleBase: s.consoleBase(c, "Import of members", "orgs"), Org: o, Ref: o.Alias, Import: &v}
	if c.QueryParam("saved") == "import-started" {
		p.Flash = "The import is queued: reload the page to see its progress."
	}
	return s.page(c, http.StatusOK, "admin_import", p)
}

// handleAdminImportResult downloads an import's result file.
func (s *Server) handleAdminImportResult(c echo.Context, a *passport.Account) error {
	o, err := s.acct.Org(c.Request().Context(), actorOf(c), c.Param("org"))
	if err != nil {
		return err
	}
	return s.importResult(c, o.ID)
}
