package web

import (
	"bytes"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/emersion/go-vcard"
	"github.com/labstack/echo/v4"

	"github.com/passport-idp/passport/internal/passport"
)

// PublicProfile is what anyone may see of a person: public fields only, and nothing at all
// when the profile is private.
type PublicProfile struct {
	ID           string   `json:"id"`
	Private      bool     `json:"private"`
	Nickname     string   `json:"nickname,omitempty"`
	GivenName    string   `json:"given_name,omitempty"`
	FamilyName   string   `json:"family_name,omitempty"`
	Login        string   `json:"login,omitempty"`
	Picture      string   `json:"picture,omitempty"`
	Birthdate    string   `json:"birthdate,omitempty"`
	Email        string   `json:"email,omitempty"`
	Phone        string   `json:"phone_number,omitempty"`
	Organization string   `json:"organization,omitempty"`
	Position     string   `json:"position,omitempty"`
	Roles        []string `json:"roles,omitempty"`
	UpdatedAt    int64    `json:"updated_at"`
	VCardURL     string   `json:"vcard_url"`
	ProfileURL   string   `json:"profile_url"`
}

// publicProfile applies the publicity levels: only what is public, and nothing when the
// private switch is on.
func (s *Server) publicProfile(a *passport.Account) PublicProfile {
	base := s.cfg.Issuer + "/people/" + a.ID
	p := PublicProfile{ID: a.ID, Private: a.PrivateProfile, UpdatedAt: a.UpdatedAt.Unix(),
		VCardURL: base + "/contact.vcf", ProfileURL: base}
	public := func(f passport.Field) bool {
		return a.HasValue(f) && s.cfg.Rules.Effective(a, f) == passport.Public
	}
	if public(passport.FieldNickname) {
		p.Nickname = a.Nickname
	}
	if public(passport.FieldGivenName) {
		p.GivenName = a.GivenName
	}
	if public(passport.FieldFamilyName) {
		p.FamilyName = a.FamilyName
	}
	if public(passport.FieldLogin) {
		p.Login = a.Login
	}
	if public(passport.FieldPicture) {
		p.Picture = s.cfg.Rules.PhotoURL(a.PhotoID)
	}
	if public(passport.FieldBirthdate) {
		p.Birthdate = a.Birthdate.Format(time.DateOnly)
	}
	if public(passport.FieldEmail) {
		p.Email = a.Email
	}
	if public(passport.FieldPhone) {
		p.Phone = a.Phone
	}
	if public(passport.FieldOrganization) {
		if pm, ok := a.Primary(); ok {
			p.Organization, p.Position, p.Roles = pm.OrgName, pm.Position, pm.Roles
		}
	}
	return p
}

// DisplayName is the public name to show: public names, else the public name (nickname),
// else "" when neither is public.
func (p PublicProfile) DisplayName() string {
	if n := strings.TrimSpace(p.GivenName + " " + p.FamilyName); n != "" {
		return n
	}
	return p.Nickname
}

// personName is the name the public profile and the vCard show, in the request's language
// for a person who shows no name.
func (s *Server) personName(c echo.Context, p PublicProfile) string {
	if n := p.DisplayName(); n != "" {
		return n
	}
	return s.text(c, "Passport user")
}

// person loads an active account for the public pages; anything else is "not found".
func (s *Server) person(c echo.Context) (*passport.Account, error) {
	a, err := s.db.Account(c.Request().Context(), c.Param("id"))
	if passport.ErrorCode(err) == passport.ENOTFOUND || (err == nil && a.Status != passport.StatusActive) {
		return nil, passport.Errorf(passport.ENOTFOUND, "There is no public profile at this address.")
	}
	return a, err
}

// personPage is the public profile; Name and Birthdate are shown in the request's language,
// Phone grouped the international way.
type personPage struct {
	Base
	Profile   PublicProfile
	Name      string
	Birthdate string
	Phone     string
	Own       bool
}

func (s *Server) handlePerson(c echo.Context) error {
	if err := s.noteViewer(c); err != nil {
		return err
	}
	a, err := s.person(c)
	if err != nil {
		return err
	}
	p := personPage{Base: s.base(c, "Public profile"), Profile: s.publicProfile(a)}
	p.Name, p.Phone = s.personName(c, p.Profile), passport.FormatPhone(p.Profile.Phone)
	if p.Profile.Birthdate != "" {
		p.Birthdate = s.shownValue(c, a, passport.FieldBirthdate)
	}
	if sess := browserOf(c).Session; sess != nil && sess.AccountID == a.ID {
		p.Own = true
	}
	return s.page(c, http.StatusOK, "person", p)
}

// noteViewer notes the signed-in person, if any, on a page anyone may open, so that they
// read it in their own language (SPEC §11) and the header names them.
func (s *Server) noteViewer(c echo.Context) error {
	viewer, err := s.signedIn(c)
	if err != nil {
		return err
	}
	if viewer != nil {
		withAccount(c, viewer)
	}
	return nil
}

func (s *Server) handlePersonJSON(c echo.Context) error {
	a, err := s.person(c)
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "no-cache")
	c.Response().Header().Set("Access-Control-Allow-Origin", "*")
	return c.JSON(http.StatusOK, s.publicProfile(a))
}

// handleVCard exports the public profile as a vCard 3.0: FN, N, NICKNAME, UID and REV
// always (filled from public fields only), EMAIL, TEL, BDAY and PHOTO only when public.
func (s *Server) handleVCard(c echo.Context) error {
	a, err := s.person(c)
	if err != nil {
		return err
	}
	body, err := s.vcard(c, a)
	if err != nil {
		return err
	}
	c.Response().Header().Set("Content-Disposition", `attachment; filename="`+a.ID+`.vcf"`)
	c.Response().Header().Set("Cache-Control", "no-cache")
	return c.Blob(http.StatusOK, "text/vcard; charset=utf-8", body)
}

func (s *Server) vcard(c echo.Context, a *passport.Account) ([]byte, error) {
	p := s.publicProfile(a)
	card := vcard.Card{}
	card.SetValue(vcard.FieldVersion, "3.0")
	card.SetValue(vcard.FieldFormattedName, s.personName(c, p))
	// N and ORG are ;-separated and go-vcard does not escape ';' inside a component.
	component := strings.NewReplacer(";", ",").Replace
	card.SetName(&vcard.Name{FamilyName: component(p.FamilyName), GivenName: component(p.GivenName)})
	card.SetValue(vcard.FieldNickname, p.Nickname)
	card.SetValue(vcard.FieldUID, "urn:uuid:"+a.ID)
	card.SetRevision(a.UpdatedAt)
	if p.Email != "" {
		card.Add(vcard.FieldEmail, &vcard.Field{Value: p.Email, Params: vcard.Params{vcard.ParamType: {"INTERNET"}}})
	}
	if p.Phone != "" {
		card.Add(vcard.FieldTelephone, &vcard.Field{Value: p.Phone, Params: vcard.Params{vcard.ParamType: {"CELL"}}})
	}
	if p.Birthdate != "" {
		card.SetValue(vcard.FieldBirthday, p.Birthdate)
	}
	if p.Picture != "" {
		card.Add(vcard.FieldPhoto, &vcard.Field{Value: p.Picture, Params: vcard.Params{"VALUE": {"uri"}}})
	}
	if p.Organization != "" {
		card.SetValue(vcard.FieldOrganization, component(p.Organization))
	}
	if p.Position != "" {
		card.SetValue(vcard.FieldTitle, p.Position)
	}
	card.SetValue(vcard.FieldURL, p.ProfileURL)
	var buf bytes.Buffer
	if err := vcard.NewEncoder(&buf).Encode(card); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// handlePhoto serves a photo by its id. The id is the capability: it changes whenever the
// photo or its publicity changes, so a URL handed to an application stops working when the
// person narrows who may see it.
func (s *Server) handlePhoto(c echo.Context) error {
	p, err := s.db.Photo(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	a, err := s.db.Account(c.Request().Context(), p.AccountID)
	if err != nil {
		return err
	}
	etag := `"` + p.ID + `"`
	h := c.Response().Header()
	h.Set("ETag", etag)
	// Shared caches may keep public photos only; the others go to applications and browsers
	// that hold the URL.
	if s.cfg.Rules.Effective(a, passport.FieldPicture) == passport.Public {
		h.Set("Cache-Control", "public, max-age=3600")
	} else {
		h.Set("Cache-Control", "private, max-age=600")
	}
	h.Set("Last-Modified", p.CreatedAt.UTC().Format(http.TimeFormat))
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'")
	if c.Request().Header.Get("If-None-Match") == etag {
		return c.NoContent(http.StatusNotModified)
	}
	h.Set("Content-Length", strconv.Itoa(len(p.Content)))
	return c.Blob(http.StatusOK, p.ContentType, p.Content)
}
