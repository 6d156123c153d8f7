package web

import (
	"context"
	"encoding/base64"
	"strings"
	"time"

	"github.com/passport-idp/passport/internal/i18n"
	"github.com/passport-idp/passport/internal/passport"
	"github.com/passport-idp/passport/internal/postgres"
)

// The cabinet's actions, shared by the pages and /api/v1/me so both behave the same.

// FieldErrors maps an input name to the message shown next to it, still untranslated
// (Server.texts shows them in the person's language).
type FieldErrors map[string]*passport.Error

// MainInput is an edit of the main information; nil means "leave as is".
type MainInput struct {
	Nickname   *string `json:"nickname"`
	GivenName  *string `json:"given_name"`
	FamilyName *string `json:"family_name"`
	Birthdate  *string `json:"birthdate"` // YYYY-MM-DD, "" to clear
	Locale     *string `json:"locale"`    // en, ru, et, nl or sv; "" to clear
	// Email may be set only while the account has none (the sign-in's profile completion);
	// changing an address goes through confirmation.
	Email *string `json:"email,omitempty"`
}

// earliestBirthdate bounds birth dates from below; anything earlier is a typo.
var earliestBirthdate = time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC)

// updateMain validates every field of in and saves them all, or nothing when any is wrong.
// Locked fields cannot change; the message names the administrator.
func (s *Server) updateMain(ctx context.Context, accountID string, in MainInput) (*passport.Account, FieldErrors, error) {
	errs := FieldErrors{}
	a, err := s.db.UpdateAccount(ctx, accountID, func(a *passport.Account) error {
		set := func(f passport.Field, input *string, dst *string) {
			if input == nil {
				return
			}
			label := passport.FieldLabels[f]
			v := strings.TrimSpace(*input)
			if v == *dst {
				return
			}
			if s.cfg.Rules.IsLocked(a, f) {
				errs[string(f)] = lockedMessage(f, label)
				return
			}
			if err := passport.ValidateName(string(f), label, v); err != nil {
				errs[string(f)] = passport.AsError(err)
				return
			}
			*dst = v
		}
		set(passport.FieldNickname, in.Nickname, &a.Nickname)
		set(passport.FieldGivenName, in.GivenName, &a.GivenName)
		set(passport.FieldFamilyName, in.FamilyName, &a.FamilyName)
		if in.Birthdate != nil {
			if d, msg := s.parseBirthdate(*in.Birthdate); msg != nil {
				errs["birthdate"] = msg
			} else if !sameDate(d, a.Birthdate) {
				if s.cfg.Rules.IsLocked(a, passport.FieldBirthdate) {
					errs["birthdate"] = lockedMessage(passport.FieldBirthdate, passport.FieldLabels[passport.FieldBirthdate])
				} else {
					a.Birthdate = d
				}
			}
		}
		if in.Locale != nil {
			// One of the languages Passport speaks, or "" for none chosen.
			if v := strings.TrimSpace(*in.Locale); v != "" && !i18n.Supported(v) {
				errs["locale"] = passport.FieldError("locale", "Choose one of the languages offered.")
			} else {
				a.Locale = v
			}
		}
		if in.Email != nil && strings.TrimSpace(*in.Email) != a.Email {
			switch email, err := passport.NormalizeEmail(*in.Email); {
			case a.Email != "":
				errs["email"] = passport.FieldError("email", "Your email address is changed from the cabinet, with a confirmation.")
			case err != nil:
				errs["email"] = passport.AsError(err)
			default:
				a.Email, a.EmailVerified = email, false
			}
		}
		if len(errs) > 0 {
			return passport.Errorf(passport.EINVALID, "Some fields need your attention.")
		}
		return nil
	})
	if len(errs) > 0 {
		return nil, errs, nil
	}
	return a, nil, err
}

// lockedMessage refuses a change of a field the organisation manages; label is a sentence of
// the catalogue.
func lockedMessage(f passport.Field, label string) *passport.Error {
	return passport.FieldError(string(f), "%s is managed by your organisation: ask your administrator to change it.", passport.Text(label))
}

func (s *Server) parseBirthdate(v string) (*time.Time, *passport.Error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return nil, nil
	}
	d, err := time.Parse(time.DateOnly, v)
	if err != nil {
		return nil, passport.FieldError("birthdate", "Enter the date as YYYY-MM-DD, for example 1990-04-23.")
	}
	if d.After(s.db.Now()) {
		return nil, passport.FieldError("birthdate", "Birth date cannot be in the future.")
	}
	if d.Before(earliestBirthdate) {
		return nil, passport.FieldError("birthdate", "Birth date cannot be before 1900.")
	}
	return &d, nil
}

func sameDate(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Equal(*b)
}

// PublicityInput is an edit of publicity: field -> level, and the private-profile switch.
type PublicityInput struct {
	Fields         map[string]string `json:"fields"`
	PrivateProfile *bool             `json:"private_profile"`
}

// setPublicity validates every level first and saves all or nothing.
func (s *Server) setPublicity(ctx context.Context, accountID string, in PublicityInput) (*passport.Account, FieldErrors, error) {
	errs := FieldErrors{}
	levels := map[passport.Field]passport.Publicity{}
	for name, level := range in.Fields {
		f, err := passport.ParseField(name)
		if err != nil {
			errs[name] = passport.AsError(err)
			continue
		}
		p, err := passport.ParsePublicity(level)
		if err != nil {
			errs[name] = passport.AsError(err)
			continue
		}
		levels[f] = p
	}
	if len(errs) > 0 {
		return nil, errs, nil
	}
	a, err := s.db.UpdateAccount(ctx, accountID, func(a *passport.Account) error {
		for f, p := range levels {
			a.Publicity[f] = p
		}
		if in.PrivateProfile != nil {
			a.PrivateProfile = *in.PrivateProfile
		}
		return nil
	})
	return a, nil, err
}

// uploadPhoto checks, re-encodes and stores a photo.
func (s *Server) uploadPhoto(ctx context.Context, a *passport.Account, data []byte) error {
	if s.cfg.Rules.IsLocked(a, passport.FieldPicture) {
		return lockedMessage(passport.FieldPicture, "Your photo")
	}
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
	if s.cfg.Rules.IsLocked(a, passport.FieldPicture) {
		return lockedMessage(passport.FieldPicture, "Your photo")
	}
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
// connected apps and sessions.
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
	return x, nil
}
