package passport

import (
	"net/mail"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
)

// Account statuses (SPEC §2).
const (
	StatusActive          = "active"
	StatusBlocked         = "blocked"
	StatusPendingDeletion = "pending_deletion"
	StatusDeleted         = "deleted" // purged: a tombstone that keeps the id
)

// Verification statuses (SPEC §2).
const (
	VerificationNew           = "new"
	VerificationRequiresCheck = "requires_check"
	VerificationVerified      = "verified"
	VerificationIncorrectData = "incorrect_data"
)

// Registration methods (SPEC §2); external ones are "external:<provider>".
const (
	RegisteredSelf        = "self"
	RegisteredAdmin       = "admin"
	RegisteredInvite      = "invite"
	RegisteredCertificate = "certificate"
)

// Account is one person. ID is the stable OIDC `sub` and is never reused.
type Account struct {
	ID            string
	Login         string
	Nickname      string
	GivenName     string
	FamilyName    string
	Birthdate     *time.Time // a date; nil when unknown
	Email         string
	EmailVerified bool
	Phone         string // E.164
	PhoneVerified bool
	Locale        string
	// Memberships lists the organisations the account belongs to, the primary one first
	// (SPEC §6); a disabled organisation's membership is kept but releases nothing.
	Memberships         []Membership
	RegistrationMethod  string
	Status              string
	VerificationStatus  string
	VerificationComment string
	PasswordHash        string
	Publicity           map[Field]Publicity // the person's explicit choices
	PrivateProfile      bool
	// FieldUnlocks are the fields an administrator unlocked for this account, each until a
	// time (nil: until re-locked); UnlockedFields are those still unlocked now.
	FieldUnlocks   map[string]*time.Time
	UnlockedFields []string
	// RequiredActions are still to be done after sign-in (see Actions for the order).
	RequiredActions []string
	// PasswordExpiresAt ends an issued (temporary) password; nil for the person's own.
	PasswordExpiresAt *time.Time
	PhotoID           string // "" when there is no photo
	CreatedAt         time.Time
	UpdatedAt         time.Time
	LastVisitAt       *time.Time
	PurgeAt           *time.Time // when a pending deletion becomes final
	// AuthEpoch moves whenever credentials or sign-ins are reset (password change, sign-out
	// everywhere, two factors on or off, deletion or restore); half-finished sign-ins carry
	// the epoch they began under and are void once it moves.
	AuthEpoch int
}

// Name is the display name: given and family name, else the nickname, else the login.
func (a *Account) Name() string {
	if n := strings.TrimSpace(a.GivenName + " " + a.FamilyName); n != "" {
		return n
	}
	if a.Nickname != "" {
		return a.Nickname
	}
	return a.Login
}

var folder = cases.Fold()

// FoldLogin returns the form of a login used for uniqueness and look-up: Unicode NFC,
// then full case folding (SPEC §2), so "Straße" and "STRASSE" are the same login.
func FoldLogin(login string) string {
	return folder.String(norm.NFC.String(strings.TrimSpace(login)))
}

// ValidateLogin checks a login as a person would type it at sign-up or an admin at creation.
func ValidateLogin(login string) error {
	login = strings.TrimSpace(login)
	n := utf8.RuneCountInString(login)
	switch {
	case n == 0:
		return FieldError("login", "Login is required.")
	case n < 3:
		return FieldError("login", "Login must be at least 3 characters long.")
	case n > 64:
		return FieldError("login", "Login must be at most 64 characters long.")
	}
	for _, r := range login {
		if unicode.IsSpace(r) || unicode.IsControl(r) {
			return FieldError("login", "Login cannot contain spaces or control characters.")
		}
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) && !strings.ContainsRune("._-@+", r) {
			return FieldError("login", "Login may contain letters, digits and . _ - @ + only.")
		}
	}
	if mixedScripts(login) {
		return FieldError("login", "A login cannot mix alphabets, such as Latin and Cyrillic letters.")
	}
	return nil
}

// loginScripts are the alphabets a login's letters may come from, one per login, so that
// a Cyrillic "а" cannot pass for a Latin "a" in somebody else's login. Japanese writes
// with three scripts at once: they count as one.
var loginScripts = []struct {
	name   string
	tables []*unicode.RangeTable
}{
	{"latin", []*unicode.RangeTable{unicode.Latin}},
	{"cyrillic", []*unicode.RangeTable{unicode.Cyrillic}},
	{"greek", []*unicode.RangeTable{unicode.Greek}},
	{"armenian", []*unicode.RangeTable{unicode.Armenian}},
	{"georgian", []*unicode.RangeTable{unicode.Georgian}},
	{"hebrew", []*unicode.RangeTable{unicode.Hebrew}},
	{"arabic", []*unicode.RangeTable{unicode.Arabic}},
	{"cjk", []*unicode.RangeTable{unicode.Han, unicode.Hiragana, unicode.Katakana}},
	{"hangul", []*unicode.RangeTable{unicode.Hangul}},
}

// mixedScripts reports whether s has letters of more than one of loginScripts (letters of
// other scripts are not compared).
func mixedScripts(s string) bool {
	seen := ""
	for _, r := range s {
		if !unicode.IsLetter(r) {
			continue
		}
		script := "" // a script not listed: no lookalikes known to check
		for _, sc := range loginScripts {
			if unicode.In(r, sc.tables...) {
				script = sc.name
				break
			}
		}
		if script == "" {
			continue
		}
		if seen != "" && seen != script {
			return true
		}
		seen = script
	}
	return false
}

// NormalizeEmail trims an address and lower-cases its domain; it returns an EINVALID error
// for anything that is not a single plain address.
func NormalizeEmail(email string) (string, error) {
	email = strings.TrimSpace(email)
	if email == "" {
		return "", FieldError("email", "Email is required.")
	}
	addr, err := mail.ParseAddress(email)
	if err != nil || addr.Address != email || addr.Name != "" || len(email) > 254 {
		return "", FieldError("email", "Enter an email address like name@example.com.")
	}
	at := strings.LastIndexByte(email, '@')
	domain := strings.ToLower(email[at+1:])
	if !strings.Contains(domain, ".") && domain != "localhost" {
		return "", FieldError("email", "Enter an email address like name@example.com.")
	}
	return email[:at+1] + domain, nil
}

// Characters no person's name holds, refused so a name cannot carry markup or a template
// into whatever shows it later (an application's page, an email, a CSV): Keycloak's
// person-name rule for given and family names; a public name may be playful, so it is
// refused markup only.
const (
	personNameForbidden = `<>&"$%!#?§;*~/\|^=[]{}()`
	nicknameForbidden   = `<>&"{}\`
)

// ValidateName checks a given name, family name or nickname (field "nickname"). Every door
// that sets a name (cabinet, API, sign-in completion, command line) calls it.
func ValidateName(field, label, value string) error {
	if utf8.RuneCountInString(value) > 100 {
		return FieldError(field, "%s must be at most 100 characters long.", Text(label))
	}
	forbidden := personNameForbidden
	if field == "nickname" {
		forbidden = nicknameForbidden
	}
	for _, r := range value {
		if unicode.IsControl(r) {
			return FieldError(field, "%s cannot contain control characters.", Text(label))
		}
		if strings.ContainsRune(forbidden, r) {
			return FieldError(field, "%s cannot contain the character %q.", Text(label), r)
		}
	}
	return nil
}
