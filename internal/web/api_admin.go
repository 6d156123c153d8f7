package web

import (
	"encoding/base64"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/passport-idp/passport/internal/account"
	"github.com/passport-idp/passport/internal/passport"
	"github.com/passport-idp/passport/internal/postgres"
)

// The admin API, /api/v1/admin: every console action for programs, documented in
// docs/openapi.yaml. adminAPIAuth has established the actor (an administrator, or an
// organisation's service account); each handler parses, calls internal/account, which
// scopes by the actor's authority (another organisation's id answers 404), and renders.
// Bodies and errors follow /api/v1/me: strict JSON, {"error": {code, message, fields}}.

// AdminOrg is an organisation as the admin API returns it.
type AdminOrg struct {
	ID        string    `json:"id"`
	Alias     string    `json:"alias"`
	Name      string    `json:"name"`
	Status    string    `json:"status"` // active or disabled
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

func adminOrgJSON(o *passport.Organisation) AdminOrg {
	return AdminOrg{ID: o.ID, Alias: o.Alias, Name: o.Name, Status: o.Status, CreatedAt: o.CreatedAt, UpdatedAt: o.UpdatedAt}
}

// AdminOrgRef names the organisation of a membership.
type AdminOrgRef struct {
	ID    string `json:"id"`
	Alias string `json:"alias"`
	Name  string `json:"name"`
}

// AdminRole is one role of an organisation's catalogue: its key (used in claims) and its
// display name per language.
type AdminRole struct {
	Key   string            `json:"key"`
	Names map[string]string `json:"names"`
}

func adminRoleJSON(r passport.Role) AdminRole {
	names := r.Names
	if names == nil {
		names = map[string]string{}
	}
	return AdminRole{Key: r.Key, Names: names}
}

// AdminMember is one membership of the member list: the account and its place in one
// organisation.
type AdminMember struct {
	AccountID          string      `json:"account_id"`
	Login              string      `json:"login"`
	Email              string      `json:"email"`
	GivenName          string      `json:"given_name"`
	FamilyName         string      `json:"family_name"`
	Organisation       AdminOrgRef `json:"organisation"`
	Roles              []string    `json:"roles"`
	Position           string      `json:"position"`
	Managed            bool        `json:"managed"`
	Status             string      `json:"status"`
	VerificationStatus string      `json:"verification_status"`
	LastVisitAt        *time.Time  `json:"last_visit_at"`
	CreatedAt          time.Time   `json:"created_at"`
}

func adminMemberRow(r postgres.MemberRow) AdminMember {
	return AdminMember{AccountID: r.AccountID, Login: r.Login, Email: r.Email, GivenName: r.GivenName, FamilyName: r.FamilyName,
		Organisation: AdminOrgRef{ID: r.OrgID, Alias: r.OrgAlias, Name: r.OrgName}, Roles: passport.NonNil(r.Roles),
		Position: r.Position, Managed: r.Managed, Status: r.Status, VerificationStatus: r.VerificationStatus,
		LastVisitAt: r.LastVisitAt, CreatedAt: r.CreatedAt}
}

// AdminMembership is one of a member's memberships that the administrator may see.
type AdminMembership struct {
	Organisation       AdminOrgRef `json:"organisation"`
	OrganisationStatus string      `json:"organisation_status"`
	Roles              []string    `json:"roles"`
	Position           string      `json:"position"`
	Managed            bool        `json:"managed"`
	Primary            bool        `json:"primary"`
	CreatedAt          time.Time   `json:"created_at"`
}

// AdminSession is one of a member's sessions (live, or ended in the last 30 days).
type AdminSession struct {
	ID         string     `json:"id"`
	IP         string     `json:"ip"`
	UserAgent  string     `json:"user_agent"`
	AMR        []string   `json:"amr"`
	StartedAt  time.Time  `json:"started_at"`
	LastSeenAt time.Time  `json:"last_seen_at"`
	ExpiresAt  time.Time  `json:"expires_at"`
	EndedAt    *time.Time `json:"ended_at"`
}

// AdminMemberDetail is one member as GET …/members/{id} returns it: the list's row, the
// membership's primary mark, the memberships in the administrator's scope and the sessions.
type AdminMemberDetail struct {
	AdminMember
	Primary     bool              `json:"primary"`
	Memberships []AdminMembership `json:"memberships"`
	Sessions    []AdminSession    `json:"sessions"`
}

func adminMemberDetail(m *account.Member) AdminMemberDetail {
	a, ms := m.Account, m.Membership
	d := AdminMemberDetail{AdminMember: AdminMember{AccountID: a.ID, Login: a.Login, Email: a.Email, GivenName: a.GivenName,
		FamilyName: a.FamilyName, Organisation: AdminOrgRef{ID: ms.OrgID, Alias: ms.OrgAlias, Name: ms.OrgName},
		Roles: passport.NonNil(ms.Roles), Position: ms.Position, Managed: ms.Managed, Status: a.Status,
		VerificationStatus: a.VerificationStatus, LastVisitAt: a.LastVisitAt, CreatedAt: a.CreatedAt},
		Primary: ms.Primary, Memberships: []AdminMembership{}, Sessions: []AdminSession{}}
	for _, x := range m.Memberships {
		d.Memberships = append(d.Memberships, AdminMembership{Organisation: AdminOrgRef{ID: x.OrgID, Alias: x.OrgAlias, Name: x.OrgName},
			OrganisationStatus: x.OrgStatus, Roles: passport.NonNil(x.Roles), Position: x.Position, Managed: x.Managed,
			Primary: x.Primary, CreatedAt: x.CreatedAt})
	}
	for _, x := range m.Sessions {
		d.Sessions = append(d.Sessions, AdminSession{ID: x.ID, IP: x.IP, UserAgent: x.UserAgent, AMR: passport.NonNil(x.AMR),
			StartedAt: x.CreatedAt, LastSeenAt: x.LastSeenAt, ExpiresAt: x.ExpiresAt, EndedAt: x.EndedAt})
	}
	return d
}

// AdminMembers is a page of the member list.
type AdminMembers struct {
	Members []AdminMember `json:"members"`
	// NextCursor is passed as ?cursor= for the next page; null on the last page.
	NextCursor *string `json:"next_cursor"`
}

// AdminEvents is a page of an events feed.
type AdminEvents struct {
	Events []EventJSON `json:"events"`
	// NextBefore is passed as ?before= for older events; null on the last page.
	NextBefore *int64 `json:"next_before"`
}

// ---- Organisations ----

func (s *Server) apiAdminOrgs(c echo.Context) error {
	list, err := s.acct.Orgs(c.Request().Context(), actorOf(c))
	if err != nil {
		return err
	}
	out := make([]AdminOrg, 0, len(list))
	for i := range list {
		out = append(out, adminOrgJSON(&list[i]))
	}
	return c.JSON(http.StatusOK, map[string]any{"orgs": out})
}

func (s *Server) apiAdminOrgCreate(c echo.Context) error {
	var in struct {
		Alias string `json:"alias"`
		Name  string `json:"name"`
	}
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	o, err := s.acct.CreateOrg(c.Request().Context(), actorOf(c), in.Alias, in.Name)
	if err != nil {
		return err
	}
	c.Response().Header().Set("Location", "/api/v1/admin/orgs/"+o.ID)
	return c.JSON(http.StatusCreated, adminOrgJSON(o))
}

// adminOrgParam is the organisation the path names (id or alias), in the actor's scope.
func (s *Server) adminOrgParam(c echo.Context) (*passport.Organisation, error) {
	return s.acct.Org(c.Request().Context(), actorOf(c), c.Param("org"))
}

func (s *Server) apiAdminOrg(c echo.Context) error {
	o, err := s.adminOrgParam(c)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, adminOrgJSON(o))
}

// apiAdminOrgUpdate renames, disables or enables an organisation (service administrators).
// The status is checked before anything changes, so a refused request changes nothing.
func (s *Server) apiAdminOrgUpdate(c echo.Context) error {
	var in struct {
		Name   *string `json:"name"`
		Status *string `json:"status"`
	}
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	ctx, actor := c.Request().Context(), actorOf(c)
	o, err := s.adminOrgParam(c)
	if err != nil {
		return err
	}
	if in.Status != nil && *in.Status != passport.OrgActive && *in.Status != passport.OrgDisabled {
		return passport.FieldError("status", "The status is active or disabled.")
	}
	if in.Name != nil {
		if o, err = s.acct.RenameOrg(ctx, actor, o.ID, *in.Name); err != nil {
			return err
		}
	}
	if in.Status != nil {
		if o, err = s.acct.SetOrgDisabled(ctx, actor, o.ID, *in.Status == passport.OrgDisabled); err != nil {
			return err
		}
	}
	return c.JSON(http.StatusOK, adminOrgJSON(o))
}

// ---- Roles ----

func (s *Server) apiAdminRoles(c echo.Context) error {
	o, err := s.adminOrgParam(c)
	if err != nil {
		return err
	}
	roles, err := s.acct.Roles(c.Request().Context(), actorOf(c), o.ID)
	if err != nil {
		return err
	}
	out := make([]AdminRole, 0, len(roles))
	for _, r := range roles {
		out = append(out, adminRoleJSON(r))
	}
	return c.JSON(http.StatusOK, map[string]any{"roles": out})
}

// apiAdminRolePut adds the role named by the path to the catalogue, or renames it.
func (s *Server) apiAdminRolePut(c echo.Context) error {
	var in struct {
		Names map[string]string `json:"names"`
	}
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	o, err := s.adminOrgParam(c)
	if err != nil {
		return err
	}
	r := passport.Role{Key: c.Param("key"), Names: in.Names}
	if err := s.acct.SaveRole(c.Request().Context(), actorOf(c), o.ID, r); err != nil {
		return err
	}
	roles, err := s.acct.Roles(c.Request().Context(), actorOf(c), o.ID)
	if err != nil {
		return err
	}
	for _, saved := range roles {
		if saved.Key == strings.TrimSpace(r.Key) {
			return c.JSON(http.StatusOK, adminRoleJSON(saved))
		}
	}
	return passport.Errorf(passport.ENOTFOUND, "No such role.")
}

// apiAdminRoleDelete removes a role from the catalogue and from every member holding it.
func (s *Server) apiAdminRoleDelete(c echo.Context) error {
	o, err := s.adminOrgParam(c)
	if err != nil {
		return err
	}
	if err := s.acct.DeleteRole(c.Request().Context(), actorOf(c), o.ID, c.Param("key")); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// ---- Members ----

// encodeAPICursor makes the member list's keyset position an opaque value.
func encodeAPICursor(cur postgres.MemberCursor) string {
	return base64.RawURLEncoding.EncodeToString([]byte(cur.Login + "\x00" + cur.OrgID))
}

// decodeAPICursor reads ?cursor=: a value this API gave out, else a field error (never a
// silent first page: a program that loops on it must learn of its mistake).
func decodeAPICursor(v string) (postgres.MemberCursor, error) {
	if v == "" {
		return postgres.MemberCursor{}, nil
	}
	bad := passport.FieldError("cursor", "This cursor is not one the member list gave out.")
	if len(v) > 512 {
		return postgres.MemberCursor{}, bad
	}
	raw, err := base64.RawURLEncoding.DecodeString(v)
	if err != nil {
		return postgres.MemberCursor{}, bad
	}
	login, orgID, ok := strings.Cut(string(raw), "\x00")
	if !ok || login == "" || !utf8.ValidString(login) || !isUUIDText(orgID) {
		return postgres.MemberCursor{}, bad
	}
	return postgres.MemberCursor{Login: login, OrgID: orgID}, nil
}

// isUUIDText reports whether s is a UUID in its canonical text form.
func isUUIDText(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, r := range s {
		switch i {
		case 8, 13, 18, 23:
			if r != '-' {
				return false
			}
		default:
			if !strings.ContainsRune("0123456789abcdefABCDEF", r) {
				return false
			}
		}
	}
	return true
}

// apiLimit reads ?limit=: 1 to max, def when absent.
func apiLimit(c echo.Context, def, max int) (int, error) {
	v := c.QueryParam("limit")
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > max {
		return 0, passport.FieldError("limit", "The limit is a whole number from 1 to 200.")
	}
	return n, nil
}

// queryProblem answers a query parameter's field error with 400 (badQuery); anything else
// goes to the error handler.
func (s *Server) queryProblem(c echo.Context, err error) error {
	var pe *passport.Error
	if errors.As(err, &pe) && pe.Code == passport.EINVALID && pe.Field != "" {
		return s.badQuery(c, pe)
	}
	return err
}

func (s *Server) apiAdminMembers(c echo.Context) error {
	return s.adminMemberList(c, c.QueryParam("org"))
}

func (s *Server) apiAdminOrgMembers(c echo.Context) error {
	o, err := s.adminOrgParam(c)
	if err != nil {
		return err
	}
	return s.adminMemberList(c, o.ID)
}

// adminMemberList is a page of members (of orgRef, or of every organisation in scope),
// filtered by ?status=, ?verification=, ?role= and ?q=, keyset-paged by ?cursor=.
func (s *Server) adminMemberList(c echo.Context, orgRef string) error {
	limit, err := apiLimit(c, memberPageSize, maxMemberPage)
	if err != nil {
		return s.queryProblem(c, err)
	}
	after, err := decodeAPICursor(c.QueryParam("cursor"))
	if err != nil {
		return s.queryProblem(c, err)
	}
	rows, next, err := s.acct.Members(c.Request().Context(), actorOf(c), account.MemberFilter{OrgID: orgRef,
		Status: c.QueryParam("status"), Verification: c.QueryParam("verification"), Role: c.QueryParam("role"),
		Query: c.QueryParam("q"), After: after, Limit: limit})
	if err != nil {
		return s.queryProblem(c, err)
	}
	out := AdminMembers{Members: make([]AdminMember, 0, len(rows))}
	for _, r := range rows {
		out.Members = append(out.Members, adminMemberRow(r))
	}
	if next.Login != "" {
		cur := encodeAPICursor(next)
		out.NextCursor = &cur
	}
	return c.JSON(http.StatusOK, out)
}

// adminMemberJSON answers with the member the path names, as it is now.
func (s *Server) adminMemberJSON(c echo.Context, status int, orgID, accountID string) error {
	m, err := s.acct.Member(c.Request().Context(), actorOf(c), orgID, accountID)
	if err != nil {
		return err
	}
	return c.JSON(status, adminMemberDetail(m))
}

func (s *Server) apiAdminMember(c echo.Context) error {
	o, err := s.adminOrgParam(c)
	if err != nil {
		return err
	}
	return s.adminMemberJSON(c, http.StatusOK, o.ID, c.Param("id"))
}

// apiAdminMemberUpdate changes a member's position or primary mark.
func (s *Server) apiAdminMemberUpdate(c echo.Context) error {
	var in struct {
		Position *string `json:"position"`
		Primary  *bool   `json:"primary"`
	}
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	o, err := s.adminOrgParam(c)
	if err != nil {
		return err
	}
	id := c.Param("id")
	if err := s.acct.ChangeMembership(c.Request().Context(), actorOf(c), o.ID, id,
		postgres.MembershipChange{Position: in.Position, Primary: in.Primary}); err != nil {
		return err
	}
	return s.adminMemberJSON(c, http.StatusOK, o.ID, id)
}

// apiAdminMemberRoles replaces a member's roles in the organisation.
func (s *Server) apiAdminMemberRoles(c echo.Context) error {
	var in struct {
		Roles *[]string `json:"roles"`
	}
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	if in.Roles == nil {
		return passport.FieldError("roles", "List the member's roles (an empty list takes every role away).")
	}
	o, err := s.adminOrgParam(c)
	if err != nil {
		return err
	}
	id := c.Param("id")
	if err := s.acct.ChangeMembership(c.Request().Context(), actorOf(c), o.ID, id,
		postgres.MembershipChange{Roles: in.Roles}); err != nil {
		return err
	}
	return s.adminMemberJSON(c, http.StatusOK, o.ID, id)
}

// apiAdminMemberRemove ends a membership: a managed member's account is scheduled for
// deletion (signed out everywhere), an unmanaged member keeps theirs.
func (s *Server) apiAdminMemberRemove(c echo.Context) error {
	o, err := s.adminOrgParam(c)
	if err != nil {
		return err
	}
	scheduled, err := s.acct.RemoveMember(c.Request().Context(), actorOf(c), o.ID, c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"account_id": c.Param("id"), "deletion_scheduled": scheduled})
}

func (s *Server) apiAdminMemberEvents(c echo.Context) error {
	o, err := s.adminOrgParam(c)
	if err != nil {
		return err
	}
	return s.adminEvents(c, account.EventFilter{OrgID: o.ID, AccountID: c.Param("id")})
}

// ---- Accounts (the organisation is the one through which the actor reaches it) ----

// adminAccountAction finds the organisation through which the actor reaches the account the
// path names (404 when none is in scope) and acts there.
func (s *Server) adminAccountAction(c echo.Context, act func(orgID, accountID string) error) error {
	id := c.Param("id")
	orgID, err := s.acct.OrgOfAccount(c.Request().Context(), actorOf(c), id)
	if err != nil {
		return err
	}
	if err := act(orgID, id); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// apiAdminBlock blocks an account: its sessions end and its tokens stop working at once.
func (s *Server) apiAdminBlock(c echo.Context) error {
	return s.adminAccountAction(c, func(orgID, id string) error {
		return s.acct.SetBlocked(c.Request().Context(), actorOf(c), orgID, id, true)
	})
}

func (s *Server) apiAdminUnblock(c echo.Context) error {
	return s.adminAccountAction(c, func(orgID, id string) error {
		return s.acct.SetBlocked(c.Request().Context(), actorOf(c), orgID, id, false)
	})
}

// apiAdminEndSessions ends every session of an account and revokes its tokens.
func (s *Server) apiAdminEndSessions(c echo.Context) error {
	return s.adminAccountAction(c, func(orgID, id string) error {
		return s.acct.EndSessions(c.Request().Context(), actorOf(c), orgID, id)
	})
}

// ---- Security events ----

func (s *Server) apiAdminOrgEvents(c echo.Context) error {
	o, err := s.adminOrgParam(c)
	if err != nil {
		return err
	}
	return s.adminEvents(c, account.EventFilter{OrgID: o.ID})
}

// apiAdminEvents is every event the actor may see: all for a service administrator, their
// organisations' for an organisation's.
func (s *Server) apiAdminEvents(c echo.Context) error {
	return s.adminEvents(c, account.EventFilter{})
}

// adminEvents answers a page of events, newest first: ?before=<id> for older ones, ?limit=
// up to 200 (50 by default).
func (s *Server) adminEvents(c echo.Context, f account.EventFilter) error {
	before, err := parseBefore(c.QueryParam("before"))
	if err != nil {
		return s.queryProblem(c, err)
	}
	limit, err := apiLimit(c, eventsPerPage, eventsAPIMax)
	if err != nil {
		return s.queryProblem(c, err)
	}
	f.Before, f.Limit = before, limit+1
	list, err := s.acct.Events(c.Request().Context(), actorOf(c), f)
	if err != nil {
		return s.queryProblem(c, err)
	}
	out := AdminEvents{Events: make([]EventJSON, 0, min(len(list), limit))}
	if len(list) > limit {
		next := list[limit-1].ID
		out.NextBefore = &next
		list = list[:limit]
	}
	for _, e := range list {
		out.Events = append(out.Events, s.eventJSON(c, e, false))
	}
	return c.JSON(http.StatusOK, out)
}
