package web

import (
	"context"
	"encoding/base64"
	"time"

	"github.com/passport-idp/passport/internal/account"
	"github.com/passport-idp/passport/internal/i18n"
	"github.com/passport-idp/passport/internal/passport"
	"github.com/passport-idp/passport/internal/postgres"
)

// The cabinet's actions, shared by the pages and /api/v1/me so both behave the same.

// FieldErrors maps an input name to the message shown next to it, still untranslated
// (Server.texts shows them in the person's language).
type FieldErrors = account.FieldErrors

// MainInput is an edit of the main information; nil means "leave as is".
type MainInput = account.ProfileInput

// PublicityInput is an edit of publicity: field -> level, and the private-profile switch.
type PublicityInput = account.PublicityInput

// self is the person acting on their own account from this request (pages and /api/v1/me),
// with the address and browser the request's actor carries.
func self(ctx context.Context, accountID string) passport.Actor {
	a := passport.ActorFrom(ctx)
	return passport.Actor{Kind: passport.ActorPerson, AccountID: accountID, ClientID: a.ClientID, IP: a.IP, UserAgent: a.UserAgent}
}

// updateMain saves an edit of the person's own main information (internal/account).
func (s *Server) updateMain(ctx context.Context, accountID string, in MainInput) (*passport.Account, FieldErrors, error) {
	return s.acct.UpdateProfile(ctx, self(ctx, accountID), accountID, in)
}

// setPublicity saves the person's own publicity choices (internal/account).
func (s *Server) setPublicity(ctx context.Context, accountID string, in PublicityInput) (*passport.Account, FieldErrors, error) {
	return s.acct.SetPublicity(ctx, self(ctx, accountID), accountID, in)
}

// uploadPhoto checks, re-encodes and stores a photo. The doors refuse a locked photo
// before they read the upload.
func (s *Server) uploadPhoto(ctx context.Context, a *passport.Account, data []byte) error {
	if n, _, err := s.db.Hit(ctx, "photo:"+a.ID, s.cfg.RateWindow); err != nil {
		return err
	} else if n > 20 {
		return &passport.Error{Code: passport.ELIMITED, Field: "photo", Message: "Too many uploads. Try again later."}
	}
	img, ctype, w, h, err := passport.NormalizePhoto(ctx, data, s.cfg.Photo)
	if err != nil {
		return err
	}
	return s.db.SetPhoto(ctx, &postgres.Photo{AccountID: a.ID, Content: img, ContentType: ctype, Width: w, Height: h})
}

func (s *Server) deletePhoto(ctx context.Context, a *passport.Account) error {
	return s.db.DeletePhoto(ctx, a.ID)
}

// ConnectedApp is an application with what it currently receives.
type ConnectedApp struct {
	ClientID string         `json:"client_id"`
	Name     string         `json:"name"`
	Scopes   []string       `json:"scopes"`
	Receives map[string]any `json:"receives"`
	FirstAt  time.Time      `json:"first_signed_in_at"`
	LastAt   time.Time      `json:"last_signed_in_at"`
}

// connectedApps lists the person's applications and, for each, the claims the release rule
// gives it now.
func (s *Server) connectedApps(ctx context.Context, accountID string) ([]ConnectedApp, error) {
	grants, err := s.db.Grants(ctx, accountID)
	if err != nil {
		return nil, err
	}
	apps := make([]ConnectedApp, 0, len(grants))
	for _, g := range grants {
		a, consented, err := s.db.AccountForClient(ctx, accountID, g.ClientID)
		if err != nil {
			return nil, err
		}
		receives := s.cfg.Rules.Release(a, g.Scopes, consented)
		receives["sub"] = a.ID
		apps = append(apps, ConnectedApp{ClientID: g.ClientID, Name: g.ClientName, Scopes: g.Scopes,
			Receives: receives, FirstAt: g.FirstAt, LastAt: g.LastAt})
	}
	return apps, nil
}

// Export is the "download all data" document.
type Export struct {
	ExportedAt          time.Time                  `json:"exported_at"`
	Account             exportAccount              `json:"account"`
	Publicity           map[string]string          `json:"publicity"`
	PrivateProfile      bool                       `json:"private_profile"`
	Photo               *exportPhoto               `json:"photo"`
	ConnectedApps       []ConnectedApp             `json:"connected_apps"`
	Consents            []postgres.Consent         `json:"consents"`
	Sessions            []postgres.SessionInfo     `json:"sessions"`
	Identifiers         []any                      `json:"linked_identifiers"`
	VerificationHistory []any                      `json:"verification_history"`
	SecurityEvents      []any                      `json:"security_events"`
	Fields              map[string]exportFieldInfo `json:"fields"`
}

type exportAccount struct {
	ID                  string                `json:"id"`
	Login               string                `json:"login"`
	Nickname            string                `json:"nickname"`
	GivenName           string                `json:"given_name"`
	FamilyName          string                `json:"family_name"`
	Birthdate           string                `json:"birthdate"`
	Email               string                `json:"email"`
	EmailVerified       bool                  `json:"email_verified"`
	Phone               string                `json:"phone"`
	PhoneVerified       bool                  `json:"phone_verified"`
	Locale              string                `json:"locale"`
	Memberships         []passport.Membership `json:"memberships"`
	RegistrationMethod  string                `json:"registration_method"`
	Status              string                `json:"status"`
	VerificationStatus  string                `json:"verification_status"`
	VerificationComment string                `json:"verification_comment"`
	CreatedAt           time.Time             `json:"created_at"`
	UpdatedAt           time.Time             `json:"updated_at"`
	LastVisitAt         *time.Time            `json:"last_visit_at"`
}

type exportPhoto struct {
	ContentType string `json:"content_type"`
	Width       int    `json:"width"`
	Height      int    `json:"height"`
	Base64      string `json:"base64"`
}

type exportFieldInfo struct {
	Level  string `json:"publicity"`
	Locked bool   `json:"locked"`
}

// export gathers every field regardless of publicity, with publicity levels, consents,
// connected apps, sessions and security events.
func (s *Server) export(ctx context.Context, accountID string) (*Export, error) {
	a, err := s.db.Account(ctx, accountID)
	if err != nil {
		return nil, err
	}
	x := &Export{ExportedAt: s.db.Now().UTC(), PrivateProfile: a.PrivateProfile, Publicity: map[string]string{},
		Fields: map[string]exportFieldInfo{}, Identifiers: []any{}, VerificationHistory: []any{}, SecurityEvents: []any{}}
	x.Account = exportAccount{ID: a.ID, Login: a.Login, Nickname: a.Nickname, GivenName: a.GivenName, FamilyName: a.FamilyName,
		Email: a.Email, EmailVerified: a.EmailVerified, Phone: a.Phone, PhoneVerified: a.PhoneVerified, Locale: a.Locale,
		Memberships: passport.NonNilMemberships(a.Memberships), RegistrationMethod: a.RegistrationMethod,
		Status: a.Status, VerificationStatus: a.VerificationStatus, VerificationComment: a.VerificationComment,
		CreatedAt: a.CreatedAt, UpdatedAt: a.UpdatedAt, LastVisitAt: a.LastVisitAt}
	if a.Birthdate != nil {
		x.Account.Birthdate = a.Birthdate.Format(time.DateOnly)
	}
	for _, f := range passport.Fields {
		x.Publicity[string(f)] = string(s.cfg.Rules.Level(a, f))
		x.Fields[string(f)] = exportFieldInfo{Level: string(s.cfg.Rules.Level(a, f)), Locked: s.cfg.Rules.IsLocked(a, f)}
	}
	if a.PhotoID != "" {
		p, err := s.db.Photo(ctx, a.PhotoID)
		if err != nil {
			return nil, err
		}
		x.Photo = &exportPhoto{ContentType: p.ContentType, Width: p.Width, Height: p.Height,
			Base64: base64.StdEncoding.EncodeToString(p.Content)}
	}
	if x.ConnectedApps, err = s.connectedApps(ctx, a.ID); err != nil {
		return nil, err
	}
	if x.Consents, err = s.db.Consents(ctx, a.ID); err != nil {
		return nil, err
	}
	if x.Sessions, err = s.db.Sessions(ctx, a.ID); err != nil {
		return nil, err
	}
	// Every security event of the person, in their language (the export's callers pass no
	// request: the account's language, else the configured default, describes them).
	lang := a.Locale
	if !i18n.Supported(lang) {
		lang = s.cfg.DefaultLocale
	}
	if x.SecurityEvents, err = s.allOwnEvents(ctx, s.cat.For(lang), a.ID); err != nil {
		return nil, err
	}
	return x, nil
}
