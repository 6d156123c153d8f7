package web

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/passport-idp/passport/internal/account"
	"github.com/passport-idp/passport/internal/i18n"
	"github.com/passport-idp/passport/internal/passport"
	"github.com/passport-idp/passport/internal/postgres"
)

// The admin console's pages (SPEC §6, §12), reached through s.console. Like the cabinet they
// are server-rendered and work without JavaScript; every read and every change goes through
// internal/account with the administrator as actor (actorOf), which scopes it: another
// organisation's id answers ENOTFOUND, shown as the 404 page by the error handler. A field
// error comes back next to its field; a refused action (forbidden, conflicting) as a message
// on the page. After a change the browser is sent back (303) to the page with ?saved=….

// consoleFlashes are the sentences of the catalogue a console page shows after a change.
var consoleFlashes = map[string]string{
	"org-created": "The organisation is created.", "org-renamed": "The organisation is renamed.",
	"org-disabled": "The organisation is disabled: its members lost its roles.", "org-enabled": "The organisation is enabled.",
	"role-saved": "The role is saved.", "role-deleted": "The role is deleted.",
	"member-added": "The member is added.", "membership": "The membership is saved.",
	"blocked":   "The account is blocked: its sessions ended and its tokens stopped working.",
	"unblocked": "The account is unblocked.", "sessions-ended": "Every session of the account is ended.",
	"removed":          "The member is removed from the organisation; the account stays.",
	"removed-deletion": "The member is removed, and the account is scheduled for deletion.",
	"actions":          "The required actions are saved.",
	"two-factor":       "The two-factor policy is saved.",
}

// accountStatuses name an account's statuses on console pages.
var accountStatuses = map[string]string{
	passport.StatusActive: "Active", passport.StatusBlocked: "Blocked",
	passport.StatusPendingDeletion: "Pending deletion", passport.StatusDeleted: "Deleted",
}

// consoleLink is one entry of the console's navigation; Label is a sentence of the catalogue.
type consoleLink struct {
	Href, Label string
	Current     bool
}

// consoleBase is what every console page has besides the layout's data.
type consoleBase struct {
	Base
	Nav     []consoleLink
	Service bool   // the administrator is a service administrator
	Flash   string // a sentence of the catalogue, after a change
	Problem string // a refused action's message, translated
}

func (s *Server) consoleBase(c echo.Context, title, section string) consoleBase {
	b := consoleBase{Base: s.base(c, title), Service: actorOf(c).Authority.Service(), Flash: consoleFlashes[c.QueryParam("saved")]}
	for _, l := range []consoleLink{{Href: "/admin/members", Label: "Members"}, {Href: "/admin/orgs", Label: "Organisations"},
		{Href: "/admin/events", Label: "Security events"}, {Href: "/profile", Label: "Your profile"}} {
		l.Current = l.Href == "/admin/"+section
		b.Nav = append(b.Nav, l)
	}
	if b.Service {
		// Credential message templates are the service administrator's (SPEC §9).
		b.Nav = slices.Insert(b.Nav, 3, consoleLink{Href: "/admin/templates", Label: "Message templates", Current: section == "templates"})
	}
	return b
}

// refusal splits an action's error: a field error goes next to its field, a refusal
// (forbidden, conflicting, limited, invalid) becomes the page's message with its status;
// anything else (ENOTFOUND included, for the 404 page) is returned.
func (s *Server) refusal(c echo.Context, err error, errs map[string]string) (status int, problem string, rerr error) {
	var pe *passport.Error
	if !asDomain(err, &pe) {
		return 0, "", err
	}
	switch pe.Code {
	case passport.EINVALID, passport.EFORBIDDEN, passport.ECONFLICT, passport.ELIMITED:
	default:
		return 0, "", err
	}
	status = statusOf[pe.Code]
	if pe.Field != "" && errs != nil {
		errs[pe.Field] = s.errText(c, pe)
		return status, "", nil
	}
	return status, s.errText(c, pe), nil
}

// option is one choice of a select. Label is a sentence of the catalogue for the statuses,
// data (a name) for organisations and roles: the template knows which.
type option struct {
	Value, Label string
	Selected     bool
}

func options(values []string, labels map[string]string, selected string) []option {
	out := []option{}
	for _, v := range values {
		out = append(out, option{Value: v, Label: labels[v], Selected: v == selected})
	}
	return out
}

// ---- Entry, two factors, step-up ----

// handleAdminHome sends an administrator to where their work is: a service administrator to
// the organisations (they create and look after them), an organisation's administrator to its
// members (with the organisation chosen when they administer exactly one, so the "Add member"
// form is there at once), anyone administering several to the members of all of them.
func (s *Server) handleAdminHome(c echo.Context, a *passport.Account) error {
	actor := actorOf(c)
	if actor.Authority.Service() {
		return c.Redirect(http.StatusFound, "/admin/orgs")
	}
	orgs, err := s.acct.Orgs(c.Request().Context(), actor)
	if err != nil {
		return err
	}
	if len(orgs) == 1 {
		return c.Redirect(http.StatusFound, "/admin/members?"+url.Values{"org": {orgs[0].Alias}}.Encode())
	}
	return c.Redirect(http.StatusFound, "/admin/members")
}

type adminTwoFactorPage struct {
	Base
}

// handleAdminNeedsTwoFactor tells an administrator without a second factor that the console
// needs one, and where to turn it on.
func (s *Server) handleAdminNeedsTwoFactor(c echo.Context, a *passport.Account) error {
	c.Response().Header().Set("Cache-Control", "no-store")
	return s.page(c, http.StatusForbidden, "admin_two_factor", adminTwoFactorPage{Base: s.base(c, "Two-factor authentication required")})
}

type adminReauthPage struct {
	consoleBase
	Return    string
	TwoFactor bool
	Errors    map[string]string
}

func (s *Server) renderReauth(c echo.Context, status int, a *passport.Account, ret string, errs map[string]string) error {
	on, err := s.twoFactorOn(c.Request().Context(), a.ID)
	if err != nil {
		return err
	}
	if !safeAdminPath(ret) {
		ret = "/admin"
	}
	return s.page(c, status, "admin_reauth", adminReauthPage{consoleBase: s.consoleBase(c, "Confirm it is you", ""),
		Return: ret, TwoFactor: on, Errors: errs})
}

// handleAdminReauthForm asks for the password (and a code when two factors are on) before a
// change, when the sign-in is older than the console allows.
func (s *Server) handleAdminReauthForm(c echo.Context, a *passport.Account) error {
	return s.renderReauth(c, http.StatusOK, a, c.QueryParam("return"), nil)
}

// handleAdminReauth checks the password and code, renews the session's sign-in time (and
// its methods, as a sign-in records them) and returns to the page the change came from.
func (s *Server) handleAdminReauth(c echo.Context, a *passport.Account) error {
	ctx := c.Request().Context()
	ret := c.FormValue("return")
	twoFactor, err := s.verifyPasswordAndFactor(ctx, a, c.FormValue("password"), c.FormValue("code"))
	if err != nil {
		errs := map[string]string{}
		status, problem, err := s.refusal(c, err, errs)
		if err != nil {
			return err
		}
		if problem != "" {
			errs["password"] = problem
		}
		return s.renderReauth(c, status, a, ret, errs)
	}
	amr := []string{passport.AMRPassword}
	if twoFactor {
		amr = []string{passport.AMRPassword, passport.AMROTP, passport.AMRMFA}
	}
	sess := browserOf(c).Session
	if sess == nil {
		return c.Redirect(http.StatusSeeOther, "/signin")
	}
	if _, err := s.db.Reauthenticate(ctx, sess.ID, amr); err != nil {
		return err
	}
	if !safeAdminPath(ret) {
		ret = "/admin"
	}
	return c.Redirect(http.StatusSeeOther, ret)
}

// ---- Organisations ----

type adminOrgsPage struct {
	consoleBase
	Orgs   []passport.Organisation
	Alias  string
	Name   string
	Errors map[string]string
}

func (s *Server) renderOrgs(c echo.Context, status int, alias, name string, errs map[string]string) error {
	orgs, err := s.acct.Orgs(c.Request().Context(), actorOf(c))
	if err != nil {
		return err
	}
	return s.page(c, status, "admin_orgs", adminOrgsPage{consoleBase: s.consoleBase(c, "Organisations", "orgs"), Orgs: orgs,
		Alias: alias, Name: name, Errors: errs})
}

// handleAdminOrgs lists the organisations the administrator looks after; a service
// administrator also gets the form that creates one.
func (s *Server) handleAdminOrgs(c echo.Context, a *passport.Account) error {
	return s.renderOrgs(c, http.StatusOK, "", "", nil)
}

// handleAdminOrgCreate creates an organisation (service administrators only: anyone else is
// refused by internal/account).
func (s *Server) handleAdminOrgCreate(c echo.Context, a *passport.Account) error {
	alias, name := c.FormValue("alias"), c.FormValue("name")
	o, err := s.acct.CreateOrg(c.Request().Context(), actorOf(c), alias, name)
	var pe *passport.Error
	if asDomain(err, &pe) && pe.Field != "" {
		return s.renderOrgs(c, statusOf[pe.Code], alias, name, map[string]string{pe.Field: s.errText(c, pe)})
	}
	if err != nil {
		return err // an organisation's administrator is refused: the error page says why
	}
	return c.Redirect(http.StatusSeeOther, "/admin/orgs/"+url.PathEscape(o.Alias)+"?saved=org-created")
}

type roleRow struct {
	Key   string
	Name  string   // in the page's language
	Names []string // in the order of Base.Languages
}

type adminOrgPage struct {
	consoleBase
	Org       *passport.Organisation
	Ref       string // the organisation in URLs (its alias)
	Roles     []roleRow
	Name      string            // the rename form's value
	RoleKey   string            // the role form's key
	RoleNames map[string]string // the role form's names by language
	Errors    map[string]string
	// RequireTwoFactor: every member must have two factors (actions.go enrols them).
	RequireTwoFactor bool
}

type orgForm struct {
	Name      string
	RoleKey   string
	RoleNames map[string]string
	Errors    map[string]string
}

func (s *Server) renderOrg(c echo.Context, status int, o *passport.Organisation, f orgForm, problem string) error {
	actor := actorOf(c)
	roles, err := s.acct.Roles(c.Request().Context(), actor, o.ID)
	if err != nil {
		return err
	}
	lang := s.localizer(c).Lang()
	p := adminOrgPage{consoleBase: s.consoleBase(c, "Organisation", "orgs"), Org: o, Ref: o.Alias, Name: f.Name,
		RoleKey: f.RoleKey, RoleNames: f.RoleNames, Errors: f.Errors}
	p.Problem = problem
	if p.Name == "" {
		p.Name = o.Name
	}
	p.RequireTwoFactor = o.RequireTwoFactor
	if p.RoleNames == nil {
		p.RoleNames = map[string]string{}
	}
	for _, r := range roles {
		row := roleRow{Key: r.Key, Name: r.Name(lang)}
		for _, l := range i18n.Languages {
			row.Names = append(row.Names, r.Names[l.Tag])
		}
		p.Roles = append(p.Roles, row)
		// ?role=key fills the role form to rename that role.
		if f.Errors == nil && c.QueryParam("role") == r.Key {
			p.RoleKey, p.RoleNames = r.Key, r.Names
		}
	}
	return s.page(c, status, "admin_org", p)
}

// handleAdminOrg shows an organisation: its name, alias and status (a service administrator
// may rename, disable and enable it), its role catalogue, and links to its members and events.
func (s *Server) handleAdminOrg(c echo.Context, a *passport.Account) error {
	o, err := s.acct.Org(c.Request().Context(), actorOf(c), c.Param("org"))
	if err != nil {
		return err
	}
	return s.renderOrg(c, http.StatusOK, o, orgForm{}, "")
}

// handleAdminOrgUpdate renames, disables or enables an organisation (action=…). Disabling
// takes the organisation's roles out of its members' tokens at once, so it needs the confirm
// box ticked.
func (s *Server) handleAdminOrgUpdate(c echo.Context, a *passport.Account) error {
	ctx, actor := c.Request().Context(), actorOf(c)
	o, err := s.acct.Org(ctx, actor, c.Param("org"))
	if err != nil {
		return err
	}
	f := orgForm{Errors: map[string]string{}}
	var saved string
	switch c.FormValue("action") {
	case "rename":
		f.Name, saved = c.FormValue("name"), "org-renamed"
		_, err = s.acct.RenameOrg(ctx, actor, o.ID, f.Name)
	case "disable":
		if !confirmed(c) {
			f.Errors["confirm"] = s.text(c, "Tick the box to confirm.")
			return s.renderOrg(c, http.StatusBadRequest, o, f, "")
		}
		saved = "org-disabled"
		_, err = s.acct.SetOrgDisabled(ctx, actor, o.ID, true)
	case "enable":
		saved = "org-enabled"
		_, err = s.acct.SetOrgDisabled(ctx, actor, o.ID, false)
	default:
		return passport.Errorf(passport.EINVALID, "The form could not be read.")
	}
	if err != nil {
		status, problem, err := s.refusal(c, err, f.Errors)
		if err != nil {
			return err
		}
		return s.renderOrg(c, status, o, f, problem)
	}
	return c.Redirect(http.StatusSeeOther, "/admin/orgs/"+url.PathEscape(o.Alias)+"?saved="+saved)
}

// handleAdminRoleSave adds a role to the catalogue, or renames one (the same key): a name
// per language, at least one.
func (s *Server) handleAdminRoleSave(c echo.Context, a *passport.Account) error {
	ctx, actor := c.Request().Context(), actorOf(c)
	o, err := s.acct.Org(ctx, actor, c.Param("org"))
	if err != nil {
		return err
	}
	r := passport.Role{Key: c.FormValue("key"), Names: map[string]string{}}
	for _, l := range i18n.Languages {
		r.Names[l.Tag] = c.FormValue("name_" + l.Tag)
	}
	if err := s.acct.SaveRole(ctx, actor, o.ID, r); err != nil {
		f := orgForm{RoleKey: r.Key, RoleNames: r.Names, Errors: map[string]string{}}
		status, problem, err := s.refusal(c, err, f.Errors)
		if err != nil {
			return err
		}
		return s.renderOrg(c, status, o, f, problem)
	}
	return c.Redirect(http.StatusSeeOther, "/admin/orgs/"+url.PathEscape(o.Alias)+"?saved=role-saved#roles")
}

// handleAdminRoleDelete removes a role from the catalogue and from every member holding it.
func (s *Server) handleAdminRoleDelete(c echo.Context, a *passport.Account) error {
	ctx, actor := c.Request().Context(), actorOf(c)
	o, err := s.acct.Org(ctx, actor, c.Param("org"))
	if err != nil {
		return err
	}
	if err := s.acct.DeleteRole(ctx, actor, o.ID, c.FormValue("key")); err != nil {
		status, problem, err := s.refusal(c, err, nil)
		if err != nil {
			return err
		}
		return s.renderOrg(c, status, o, orgForm{}, problem)
	}
	return c.Redirect(http.StatusSeeOther, "/admin/orgs/"+url.PathEscape(o.Alias)+"?saved=role-deleted#roles")
}

// ---- Members ----

// memberPageSize is the member list's page; ?limit= may ask for 1 to maxMemberPage rows.
const (
	memberPageSize = 50
	maxMemberPage  = 200
)

// encodeCursor makes the member list's keyset position an opaque query value.
func encodeCursor(cur postgres.MemberCursor) string {
	if cur.Login == "" {
		return ""
	}
	return base64.RawURLEncoding.EncodeToString([]byte(cur.Login + "\x00" + cur.OrgID))
}

// decodeCursor reads ?after=; anything it cannot read is the first page, never an error.
func decodeCursor(s string) postgres.MemberCursor {
	if s == "" || len(s) > 512 {
		return postgres.MemberCursor{}
	}
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return postgres.MemberCursor{}
	}
	login, orgID, ok := strings.Cut(string(raw), "\x00")
	if !ok || login == "" || !utf8.ValidString(login) || strings.ContainsRune(orgID, 0) || !utf8.ValidString(orgID) {
		return postgres.MemberCursor{}
	}
	return postgres.MemberCursor{Login: login, OrgID: orgID}
}

// memberQuery is the member list's filter form, as the query string carries it.
type memberQuery struct {
	Org, Status, Verification, Role, Q string
	Limit                              int
}

func (q memberQuery) values() url.Values {
	v := url.Values{}
	for k, x := range map[string]string{"org": q.Org, "status": q.Status, "verification": q.Verification, "role": q.Role, "q": q.Q} {
		if x != "" {
			v.Set(k, x)
		}
	}
	if q.Limit > 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	return v
}

type memberRowView struct {
	ID, ShortID, Href  string
	Login, Email, Name string
	OrgName, OrgAlias  string
	Roles              string // names in the page's language
	LastVisit          time.Time
	Status             string // a sentence of the catalogue
	StatusValue        string
	Verification       string // translated
}

type roleChoice struct {
	Key, Name string
	Held      bool
}

type adminMembersPage struct {
	consoleBase
	Query         memberQuery
	Orgs          []option
	Statuses      []option
	Verifications []option
	Org           *passport.Organisation // the organisation the list is narrowed to
	RoleOptions   []option               // its catalogue, for the role filter
	Rows          []memberRowView
	Next          string // the next page's address, "" on the last
	Errors        map[string]string
	// The "Add member" form (an organisation chosen).
	AddLogin, AddPosition string
	AddRoles              []roleChoice
	AddErrors             map[string]string
}

func (s *Server) queryOf(c echo.Context) memberQuery {
	q := memberQuery{Org: c.QueryParam("org"), Status: c.QueryParam("status"), Verification: c.QueryParam("verification"),
		Role: c.QueryParam("role"), Q: c.QueryParam("q")}
	if n, err := strconv.Atoi(c.QueryParam("limit")); err == nil && n > 0 {
		q.Limit = min(n, maxMemberPage)
	}
	return q
}

// addForm is a submitted "Add member" form shown again with its problems.
type addForm struct {
	Login, Position string
	Roles           []string
	Errors          map[string]string
}

func (s *Server) renderMembers(c echo.Context, status int, q memberQuery, after string, add addForm, problem string) error {
	ctx, actor := c.Request().Context(), actorOf(c)
	lang := s.localizer(c).Lang()
	p := adminMembersPage{consoleBase: s.consoleBase(c, "Members", "members"), Query: q, Errors: map[string]string{},
		AddLogin: add.Login, AddPosition: add.Position, AddErrors: add.Errors}
	p.Problem = problem
	orgs, err := s.acct.Orgs(ctx, actor)
	if err != nil {
		return err
	}
	for _, o := range orgs {
		p.Orgs = append(p.Orgs, option{Value: o.Alias, Label: o.Name, Selected: q.Org == o.Alias || q.Org == o.ID})
	}
	p.Statuses = options([]string{passport.StatusActive, passport.StatusBlocked, passport.StatusPendingDeletion}, accountStatuses, q.Status)
	p.Verifications = options([]string{passport.VerificationNew, passport.VerificationRequiresCheck, passport.VerificationVerified,
		passport.VerificationIncorrectData}, verificationStatuses, q.Verification)

	catalogues := map[string]map[string]passport.Role{} // organisation id → its roles by key
	catalogue := func(orgID string) (map[string]passport.Role, error) {
		if cat, ok := catalogues[orgID]; ok {
			return cat, nil
		}
		roles, err := s.acct.Roles(ctx, actor, orgID)
		if err != nil {
			return nil, err
		}
		cat := map[string]passport.Role{}
		for _, r := range roles {
			cat[r.Key] = r
		}
		catalogues[orgID] = cat
		return cat, nil
	}
	if q.Org != "" {
		if p.Org, err = s.acct.Org(ctx, actor, q.Org); err != nil {
			return err
		}
		roles, err := s.acct.Roles(ctx, actor, p.Org.ID)
		if err != nil {
			return err
		}
		for _, r := range roles {
			p.RoleOptions = append(p.RoleOptions, option{Value: r.Key, Label: r.Name(lang), Selected: q.Role == r.Key})
			p.AddRoles = append(p.AddRoles, roleChoice{Key: r.Key, Name: r.Name(lang), Held: slices.Contains(add.Roles, r.Key)})
		}
	}

	rows, next, err := s.acct.Members(ctx, actor, account.MemberFilter{OrgID: q.Org, Status: q.Status, Verification: q.Verification,
		Role: q.Role, Query: q.Q, After: decodeCursor(after), Limit: q.Limit})
	if err != nil {
		// A filter value the list refuses comes back next to its filter, with an empty list.
		st, problem, err := s.refusal(c, err, p.Errors)
		if err != nil {
			return err
		}
		if problem != "" {
			p.Problem = problem
		}
		if status == http.StatusOK {
			status = st
		}
	}
	for _, r := range rows {
		cat, err := catalogue(r.OrgID)
		if err != nil {
			return err
		}
		var names []string
		for _, k := range r.Roles {
			if role, ok := cat[k]; ok {
				names = append(names, role.Name(lang))
			} else {
				names = append(names, k)
			}
		}
		v := memberRowView{ID: r.AccountID, ShortID: shortID(r.AccountID), Login: r.Login, Email: r.Email,
			Name: strings.TrimSpace(r.GivenName + " " + r.FamilyName), OrgName: r.OrgName, OrgAlias: r.OrgAlias,
			Roles: strings.Join(names, ", "), Status: accountStatuses[r.Status], StatusValue: r.Status,
			Verification: s.verificationText(c, r.VerificationStatus),
			Href:         "/admin/orgs/" + url.PathEscape(r.OrgAlias) + "/members/" + url.PathEscape(r.AccountID)}
		if r.LastVisitAt != nil {
			v.LastVisit = *r.LastVisitAt
		}
		p.Rows = append(p.Rows, v)
	}
	if cur := encodeCursor(next); cur != "" {
		v := q.values()
		v.Set("after", cur)
		p.Next = "/admin/members?" + v.Encode()
	}
	return s.page(c, status, "admin_members", p)
}

func shortID(id string) string {
	if len(id) > 8 {
		return id[:8]
	}
	return id
}

// handleAdminMembers is the member list: filters by organisation, status, verification and
// role, a search over login, name and email, and keyset pages (?after=, opaque).
func (s *Server) handleAdminMembers(c echo.Context, a *passport.Account) error {
	return s.renderMembers(c, http.StatusOK, s.queryOf(c), c.QueryParam("after"), addForm{}, "")
}

// handleAdminMemberAdd makes an existing account (by login) an unmanaged member.
func (s *Server) handleAdminMemberAdd(c echo.Context, a *passport.Account) error {
	ctx, actor := c.Request().Context(), actorOf(c)
	o, err := s.acct.Org(ctx, actor, c.Param("org"))
	if err != nil {
		return err
	}
	form, err := c.FormParams()
	if err != nil {
		return passport.Errorf(passport.EINVALID, "The form could not be read.")
	}
	add := addForm{Login: form.Get("login"), Position: form.Get("position"), Roles: form["roles"], Errors: map[string]string{}}
	added, err := s.acct.AddMember(ctx, actor, o.ID, add.Login, add.Roles, add.Position)
	if err != nil {
		status, problem, err := s.refusal(c, err, add.Errors)
		if err != nil {
			return err
		}
		if problem != "" { // already a member
			add.Errors["login"] = problem
		}
		return s.renderMembers(c, status, memberQuery{Org: o.Alias}, "", add, "")
	}
	return c.Redirect(http.StatusSeeOther, memberURL(o.Alias, added.ID)+"?saved=member-added")
}

func memberURL(org, id string) string {
	return "/admin/orgs/" + url.PathEscape(org) + "/members/" + url.PathEscape(id)
}

// ---- One member ----

type membershipView struct {
	passport.Membership
	Href  string
	Roles string // names in the page's language (keys for another organisation's)
}

type adminMemberPage struct {
	consoleBase
	Person       *passport.Account
	Membership   passport.Membership
	Memberships  []membershipView
	Href         string // this member page
	OrgRef       string
	Status       string // sentences of the catalogue / translated
	Verification string
	LastVisit    time.Time
	Roles        []roleChoice
	Position     string
	Primary      bool
	CanManage    bool // may block, unblock and end sessions (a managed member, or a service admin)
	Sessions     []SessionView
	Events       []eventView
	Older        string
	Errors       map[string]string
	// Sections of issue 13, each filled by its own file (admin_issue.go, actions.go,
	// locks.go) and drawn by its partial_member_*.html.
	Credentials memberCredentialsView
	Actions     memberActionsView
	Locks       memberLocksView
}

// eventView is one security event on a console page.
type eventView struct {
	ID          int64
	Type        string
	At          time.Time
	Text        string // translated
	Actor       string // translated: who acted, by organisation and role for administrators
	IP          string
	Account     string // the subject's short id
	AccountHref string
	OrgName     string
}

// eventViews shapes events for a console page.
func (s *Server) eventViews(c echo.Context, events []passport.Event) []eventView {
	actor := actorOf(c)
	out := []eventView{}
	for _, e := range events {
		v := eventView{ID: e.ID, Type: e.Type, At: e.At, Text: s.describeEvent(c, e), Actor: s.actorText(c, e),
			IP: e.Actor.IP, OrgName: e.OrgName}
		if e.AccountID != "" {
			v.Account = shortID(e.AccountID)
			if e.OrgID != "" && actor.Authority.CanAdminOrg(e.OrgID) {
				v.AccountHref = memberURL(e.OrgID, e.AccountID)
			}
		}
		out = append(out, v)
	}
	return out
}

// actorText says who caused an event: the account holder, an administrator by role and
// organisation, Passport itself, or an application.
func (s *Server) actorText(c echo.Context, e passport.Event) string {
	switch e.Actor.Kind {
	case passport.ActorPerson:
		return s.text(c, "The account holder")
	case passport.ActorAdmin:
		switch {
		case e.Actor.Role == passport.RoleServiceAdmin:
			return s.text(c, "Service administrator")
		case e.Actor.Role == passport.RoleReviewer && e.ActorOrg != "":
			return s.text(c, "Reviewer of %s", e.ActorOrg)
		case e.ActorOrg != "":
			return s.text(c, "Administrator of %s", e.ActorOrg)
		}
		return s.text(c, "Administrator")
	case passport.ActorClient:
		if e.ActorOrg != "" {
			return s.text(c, "Application %s of %s", e.Actor.ClientID, e.ActorOrg)
		}
		return s.text(c, "Application %s", e.Actor.ClientID)
	}
	return s.text(c, "Passport itself")
}

// memberForm is a submitted membership form shown again with its problems.
type memberForm struct {
	Roles    []string
	Position string
	Primary  bool
	Errors   map[string]string
}

const memberEvents = 20

func (s *Server) renderMember(c echo.Context, status int, f *memberForm, problem string) error {
	ctx, actor := c.Request().Context(), actorOf(c)
	m, err := s.acct.Member(ctx, actor, c.Param("org"), c.Param("id"))
	if err != nil {
		return err
	}
	roles, err := s.acct.Roles(ctx, actor, m.Membership.OrgID)
	if err != nil {
		return err
	}
	before, _ := strconv.ParseInt(c.QueryParam("before"), 10, 64)
	events, err := s.acct.Events(ctx, actor, account.EventFilter{OrgID: m.Membership.OrgID, AccountID: m.Account.ID,
		Member: m, Before: max(before, 0), Limit: memberEvents + 1})
	if err != nil {
		return err
	}
	lang := s.localizer(c).Lang()
	ms := m.Membership
	p := adminMemberPage{consoleBase: s.consoleBase(c, "Member", "members"), Person: m.Account, Membership: ms,
		Href: memberURL(ms.OrgAlias, m.Account.ID), OrgRef: ms.OrgAlias, Status: accountStatuses[m.Account.Status],
		Verification: s.verificationText(c, m.Account.VerificationStatus), Position: ms.Position, Primary: ms.Primary,
		CanManage: ms.Managed || actor.Authority.Service(), Errors: map[string]string{}}
	p.Problem = problem
	if m.Account.LastVisitAt != nil {
		p.LastVisit = *m.Account.LastVisitAt
	}
	held := ms.Roles
	if f != nil {
		held, p.Position, p.Primary, p.Errors = f.Roles, f.Position, f.Primary, f.Errors
	}
	names := map[string]string{}
	for _, r := range roles {
		names[r.Key] = r.Name(lang)
		p.Roles = append(p.Roles, roleChoice{Key: r.Key, Name: r.Name(lang), Held: slices.Contains(held, r.Key)})
	}
	for _, other := range m.Memberships {
		v := membershipView{Membership: other, Href: memberURL(other.OrgAlias, m.Account.ID)}
		var rn []string
		for _, k := range other.Roles {
			if n, ok := names[k]; ok && other.OrgID == ms.OrgID {
				rn = append(rn, n)
			} else {
				rn = append(rn, k)
			}
		}
		v.Roles = strings.Join(rn, ", ")
		p.Memberships = append(p.Memberships, v)
	}
	now := s.db.Now()
	l := s.localizer(c)
	for _, x := range m.Sessions {
		if x.EndedAt != nil || !x.ExpiresAt.After(now) {
			continue
		}
		p.Sessions = append(p.Sessions, SessionView{ID: x.ID, Device: describeDevice(l, x.UserAgent), IP: x.IP,
			StartedAt: x.CreatedAt, LastSeenAt: x.LastSeenAt})
	}
	if len(events) > memberEvents {
		events = events[:memberEvents]
		p.Older = p.Href + "?" + url.Values{"before": {strconv.FormatInt(events[len(events)-1].ID, 10)}}.Encode() + "#events"
	}
	p.Events = s.eventViews(c, events)
	if p.Credentials, err = s.memberCredentials(c, m); err != nil {
		return err
	}
	if p.Actions, err = s.memberActions(c, m); err != nil {
		return err
	}
	if p.Locks, err = s.memberLocks(c, m); err != nil {
		return err
	}
	return s.page(c, status, "admin_member", p)
}

// handleAdminMember is a member's page: the profile (read only), memberships, this
// membership's roles, position and primary mark (edited here), sessions, block and unblock,
// removal, and the account's security events.
func (s *Server) handleAdminMember(c echo.Context, a *passport.Account) error {
	return s.renderMember(c, http.StatusOK, nil, "")
}

// memberDone answers a member action: back to the member page with a flash, or the page
// again with the refusal.
func (s *Server) memberDone(c echo.Context, err error, saved string) error {
	if err != nil {
		status, problem, err := s.refusal(c, err, nil)
		if err != nil {
			return err
		}
		return s.renderMember(c, status, nil, problem)
	}
	return c.Redirect(http.StatusSeeOther, memberURL(c.Param("org"), c.Param("id"))+"?saved="+saved)
}

// handleAdminMemberUpdate saves the membership's roles (the ticked ones, from the
// catalogue), position and primary mark.
func (s *Server) handleAdminMemberUpdate(c echo.Context, a *passport.Account) error {
	form, err := c.FormParams()
	if err != nil {
		return passport.Errorf(passport.EINVALID, "The form could not be read.")
	}
	f := memberForm{Roles: passport.NonNil(form["roles"]), Position: form.Get("position"), Primary: form.Get("primary") == "yes",
		Errors: map[string]string{}}
	err = s.acct.ChangeMembership(c.Request().Context(), actorOf(c), c.Param("org"), c.Param("id"),
		postgres.MembershipChange{Roles: &f.Roles, Position: &f.Position, Primary: &f.Primary})
	if err != nil {
		status, problem, err := s.refusal(c, err, f.Errors)
		if err != nil {
			return err
		}
		return s.renderMember(c, status, &f, problem)
	}
	return c.Redirect(http.StatusSeeOther, memberURL(c.Param("org"), c.Param("id"))+"?saved=membership")
}

type adminRemovePage struct {
	consoleBase
	Person  *passport.Account
	OrgName string
	Managed bool
	PurgeAt time.Time
	Post    string
	Back    string
}

// handleAdminMemberRemoveForm says what removing the member does before it is done: a
// managed member's account is scheduled for deletion (with the usual grace); an unmanaged
// member keeps their account and only the membership goes.
func (s *Server) handleAdminMemberRemoveForm(c echo.Context, a *passport.Account) error {
	m, err := s.acct.Member(c.Request().Context(), actorOf(c), c.Param("org"), c.Param("id"))
	if err != nil {
		return err
	}
	href := memberURL(m.Membership.OrgAlias, m.Account.ID)
	return s.page(c, http.StatusOK, "admin_remove", adminRemovePage{consoleBase: s.consoleBase(c, "Remove from the organisation?", "members"),
		Person: m.Account, OrgName: m.Membership.OrgName, Managed: m.Membership.Managed,
		PurgeAt: s.db.Now().Add(s.cfg.DeletionGrace).UTC(), Post: href + "/remove", Back: href})
}

// handleAdminMemberRemove removes the member once confirmed.
func (s *Server) handleAdminMemberRemove(c echo.Context, a *passport.Account) error {
	if !confirmed(c) {
		return c.Redirect(http.StatusSeeOther, memberURL(c.Param("org"), c.Param("id"))+"/remove")
	}
	scheduled, err := s.acct.RemoveMember(c.Request().Context(), actorOf(c), c.Param("org"), c.Param("id"))
	if err != nil {
		return s.memberDone(c, err, "")
	}
	saved := "removed"
	if scheduled {
		saved = "removed-deletion"
	}
	return c.Redirect(http.StatusSeeOther, "/admin/members?"+url.Values{"org": {c.Param("org")}, "saved": {saved}}.Encode())
}

// handleAdminMemberBlock blocks the member's account: every session ends and every token
// stops working at once.
func (s *Server) handleAdminMemberBlock(c echo.Context, a *passport.Account) error {
	return s.memberDone(c, s.acct.SetBlocked(c.Request().Context(), actorOf(c), c.Param("org"), c.Param("id"), true), "blocked")
}

// handleAdminMemberUnblock lets a blocked member sign in again.
func (s *Server) handleAdminMemberUnblock(c echo.Context, a *passport.Account) error {
	return s.memberDone(c, s.acct.SetBlocked(c.Request().Context(), actorOf(c), c.Param("org"), c.Param("id"), false), "unblocked")
}

// handleAdminMemberEndSessions signs the member out everywhere and revokes their tokens.
func (s *Server) handleAdminMemberEndSessions(c echo.Context, a *passport.Account) error {
	return s.memberDone(c, s.acct.EndSessions(c.Request().Context(), actorOf(c), c.Param("org"), c.Param("id")), "sessions-ended")
}

// ---- Events ----

const eventPage = 50

type adminEventsPage struct {
	consoleBase
	Orgs   []option
	Org    string
	Events []eventView
	Older  string
}

// handleAdminEvents is the security-event feed of the administrator's scope (one
// organisation with ?org=), newest first, with an "Older" link (?before=<id>).
func (s *Server) handleAdminEvents(c echo.Context, a *passport.Account) error {
	ctx, actor := c.Request().Context(), actorOf(c)
	org := c.QueryParam("org")
	before, _ := strconv.ParseInt(c.QueryParam("before"), 10, 64)
	events, err := s.acct.Events(ctx, actor, account.EventFilter{OrgID: org, Before: max(before, 0), Limit: eventPage + 1})
	if err != nil {
		return err
	}
	orgs, err := s.acct.Orgs(ctx, actor)
	if err != nil {
		return err
	}
	p := adminEventsPage{consoleBase: s.consoleBase(c, "Security events", "events"), Org: org}
	for _, o := range orgs {
		p.Orgs = append(p.Orgs, option{Value: o.Alias, Label: o.Name, Selected: org == o.Alias || org == o.ID})
	}
	if len(events) > eventPage {
		events = events[:eventPage]
		v := url.Values{"before": {strconv.FormatInt(events[len(events)-1].ID, 10)}}
		if org != "" {
			v.Set("org", org)
		}
		p.Older = "/admin/events?" + v.Encode()
	}
	p.Events = s.eventViews(c, events)
	return s.page(c, http.StatusOK, "admin_events", p)
}
