package web

import (
	"time"

	"github.com/labstack/echo/v4"

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
// names acting administrators by organisation and role only.
func (s *Server) eventJSON(c echo.Context, e passport.Event, own bool) EventJSON {
	j := EventJSON{ID: e.ID, At: e.At, Type: e.Type, AccountID: e.AccountID, IP: e.Actor.IP, UserAgent: e.Actor.UserAgent,
		Details: e.Details, Description: s.describeEvent(c, e),
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
		j.Actor.AccountID = ""
	}
	return j
}

// describeEvent is the event's sentence in the reader's language.
// (Skeleton: the events' author writes the sentences.)
func (s *Server) describeEvent(c echo.Context, e passport.Event) string { return e.Type }

// The person's own security events. (Skeleton: written by the events' author.)

func (s *Server) handleEvents(c echo.Context, a *passport.Account) error { return adminNotFound() }
func (s *Server) apiMyEvents(c echo.Context) error                       { return adminNotFound() }
