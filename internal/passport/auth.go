package passport

import (
	"slices"
	"time"
)

// Authentication method references (RFC 8176).
const (
	AMRPassword = "pwd"
	AMROTP      = "otp"
	AMRMFA      = "mfa"
)

// AuthRequest is an OIDC authorization request between /authorize and the code exchange.
type AuthRequest struct {
	ID                  string
	ClientID            string
	RedirectURI         string
	Scopes              []string
	ResponseType        string
	ResponseMode        string
	State               string
	Nonce               string
	Prompt              []string
	MaxAge              *int // seconds; nil when not sent
	UILocales           []string
	LoginHint           string
	ACRValues           []string
	CodeChallenge       string
	CodeChallengeMethod string
	HintSubject         string // sub of a verified id_token_hint
	BrowserHash         []byte // binds the request to the browser that started it
	CreatedAt           time.Time
	ExpiresAt           time.Time

	// LoginSessionID is the session that typed the password for this very request.
	LoginSessionID string

	// Set once the person has signed in and consented.
	Done      bool
	Subject   string
	SessionID string
	AuthTime  time.Time
	AMR       []string
	ACR       string
}

// HasPrompt reports whether the request carries the prompt value.
func (r *AuthRequest) HasPrompt(p string) bool { return slices.Contains(r.Prompt, p) }

// NeedsLogin reports whether a session authenticated at authTime is too old for the
// request's max_age (prompt=login arrives here as max_age=0).
func (r *AuthRequest) NeedsLogin(authTime, now time.Time) bool {
	if r.MaxAge == nil {
		return false
	}
	return now.Sub(authTime) > time.Duration(*r.MaxAge)*time.Second || *r.MaxAge == 0
}

// SatisfiedBy reports whether the session may answer this request without a new password:
// the session that signed in for this very request always may; another only when it is
// fresh enough for max_age (and prompt=login) and belongs to the id_token_hint's subject.
func (r *AuthRequest) SatisfiedBy(s *Session, now time.Time) bool {
	if s == nil {
		return false
	}
	if r.HintSubject != "" && r.HintSubject != s.AccountID {
		return false
	}
	return s.ID == r.LoginSessionID || !r.NeedsLogin(s.AuthTime, now)
}

// Session is a signed-in browser.
type Session struct {
	ID         string
	AccountID  string
	AuthTime   time.Time
	AMR        []string
	CreatedAt  time.Time
	LastSeenAt time.Time
	ExpiresAt  time.Time
	IP         string
	UserAgent  string
}

// Browser is what the web layer knows about the browser of the current request. It travels
// in the request context so the OIDC storage can bind auth requests to it and end sessions.
type Browser struct {
	// Hash is the SHA-256 of the browser cookie; nil when the browser sent none.
	Hash []byte
	// Session is the signed-in session, nil when there is none.
	Session *Session
	// EndSession is set by the OIDC end_session handling when the cookie must be cleared.
	EndSession bool
}

// AccessToken is an issued access token. Clients hold it opaque; this row is the truth.
type AccessToken struct {
	ID        string
	FamilyID  string
	ClientID  string
	AccountID string // "" for client_credentials tokens
	Subject   string // the account id, or the client id for client_credentials
	Scopes    []string
	Audience  []string
	AuthTime  *time.Time
	AMR       []string
	CreatedAt time.Time
	ExpiresAt time.Time
}

// RefreshToken is an issued refresh token; only the SHA-256 of its value is stored.
type RefreshToken struct {
	ID        string
	FamilyID  string
	ClientID  string
	AccountID string
	Scopes    []string
	Audience  []string
	AuthTime  time.Time
	AMR       []string
	CreatedAt time.Time
	ExpiresAt time.Time
}

// SigningKey is a stored token-signing key, its private part encrypted.
type SigningKey struct {
	KID        string
	Alg        string
	PrivateEnc []byte
	PublicJWK  []byte
	CreatedAt  time.Time
	ActivateAt time.Time
	RetireAt   *time.Time
}

// ContactChange is a pending change of email or phone, waiting for its code.
type ContactChange struct {
	AccountID   string
	Kind        string // "email" or "phone"
	Value       string // the new address or number
	Method      string // how the code went: email, sms or call
	CodeHash    []byte
	LinkHash    []byte // email only: the one-click link
	Attempts    int
	Sends       int
	CreatedAt   time.Time
	LastSentAt  time.Time
	ExpiresAt   time.Time
	CancelledAt *time.Time
}
