package web

import (
	"cmp"
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/passport-idp/passport/internal/i18n"
	"github.com/passport-idp/passport/internal/passport"
)

// Security events as people and programs see them (SPEC §12). One shape for every feed:
// the person's own (cabinet tab, GET /api/v1/me/events, the export) and the
// administrators' (console, /api/v1/admin/…/events).

// EventJSON is one security event in the APIs and the export.
type EventJSON struct {
	ID        int64          `json:"id"`
	At        time.Time      `json:"at"`
	Type      string         `json:"type"`
	Actor     EventActorJSON `json:"actor"`
	AccountID string         `json:"account_id,omitempty"`
	// Organisation is the organisation the event concerns, when there is one.
	Organisation *EventOrgJSON  `json:"organisation,omitempty"`
	IP           string         `json:"ip,omitempty"`
	UserAgent    string         `json:"user_agent,omitempty"`
	Details      map[string]any `json:"details"`
	// Description says what happened in the reader's language.
	Description string `json:"description"`
}

// EventActorJSON says who acted. For the person's own feed an administrator is named by
// organisation and role, never by account: AccountID is left out there.
type EventActorJSON struct {
	Kind         string        `json:"kind"` // person, admin, system, client
	AccountID    string        `json:"account_id,omitempty"`
	Role         string        `json:"role,omitempty"`
	Organisation *EventOrgJSON `json:"organisation,omitempty"`
	ClientID     string        `json:"client_id,omitempty"`
}

// EventOrgJSON names an organisation in an event.
type EventOrgJSON struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// eventJSON shapes an event for a reader; own is true for the person's own feed, which
// names acting administrators by organisation and role only (no account, address or
// browser).
func (s *Server) eventJSON(c echo.Context, e passport.Event, own bool) EventJSON {
	return eventJSONIn(s.localizer(c), e, own)
}

// eventJSONIn is eventJSON in the language of l (the export has no request to ask).
func eventJSONIn(l *i18n.Localizer, e passport.Event, own bool) EventJSON {
	j := EventJSON{ID: e.ID, At: e.At, Type: e.Type, AccountID: e.AccountID, IP: e.Actor.IP, UserAgent: e.Actor.UserAgent,
		Details: e.Details, Description: describe(l, e),
		Actor: EventActorJSON{Kind: e.Actor.Kind, AccountID: e.Actor.AccountID, Role: e.Actor.Role, ClientID: e.Actor.ClientID}}
	if j.Details == nil {
		j.Details = map[string]any{}
	}
	if e.OrgID != "" {
		j.Organisation = &EventOrgJSON{ID: e.OrgID, Name: e.OrgName}
	}
	if e.Actor.OrgID != "" {
		j.Actor.Organisation = &EventOrgJSON{ID: e.Actor.OrgID, Name: e.ActorOrg}
	}
	if own && e.Actor.Kind != passport.ActorPerson {
		// An administrator's address and browser would name them as surely as their login.
		j.Actor.AccountID, j.IP, j.UserAgent = "", "", ""
	}
	return j
}

// describeEvent is the event's sentence in the reader's language.
func (s *Server) describeEvent(c echo.Context, e passport.Event) string {
	return describe(s.localizer(c), e)
}

// describe says in one sentence what the event records, in l's language, from its type,
// the organisation it concerns and its details (names of what changed, never values the
// reader should not see). Every type of internal/passport has its sentence (a test parses
// the constants); an unknown one, from a newer version, is still shown.
func describe(l *i18n.Localizer, e passport.Event) string {
	d := e.Details
	org := e.OrgName
	if org == "" {
		org = l.Sprintf("an organisation")
	}
	switch e.Type {
	case passport.EventSigninOK:
		if amr := detailStrings(d, "amr"); containsAny(amr, passport.AMROTP, passport.AMRMFA) {
			return l.Sprintf("Signed in with two factors")
		}
		return l.Sprintf("Signed in")
	case passport.EventSigninFailed:
		if e.AccountID == "" { // seen only in the service administrator's feed
			return l.Sprintf("Failed sign-in attempt with a login that does not exist")
		}
		if detailString(d, "factor") == "expired" {
			return l.Sprintf("Sign-in refused: the temporary password has expired.")
		}
		if detailString(d, "factor") == "code" {
			return l.Sprintf("Failed sign-in attempt: the password was right, the code was wrong")
		}
		return l.Sprintf("Failed sign-in attempt: wrong password")
	case passport.EventPasswordChanged:
		if detailBool(d, "temporary") {
			return l.Sprintf("The temporary password was replaced by the person's own.")
		}
		return l.Sprintf("Password changed")
	case passport.EventPasswordReset:
		return l.Sprintf("Password reset after a forgotten-password request")
	case passport.EventTwoFactorOn:
		return l.Sprintf("Two-factor authentication turned on")
	case passport.EventTwoFactorOff:
		return l.Sprintf("Two-factor authentication turned off")
	case passport.EventRecoveryCodesNew:
		return l.Sprintf("New recovery codes made; the earlier ones stopped working")
	case passport.EventConsentGiven:
		return l.Sprintf("Consent given to %s", detailString(d, "client_id"))
	case passport.EventConsentWithdrawn:
		if detailBool(d, "disconnected") {
			return l.Sprintf("Application %s disconnected", detailString(d, "client_id"))
		}
		return l.Sprintf("Consent withdrawn from %s", detailString(d, "client_id"))
	case passport.EventContactChanged:
		if detailString(d, "kind") == "phone" {
			return l.Sprintf("Phone number changed")
		}
		return l.Sprintf("Email address changed")
	case passport.EventEmailLinkConfirmed:
		return l.Sprintf("Email address changed, confirmed with the emailed link")
	case passport.EventContactRemoved:
		if detailString(d, "kind") == "phone" {
			return l.Sprintf("Phone number removed")
		}
		return l.Sprintf("Email address removed")
	case passport.EventProfileChanged:
		if fields := fieldLabels(l, detailStrings(d, "fields")); fields != "" {
			return l.Sprintf("Profile changed: %s", fields)
		}
		return l.Sprintf("Profile changed")
	case passport.EventPublicityChanged:
		return l.Sprintf("Privacy settings changed")
	case passport.EventDeletionScheduled:
		return l.Sprintf("Account deletion scheduled")
	case passport.EventDeletionRestored:
		return l.Sprintf("Account restored: it will not be deleted")
	case passport.EventAccountPurged:
		return l.Sprintf("Account deleted")
	case passport.EventSessionEnded:
		if detailBool(d, "sign_out") {
			return l.Sprintf("Signed out")
		}
		return l.Sprintf("A session was ended")
	case passport.EventSessionsEnded:
		return l.Sprintf("Signed out on every device")
	case passport.EventAccountCreated:
		return l.Sprintf("Account created")
	case passport.EventSignupCompleted:
		return l.Sprintf("Account created by signing up")
	case passport.EventAccountBlocked:
		return l.Sprintf("Account blocked")
	case passport.EventAccountUnblocked:
		return l.Sprintf("Account unblocked")
	case passport.EventOrgCreated:
		if n := detailString(d, "name"); n != "" {
			org = n
		}
		return l.Sprintf("Organisation %s created", org)
	case passport.EventOrgRenamed:
		if from, to := detailString(d, "from"), detailString(d, "to"); from != "" && to != "" {
			return l.Sprintf("Organisation %[1]s renamed to %[2]s", from, to)
		}
		return l.Sprintf("Organisation %s renamed", org)
	case passport.EventOrgDisabled:
		return l.Sprintf("Organisation %s disabled", org)
	case passport.EventOrgEnabled:
		return l.Sprintf("Organisation %s enabled", org)
	case passport.EventRoleSaved:
		return l.Sprintf("Role %[1]s saved in %[2]s", detailString(d, "role"), org)
	case passport.EventRoleDeleted:
		return l.Sprintf("Role %[1]s deleted in %[2]s", detailString(d, "role"), org)
	case passport.EventMemberAdded:
		return l.Sprintf("Added to %s", org)
	case passport.EventMemberRemoved:
		if d["deletion_scheduled"] == true {
			return l.Sprintf("Removed from %s; the account is scheduled for deletion", org)
		}
		return l.Sprintf("Removed from %s", org)
	case passport.EventMembershipChanged:
		if _, ok := d["roles"]; ok {
			return l.Sprintf("Roles changed in %s", org)
		}
		if _, ok := d["position"]; ok {
			return l.Sprintf("Position changed in %s", org)
		}
		return l.Sprintf("Membership changed in %s", org)
	case passport.EventAdminGranted:
		return l.Sprintf("Administrative role given: %s", adminRole(l, detailString(d, "role"), e.OrgName))
	case passport.EventAdminRevoked:
		return l.Sprintf("Administrative role taken away: %s", adminRole(l, detailString(d, "role"), e.OrgName))
	case passport.EventCredentialsIssued:
		return l.Sprintf("Login details issued: a temporary password")
	case passport.EventTwoFactorReset:
		return l.Sprintf("Two-factor authentication reset by an administrator")
	case passport.EventContactConfirmationRequested:
		kinds := detailStrings(d, "kinds")
		switch {
		case slices.Contains(kinds, "email") && slices.Contains(kinds, "phone"):
			return l.Sprintf("Asked to confirm the email address and phone number")
		case slices.Contains(kinds, "phone"):
			return l.Sprintf("Asked to confirm the phone number")
		}
		return l.Sprintf("Asked to confirm the email address")
	case passport.EventCredentialTemplateSaved:
		return l.Sprintf("Login details template %s saved", detailString(d, "key"))
	case passport.EventCredentialTemplateDeleted:
		return l.Sprintf("Login details template %s deleted", detailString(d, "key"))
	case passport.EventProfileUnlocked:
		f := fieldLabels(l, []string{detailString(d, "field")})
		if until, err := time.Parse(time.RFC3339, detailString(d, "until")); err == nil {
			// An unlock ends when its day ends in UTC.
			return l.Sprintf("Field unlocked for the person: %s, until %s", f, l.Date(until, time.UTC))
		}
		return l.Sprintf("Field unlocked for the person: %s", f)
	case passport.EventProfileRelocked:
		return l.Sprintf("Field locked again: %s", fieldLabels(l, []string{detailString(d, "field")}))
	case passport.EventImportStarted:
		return l.Sprintf("Import of members started: %s", detailString(d, "file"))
	case passport.EventImportFinished:
		return l.Sprintf("Import of members finished: %s (created %d, unchanged %d, with errors %d)", detailString(d, "file"),
			detailInt(d, "created"), detailInt(d, "unchanged"), detailInt(d, "failed"))
	case passport.EventRequiredActionsChanged:
		after := detailStrings(d, "after")
		if len(after) == 0 {
			return l.Sprintf("An administrator cleared the required actions.")
		}
		names := make([]string, len(after))
		for i, x := range after {
			names[i] = l.Sprintf(cmp.Or(actionLabels[x], x))
		}
		return l.Sprintf("An administrator changed the required actions: %s.", strings.Join(names, ", "))
	case passport.EventTwoFactorPolicyChanged:
		if detailBool(d, "require_two_factor") {
			return l.Sprintf("The organisation now requires two-factor authentication of every member.")
		}
		return l.Sprintf("The organisation no longer requires two-factor authentication of every member.")
	}
	return l.Sprintf("Other security event (%s)", e.Type)
}

// adminRole names an administrative role, with its organisation when it has one.
func adminRole(l *i18n.Localizer, role, org string) string {
	var name string
	switch role {
	case passport.RoleServiceAdmin:
		return l.Sprintf("service administrator")
	case passport.RoleOrgAdmin:
		name = l.Sprintf("organisation administrator")
	case passport.RoleReviewer:
		name = l.Sprintf("reviewer")
	default:
		name = l.Sprintf("administrator")
	}
	if org == "" {
		return name
	}
	return l.Sprintf("%[1]s, %[2]s", org, name)
}

// eventActor says, for the person's own feed, who did it: "You" (through an application,
// when a token of one was used), an administrator by organisation and role — never by
// login, name or account —, an application by its client id, Passport itself, or an
// unknown person (a wrong password proves nothing about who typed it).
func eventActor(l *i18n.Localizer, e passport.Event) string {
	a := e.Actor
	switch a.Kind {
	case passport.ActorPerson:
		switch {
		case a.AccountID == "" || a.AccountID != e.AccountID:
			return l.Sprintf("Unknown person")
		case a.ClientID != "":
			return l.Sprintf("You, through %s", a.ClientID)
		}
		return l.Sprintf("You")
	case passport.ActorAdmin:
		if a.Role == passport.RoleServiceAdmin || e.ActorOrg == "" {
			return capitalise(adminRole(l, a.Role, ""))
		}
		return adminRole(l, a.Role, e.ActorOrg)
	case passport.ActorClient:
		if e.ActorOrg != "" {
			return l.Sprintf("Application %[1]s of %[2]s", a.ClientID, e.ActorOrg)
		}
		return l.Sprintf("Application %s", a.ClientID)
	}
	return l.Sprintf("Passport, automatically")
}

func capitalise(s string) string {
	for i, r := range s {
		return strings.ToUpper(string(r)) + s[i+len(string(r)):]
	}
	return s
}

// fieldLabels lists profile fields by their names in l's language.
func fieldLabels(l *i18n.Localizer, fields []string) string {
	names := make([]string, 0, len(fields))
	for _, f := range fields {
		if label, ok := passport.FieldLabels[passport.Field(f)]; ok {
			names = append(names, l.Sprintf(label))
		} else {
			names = append(names, f)
		}
	}
	return strings.Join(names, ", ")
}

func detailString(d map[string]any, key string) string {
	switch v := d[key].(type) {
	case string:
		return v
	case nil:
		return ""
	default:
		return fmt.Sprint(v)
	}
}

// detailInt reads a count (JSON numbers come back as float64).
func detailInt(d map[string]any, key string) int {
	switch v := d[key].(type) {
	case float64:
		return int(v)
	case int:
		return v
	case int64:
		return int(v)
	}
	return 0
}

func detailBool(d map[string]any, key string) bool {
	b, _ := d[key].(bool)
	return b
}

// detailStrings reads a list of strings, as stored ([]string) or as read back from JSON
// ([]any).
func detailStrings(d map[string]any, key string) []string {
	switch v := d[key].(type) {
	case []string:
		return v
	case []any:
		out := make([]string, 0, len(v))
		for _, x := range v {
			if s, ok := x.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

func containsAny(list []string, want ...string) bool {
	for _, x := range list {
		for _, w := range want {
			if x == w {
				return true
			}
		}
	}
	return false
}

// The person's own security events: the cabinet's "Security events" tab, GET
// /api/v1/me/events and the export.

const (
	eventsPerPage = 50
	eventsAPIMax  = 200
	eventsBatch   = 500 // the store's largest page, for the export
)

type eventsPage struct {
	Base
	Events []eventRow
	Older  string // the next (older) page's address, "" on the last page
	Paged  bool   // not the newest page: offer the way back to it
}

// eventRow is one line of the page, in the reader's language already.
type eventRow struct {
	ID     int64
	At     time.Time
	What   string
	Who    string
	IP     string
	Device string
}

// parseBefore reads the keyset cursor: an event id, or nothing for the newest.
func parseBefore(v string) (int64, error) {
	if v == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n <= 0 {
		return 0, passport.FieldError("before", "This is not the id of a security event.")
	}
	return n, nil
}

// ownEvents returns up to limit of the person's events before the id before, newest
// first, and the cursor of the page after them (0 when there is none).
func (s *Server) ownEvents(ctx context.Context, accountID string, before int64, limit int) ([]passport.Event, int64, error) {
	list, err := s.acct.OwnEvents(ctx, accountID, before, limit+1)
	if err != nil {
		return nil, 0, err
	}
	if len(list) > limit {
		return list[:limit], list[limit-1].ID, nil
	}
	return list, 0, nil
}

// handleEvents is the "Security events" tab: 50 a page, newest first, with a link to older
// ones (a keyset cursor, so a page stays right while new events arrive).
func (s *Server) handleEvents(c echo.Context, a *passport.Account) error {
	before, err := parseBefore(c.QueryParam("before"))
	if err != nil {
		return passport.Errorf(passport.EINVALID, "This page of security events does not exist.")
	}
	list, next, err := s.ownEvents(c.Request().Context(), a.ID, before, eventsPerPage)
	if err != nil {
		return err
	}
	l := s.localizer(c)
	p := eventsPage{Base: s.base(c, "Security events"), Paged: before > 0}
	p.Account = a
	for _, e := range list {
		j := eventJSONIn(l, e, true) // what the person may see of the actor
		r := eventRow{ID: e.ID, At: e.At, What: j.Description, Who: eventActor(l, e), IP: j.IP}
		if j.UserAgent != "" {
			r.Device = describeDevice(l, j.UserAgent)
		}
		p.Events = append(p.Events, r)
	}
	if next > 0 {
		p.Older = "/profile/events?before=" + strconv.FormatInt(next, 10)
	}
	return s.page(c, http.StatusOK, "events", p)
}

// MyEvents is the body of GET /api/v1/me/events.
type MyEvents struct {
	Events     []EventJSON `json:"events"`
	NextBefore *int64      `json:"next_before"` // pass as ?before= for older events; null on the last page
}

// apiMyEvents lists the person's own events, newest first: ?before=<id> for older ones,
// ?limit= up to 200 (50 by default).
func (s *Server) apiMyEvents(c echo.Context) error {
	before, err := parseBefore(c.QueryParam("before"))
	if err != nil {
		return s.badQuery(c, err)
	}
	limit := eventsPerPage
	if v := c.QueryParam("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > eventsAPIMax {
			return s.badQuery(c, passport.FieldError("limit", "The limit is a whole number from 1 to 200."))
		}
		limit = n
	}
	list, next, err := s.ownEvents(c.Request().Context(), apiAccount(c).ID, before, limit)
	if err != nil {
		return err
	}
	out := MyEvents{Events: make([]EventJSON, 0, len(list))}
	for _, e := range list {
		out.Events = append(out.Events, s.eventJSON(c, e, true))
	}
	if next > 0 {
		out.NextBefore = &next
	}
	return c.JSON(http.StatusOK, out)
}

// badQuery answers a bad query parameter: 400 with the API's error body naming the
// parameter (the 422 of the API's field errors is for a body that could not be saved).
func (s *Server) badQuery(c echo.Context, err error) error {
	pe := passport.AsError(err)
	return c.JSON(http.StatusBadRequest, apiError{Error: apiErrorBody{Code: passport.EINVALID, Message: s.errText(c, pe),
		Fields: s.texts(c, FieldErrors{pe.Field: pe})}})
}

// allOwnEvents is every event of the person, newest first, for the export, described in
// l's language.
func (s *Server) allOwnEvents(ctx context.Context, l *i18n.Localizer, accountID string) ([]any, error) {
	out := []any{}
	var before int64
	for {
		list, next, err := s.ownEvents(ctx, accountID, before, eventsBatch-1)
		if err != nil {
			return nil, err
		}
		for _, e := range list {
			out = append(out, eventJSONIn(l, e, true))
		}
		if next == 0 {
			return out, nil
		}
		before = next
	}
}
