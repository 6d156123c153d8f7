package web

import (
	"net/http"
	"net/url"

	"github.com/labstack/echo/v4"

	"github.com/passport-idp/passport/internal/passport"
)

// contactPage is the email page or the phone page: the current value, a form for a new one,
// and, while a change waits, the code form.
type contactPage struct {
	Base
	Kind       string // "email" or "phone"
	Current    string
	Verified   bool
	Pending    *passport.ContactChange
	Value      string
	Method     string
	Error      string
	CodeError  string
	Flash      string // a sentence of the catalogue
	CanCall    bool
	CodeDigits int
	PhoneHint  string // the phone field's hint, in the request's language (contacts.go)
}

// contactTitles and removeTitles are the titles of the email and phone pages.
var (
	contactTitles = map[string]passport.Text{"email": passport.Text("Email address"), "phone": passport.Text("Phone number")}
	removeTitles  = map[string]passport.Text{"email": passport.Text("Delete your email address?"),
		"phone": passport.Text("Delete your phone number?")}
)

func (s *Server) renderContact(c echo.Context, status int, a *passport.Account, kind string, value, method string, err error) error {
	p := contactPage{Base: s.base(c, string(contactTitles[kind])), Kind: kind, Value: value,
		Method: method, Flash: flashes[c.QueryParam("saved")], CanCall: true, CodeDigits: 6}
	p.Account = a
	if kind == "email" {
		p.Current, p.Verified = a.Email, a.EmailVerified
	} else {
		p.Current, p.Verified, p.PhoneHint = passport.FormatPhone(a.Phone), a.PhoneVerified, s.phoneHint(c)
	}
	if pending, perr := s.db.PendingChange(c.Request().Context(), a.ID, kind); perr == nil {
		p.Pending = pending
	}
	if err != nil {
		var pe *passport.Error
		msg := s.errText(c, err)
		if ok := asDomain(err, &pe); ok && pe.Field == "code" {
			p.CodeError = msg
		} else {
			p.Error = msg
		}
	}
	if p.Method == "" {
		p.Method = passport.ChannelSMS
	}
	return s.page(c, status, "contact", p)
}

// formError renders a domain mistake on the page; anything else goes to the error handler.
func (s *Server) contactResult(c echo.Context, a *passport.Account, kind, value, method, saved string, err error) error {
	switch passport.ErrorCode(err) {
	case "":
		return c.Redirect(http.StatusSeeOther, "/profile/"+kind+"?saved="+saved)
	case passport.EINVALID, passport.ELIMITED, passport.ENOTFOUND:
		status := http.StatusBadRequest
		if passport.ErrorCode(err) == passport.ELIMITED {
			status = http.StatusTooManyRequests
		}
		return s.renderContact(c, status, a, kind, value, method, err)
	}
	return err
}

func (s *Server) contactKind(c echo.Context) string {
	if c.Param("kind") == "phone" {
		return "phone"
	}
	return "email"
}

func (s *Server) handleContactPage(c echo.Context, a *passport.Account) error {
	return s.renderContact(c, http.StatusOK, a, s.contactKind(c), "", "", nil)
}

func (s *Server) handleContactStart(c echo.Context, a *passport.Account) error {
	kind := s.contactKind(c)
	value, method := c.FormValue("value"), c.FormValue("method")
	var err error
	if kind == "email" {
		err = s.startEmailChange(c.Request().Context(), a, value)
	} else {
		err = s.startPhoneChange(c.Request().Context(), a, value, method, s.phoneRegion(c))
	}
	return s.contactResult(c, a, kind, value, method, "code-sent", err)
}

func (s *Server) handleContactConfirm(c echo.Context, a *passport.Account) error {
	kind := s.contactKind(c)
	err := s.confirmChange(c.Request().Context(), a, kind, c.FormValue("code"))
	return s.contactResult(c, a, kind, "", "", kind+"-confirmed", err)
}

func (s *Server) handleContactResend(c echo.Context, a *passport.Account) error {
	kind := s.contactKind(c)
	return s.contactResult(c, a, kind, "", "", "code-sent", s.resend(c.Request().Context(), a, kind))
}

func (s *Server) handleContactCancel(c echo.Context, a *passport.Account) error {
	kind := s.contactKind(c)
	return s.contactResult(c, a, kind, "", "", "cancelled", s.db.CancelChange(c.Request().Context(), a.ID, kind))
}

type removePage struct {
	Base
	Kind, Current string
}

// handleContactRemoveForm asks before deleting the email or phone.
func (s *Server) handleContactRemoveForm(c echo.Context, a *passport.Account) error {
	kind := s.contactKind(c)
	p := removePage{Base: s.base(c, string(removeTitles[kind])), Kind: kind, Current: a.Email}
	if kind == "phone" {
		p.Current = passport.FormatPhone(a.Phone)
	}
	p.Account = a
	return s.page(c, http.StatusOK, "contact_remove", p)
}

func (s *Server) handleContactRemove(c echo.Context, a *passport.Account) error {
	kind := s.contactKind(c)
	if err := s.acct.CheckEditable(a, passport.Field(kind)); err != nil {
		return s.contactResult(c, a, kind, "", "", "", err)
	}
	return s.contactResult(c, a, kind, "", "", kind+"-deleted", s.db.RemoveContact(c.Request().Context(), a.ID, kind))
}

type confirmLinkPage struct {
	Base
	Token   string
	Done    bool
	Expired bool // the link is expired, used or malformed: the page says so in words
	Value   string
}

// linkTokenLength is the length of an email link's token (32 random bytes, base64url).
const linkTokenLength = 43

// renderExpiredLink says in words that an email link no longer works, and what to do.
func (s *Server) renderExpiredLink(c echo.Context) error {
	return s.page(c, http.StatusGone, "confirm_email", confirmLinkPage{Base: s.base(c, "This link no longer works"), Expired: true})
}

// handleConfirmLinkForm is where the email link lands: a button, because mail scanners
// open links and a GET must not change anything.
func (s *Server) handleConfirmLinkForm(c echo.Context) error {
	if err := s.noteViewer(c); err != nil {
		return err
	}
	token := c.QueryParam("token")
	if len(token) != linkTokenLength {
		return s.renderExpiredLink(c)
	}
	return s.page(c, http.StatusOK, "confirm_email", confirmLinkPage{Base: s.base(c, "Confirm your email address"),
		Token: token})
}

// handleConfirmLink applies the change the link stands for; it works in any browser, since
// the link itself proves the mailbox.
func (s *Server) handleConfirmLink(c echo.Context) error {
	if err := s.noteViewer(c); err != nil {
		return err
	}
	token := c.FormValue("token")
	if len(token) != linkTokenLength {
		return s.renderExpiredLink(c)
	}
	change, err := s.db.ConfirmEmailLink(c.Request().Context(), passport.HashToken(token), s.changeNotices)
	if passport.ErrorCode(err) == passport.ENOTFOUND {
		return s.renderExpiredLink(c)
	}
	if err != nil {
		return err
	}
	return s.page(c, http.StatusOK, "confirm_email", confirmLinkPage{Base: s.base(c, "Email address confirmed"),
		Done: true, Value: change.Value})
}

type passwordPage struct {
	Base
	Errors map[string]string
}

func (s *Server) handlePasswordForm(c echo.Context, a *passport.Account) error {
	p := passwordPage{Base: s.base(c, "Change password")}
	p.Account = a
	return s.page(c, http.StatusOK, "password", p)
}

// handlePasswordSubmit changes the password; every session ends, this one too, so the
// person signs in again with the new password.
//
// The new password is typed twice; when the two differ nothing is checked or changed, and
// the message stands next to the repeat.
func (s *Server) handlePasswordSubmit(c echo.Context, a *passport.Account) error {
	var err error
	if next := c.FormValue("new_password"); next != c.FormValue("repeat_password") {
		err = passport.FieldError("repeat_password", "The repeated password is not the same as the new one.")
	} else {
		err = s.changePassword(c.Request().Context(), a, c.FormValue("current_password"), next)
	}
	var pe *passport.Error
	if asDomain(err, &pe) && pe.Field != "" {
		p := passwordPage{Base: s.base(c, "Change password"), Errors: s.texts(c, FieldErrors{pe.Field: pe})}
		p.Account = a
		status := http.StatusBadRequest
		if pe.Code == passport.ELIMITED {
			status = http.StatusTooManyRequests
		}
		return s.page(c, status, "password", p)
	}
	if err != nil {
		return err
	}
	s.setCookie(c, s.cookie.session, "", -1)
	return c.Redirect(http.StatusSeeOther, "/signin?notice=password")
}

type sessionsPage struct {
	Base
	Flash    string // a sentence of the catalogue
	Sessions []SessionView
}

func (s *Server) handleSessions(c echo.Context, a *passport.Account) error {
	list, err := s.liveSessions(c.Request().Context(), s.localizer(c), a.ID, browserOf(c).Session.ID)
	if err != nil {
		return err
	}
	p := sessionsPage{Base: s.base(c, "Sessions"), Flash: flashes[c.QueryParam("saved")], Sessions: list}
	p.Account = a
	return s.page(c, http.StatusOK, "sessions", p)
}

// handleSessionEndForm asks before ending a session; the sessions page leads here for the
// current one, since ending it signs the person out of this browser.
func (s *Server) handleSessionEndForm(c echo.Context, a *passport.Account) error {
	list, err := s.liveSessions(c.Request().Context(), s.localizer(c), a.ID, browserOf(c).Session.ID)
	if err != nil {
		return err
	}
	for i := range list {
		if list[i].ID == c.QueryParam("id") {
			return s.confirmAction(c, "End this session?", confirmPage{Action: "end-session", Post: "/profile/sessions/end",
				Back: "/profile/sessions", Hidden: []hiddenField{{Name: "id", Value: list[i].ID}}, Session: &list[i]})
		}
	}
	return passport.Errorf(passport.ENOTFOUND, "No such session.")
}

// handleSessionEnd ends one session; the current one only once confirmed.
func (s *Server) handleSessionEnd(c echo.Context, a *passport.Account) error {
	id := c.FormValue("id")
	if id == browserOf(c).Session.ID && !confirmed(c) {
		return c.Redirect(http.StatusSeeOther, "/profile/sessions/end?id="+url.QueryEscape(id))
	}
	if err := s.db.EndAccountSession(c.Request().Context(), a.ID, id); err != nil {
		return err
	}
	if id == browserOf(c).Session.ID {
		s.setCookie(c, s.cookie.session, "", -1)
		return c.Redirect(http.StatusSeeOther, "/signed-out")
	}
	return c.Redirect(http.StatusSeeOther, "/profile/sessions?saved=session-ended")
}

// handleSessionsEndAllForm asks before "Log out of all devices".
func (s *Server) handleSessionsEndAllForm(c echo.Context, a *passport.Account) error {
	return s.confirmAction(c, "Log out of all devices?", confirmPage{Action: "end-all", Post: "/profile/sessions/end-all",
		Back: "/profile/sessions"})
}

// handleSessionsEndAll is "Log out of all devices", once confirmed: every session ends and
// every refresh and access token is revoked.
func (s *Server) handleSessionsEndAll(c echo.Context, a *passport.Account) error {
	if !confirmed(c) {
		return c.Redirect(http.StatusSeeOther, "/profile/sessions/end-all")
	}
	if err := s.db.SignOutEverywhere(c.Request().Context(), a.ID); err != nil {
		return err
	}
	s.setCookie(c, s.cookie.session, "", -1)
	return c.Redirect(http.StatusSeeOther, "/signin?notice=everywhere")
}

type devMessagesPage struct {
	Base
	Messages any
}

// handleDevMessages lists what the development sink delivered; the route exists only when
// the page is switched on (dev.messages_page).
func (s *Server) handleDevMessages(c echo.Context) error {
	if err := s.noteViewer(c); err != nil {
		return err
	}
	msgs, err := s.db.DevMessages(c.Request().Context(), 50)
	if err != nil {
		return err
	}
	return s.page(c, http.StatusOK, "dev_messages", devMessagesPage{Base: s.base(c, "Development messages"), Messages: msgs})
}
