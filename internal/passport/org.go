package passport

import (
	"context"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Organisation statuses.
const (
	OrgActive   = "active"
	OrgDisabled = "disabled"
)

// Organisation issues, verifies and looks after accounts (SPEC §6). Its alias names it in
// claims and never changes.
type Organisation struct {
	ID     string
	Alias  string
	Name   string
	Status string
	// RequireTwoFactor: every member the organisation manages must have two factors.
	RequireTwoFactor bool
	CreatedAt        time.Time
	UpdatedAt        time.Time
}

// Role is one entry of an organisation's role catalogue: a key used in claims ("driver") and
// a display name per language.
type Role struct {
	Key   string            `json:"key"`
	Names map[string]string `json:"names"`
}

// Name is the role's display name in lang, else in English, else its key.
func (r Role) Name(lang string) string {
	if n := r.Names[lang]; n != "" {
		return n
	}
	if n := r.Names["en"]; n != "" {
		return n
	}
	return r.Key
}

// Membership ties an account to an organisation. Managed means the organisation created the
// account; unmanaged, an existing account joined.
type Membership struct {
	OrgID     string    `json:"org_id"`
	OrgAlias  string    `json:"alias"`
	OrgName   string    `json:"name"`
	OrgStatus string    `json:"status"`
	Roles     []string  `json:"roles"`
	Position  string    `json:"position"`
	Managed   bool      `json:"managed"`
	Primary   bool      `json:"primary"`
	CreatedAt time.Time `json:"created_at"`
}

// Administrative roles (SPEC §12).
const (
	RoleServiceAdmin = "service_admin"
	RoleOrgAdmin     = "org_admin"
	RoleReviewer     = "reviewer"
)

// AdminRoles lists the administrative roles.
var AdminRoles = []string{RoleServiceAdmin, RoleOrgAdmin, RoleReviewer}

// Grant is one administrative role of an account; OrgID is "" for service_admin.
type Grant struct {
	Role  string
	OrgID string
}

// Authority is what an administrator may see and do: the grants of one account (or of a
// service-account client, bound to one organisation). It is the one rule that scopes every
// admin query: a foreign organisation is invisible, not forbidden.
type Authority struct {
	Grants []Grant
}

// Service reports whether the authority holds service_admin (everything).
func (a Authority) Service() bool {
	return slices.ContainsFunc(a.Grants, func(g Grant) bool { return g.Role == RoleServiceAdmin })
}

// Admin reports whether the authority may act at all in the console or the admin API.
func (a Authority) Admin() bool {
	return slices.ContainsFunc(a.Grants, func(g Grant) bool { return g.Role == RoleServiceAdmin || g.Role == RoleOrgAdmin })
}

// CanAdminOrg reports whether the authority may administer the organisation orgID: its
// members, roles, invitations and events.
func (a Authority) CanAdminOrg(orgID string) bool {
	return a.Service() || slices.ContainsFunc(a.Grants, func(g Grant) bool { return g.Role == RoleOrgAdmin && g.OrgID == orgID })
}

// Orgs lists the organisations the authority administers, nil meaning every one (service).
func (a Authority) Orgs() []string {
	if a.Service() {
		return nil
	}
	var ids []string
	for _, g := range a.Grants {
		if g.Role == RoleOrgAdmin && !slices.Contains(ids, g.OrgID) {
			ids = append(ids, g.OrgID)
		}
	}
	return NonNil(ids)
}

// RoleIn is the administrative role the authority acts with in orgID (service_admin first),
// recorded in security events; "" when it has none there.
func (a Authority) RoleIn(orgID string) string {
	if a.Service() {
		return RoleServiceAdmin
	}
	if a.CanAdminOrg(orgID) {
		return RoleOrgAdmin
	}
	return ""
}

var aliasPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)

// ValidateAlias checks an organisation alias: lower-case letters, digits and hyphens, 1–63,
// starting with a letter or digit.
func ValidateAlias(alias string) error {
	if !aliasPattern.MatchString(alias) {
		return FieldError("alias", "An alias is 1 to 63 lower-case Latin letters, digits and hyphens, starting with a letter or digit.")
	}
	return nil
}

var roleKeyPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)

// ValidateRoleKey checks a role key: lower-case letters, digits, hyphens and underscores.
func ValidateRoleKey(key string) error {
	if !roleKeyPattern.MatchString(key) {
		return FieldError("key", "A role key is 1 to 63 lower-case Latin letters, digits, hyphens and underscores.")
	}
	return nil
}

// ValidateOrgName checks an organisation's display name.
func ValidateOrgName(name string) (string, error) {
	name = strings.TrimSpace(name)
	if err := ValidateName("name", "Name", name); err != nil {
		return "", err
	}
	if name == "" {
		return "", FieldError("name", "Enter a name.")
	}
	return name, nil
}

// Actor kinds of a security event.
const (
	ActorPerson = "person" // the subject themselves
	ActorAdmin  = "admin"
	ActorSystem = "system"
	ActorClient = "client"
)

// Actor is who causes a change: recorded in the change's security event.
type Actor struct {
	Kind      string // ActorPerson, ActorAdmin, ActorSystem or ActorClient
	AccountID string // the acting account (person or admin)
	Role      string // the admin's role when acting
	OrgID     string // the organisation an admin acted for
	ClientID  string // the application, when the change came through one
	IP        string
	UserAgent string
	Authority Authority // an admin's grants; empty for anyone else
}

type actorKey struct{}

// WithActor returns ctx carrying the actor of the request; the store records it in the
// security events it writes.
func WithActor(ctx context.Context, a Actor) context.Context {
	return context.WithValue(ctx, actorKey{}, a)
}

// ActorFrom returns the actor ctx carries, or the system when it carries none.
func ActorFrom(ctx context.Context) Actor {
	if a, ok := ctx.Value(actorKey{}).(Actor); ok {
		return a
	}
	return Actor{Kind: ActorSystem}
}

// Security event types (SPEC §12).
const (
	EventSigninOK           = "signin.ok"
	EventSigninFailed       = "signin.failed"
	EventPasswordChanged    = "password.changed"
	EventPasswordReset      = "password.reset"
	EventTwoFactorOn        = "two_factor.on"
	EventTwoFactorOff       = "two_factor.off"
	EventRecoveryCodesNew   = "two_factor.recovery_codes"
	EventConsentGiven       = "consent.given"
	EventConsentWithdrawn   = "consent.withdrawn"
	EventContactChanged     = "contact.changed"
	EventContactRemoved     = "contact.removed"
	EventProfileChanged     = "profile.changed"
	EventPublicityChanged   = "publicity.changed"
	EventDeletionScheduled  = "deletion.scheduled"
	EventDeletionRestored   = "deletion.restored"
	EventSessionEnded       = "session.ended"
	EventSessionsEnded      = "sessions.ended"
	EventAccountCreated     = "account.created"
	EventAccountBlocked     = "account.blocked"
	EventAccountUnblocked   = "account.unblocked"
	EventOrgCreated         = "org.created"
	EventOrgRenamed         = "org.renamed"
	EventOrgDisabled        = "org.disabled"
	EventOrgEnabled         = "org.enabled"
	EventRoleSaved          = "org.role_saved"
	EventRoleDeleted        = "org.role_deleted"
	EventMemberAdded        = "member.added"
	EventMemberRemoved      = "member.removed"
	EventMembershipChanged  = "member.changed"
	EventAdminGranted       = "admin.granted"
	EventAdminRevoked       = "admin.revoked"
	EventAccountPurged      = "deletion.purged"
	EventSignupCompleted    = "account.signed_up"
	EventEmailLinkConfirmed = "contact.confirmed"
)

// Event is one security event. Details never hold secrets or codes: what changed, by name.
type Event struct {
	ID        int64
	At        time.Time
	Type      string
	Actor     Actor
	AccountID string // the subject account
	OrgID     string // the organisation concerned
	OrgName   string // filled when read, for display
	ActorOrg  string // the acting organisation's name, filled when read
	Details   map[string]any
}

// ActiveMemberships are the memberships in active organisations: a disabled organisation's
// roles vanish from tokens at once.
func (a *Account) ActiveMemberships() []Membership {
	var ms []Membership
	for _, m := range a.Memberships {
		if m.OrgStatus == OrgActive {
			ms = append(ms, m)
		}
	}
	return ms
}

// Primary is the membership shown as "the" organisation (public profile, vCard, cabinet):
// the one marked primary, else the first, among active organisations.
func (a *Account) Primary() (Membership, bool) {
	ms := a.ActiveMemberships()
	if len(ms) == 0 {
		return Membership{}, false
	}
	return ms[0], true // memberships are read primary first
}

// NonNilMemberships returns ms, or an empty slice for nil (a JSON array, never null).
func NonNilMemberships(ms []Membership) []Membership {
	if ms == nil {
		return []Membership{}
	}
	return ms
}
