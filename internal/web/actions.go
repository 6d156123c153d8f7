package web

import (
	"context"
	"encoding/base64"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/passport-idp/passport/internal/account"
	"github.com/passport-idp/passport/internal/passport"
)

// Required actions after sign-in (SPEC §6): after the password (and second factor), before
// consent and the application's code, and before the cabinet opens, the person takes every
// pending action in the fixed order passport.Actions. Each step's page checks that its
// action is the first pending one, so a later step (or consent, or the code) cannot be
// reached by posting its form directly. Within an application's request every URL carries
// authRequestID; a cabinet sign-in works with the session alone and ends at /profile.

// actionsFresh is how long after the sign-in the steps that change credentials (the new
// password, two factors) trust the session without asking for the password again.
const actionsFresh = 30 * time.Minute

// actionPaths are the pages of the steps.
var actionPaths = map[string]string{
	passport.ActionChangePassword: "/signin/actions/password",
	passport.ActionConfirmEmail:   "/signin/actions/email",
	passport.ActionConfirmPhone:   "/signin/actions/phone",
	passport.ActionFillRequired:   "/signin/actions/profile",
	passport.ActionEnrolTwoFactor: "/signin/actions/2fa",
}

// actionLabels name the actions on the console's member page (sentences of the catalogue).
var actionLabels = map[string]string{
	passport.ActionChangePassword: "Change the password",
	passport.ActionConfirmEmail:   "Confirm the email address",
	passport.ActionConfirmPhone:   "Confirm the phone number",
	passport.ActionFillRequired:   "Fill in the required fields",
	passport.ActionEnrolTwoFactor: "Set up two-factor authentication",
}

// actionURL is the page of a step (the dispatcher for ""), within req when there is one.
// Within an application's request the required fields keep their older address.
func actionURL(action string, req *passport.AuthRequest) string {
	p, ok := actionPaths[action]
	if !ok {
		p = "/signin/actions"
	}
	if action == passport.ActionFillRequired && req != nil {
		p = "/signin/complete"
	}
	if req != nil {
		p += "?" + url.Values{"authRequestID": {req.ID}}.Encode()
	}
	return p
}

// pendingActions returns the account's pending required actions in order, and removes
// the ones it finds done (an email confirmed, two factors on …) from the stored list.
// Within an application's request (flow) an empty required field is always due: the
// application must not get the person without it; for the cabinet only when an
// administrator demanded it (the cabinet lets a person leave a field empty, with a note).
func (s *Server) pendingActions(ctx context.Context, a *passport.Account, flow bool) ([]string, error) {
	var hasTOTP, orgRequires bool
	if len(a.RequiredActions) > 0 || len(a.ActiveMemberships()) > 0 {
		// Only an action in the list or an organisation's policy needs these (one query);
		// most accounts have neither, and the cabinet asks on every page.
		var err error
		if hasTOTP, orgRequires, err = s.db.ActionFacts(ctx, a.ID); err != nil {
			return nil, err
		}
	}
	pending := passport.Pending(a, hasTOTP, orgRequires, s.missingEditable(a))
	if done := passport.Satisfied(a, pending); len(done) > 0 {
		if err := s.db.DropRequiredActions(ctx, a.ID, done); err != nil {
			return nil, err
		}
		a.RequiredActions = slices.DeleteFunc(slices.Clone(a.RequiredActions), func(x string) bool { return slices.Contains(done, x) })
	}
	if !flow && !slices.Contains(a.RequiredActions, passport.ActionFillRequired) {
		pending = slices.DeleteFunc(pending, func(x string) bool { return x == passport.ActionFillRequired })
	}
	return pending, nil
}

// actionGate is for pages of a signed-in person outside the steps (the cabinet): it
// returns where to send the browser first ("" when nothing is pending).
func (s *Server) actionGate(ctx context.Context, a *passport.Account) (string, error) {
	pending, err := s.pendingActions(ctx, a, false)
	if err != nil || len(pending) == 0 {
		return "", err
	}
	return actionURL(pending[0], nil), nil
}

// gateAPI refuses a cookie session's API call while a required action is pending.
func (s *Server) gateAPI(ctx context.Context, a *passport.Account) error {
	if to, err := s.actionGate(ctx, a); err != nil {
		return err
	} else if to != "" {
		return passport.Errorf(passport.EFORBIDDEN, "Finish the steps asked of you after sign-in first.")
	}
	return nil
}

// actionStep is the state of a step's request.
type actionStep struct {
	req     *passport.AuthRequest // nil for a cabinet sign-in
	client  *passport.Client
	sess    *passport.Session
	a       *passport.Account
	pending []string
}

// fresh reports whether the session signed in with the password so recently (or for this
// very request) that a step changing credentials need not ask for it again.
func (s *Server) fresh(st *actionStep) bool {
	if st.req != nil && st.req.LoginSessionID == st.sess.ID {
		return true
	}
	return s.db.Now().Sub(st.sess.AuthTime) < actionsFresh
}

// reqID is the step's auth request id, "" for a cabinet sign-in.
func (st *actionStep) reqID() string {
	if st.req == nil {
		return ""
	}
	return st.req.ID
}

// next goes on after a step: to the next pending action's page, else on with the
// application's request (consent, the code), else to the cabinet.
func (s *Server) next(c echo.Context, st *actionStep) error {
	pending, err := s.pendingActions(c.Request().Context(), st.a, st.req != nil)
	if err != nil {
		return err
	}
	if len(pending) > 0 {
		return c.Redirect(http.StatusSeeOther, actionURL(pending[0], st.req))
	}
	if st.req != nil {
		return s.continueFlow(c, st.req, st.client, st.sess)
	}
	return c.Redirect(http.StatusSeeOther, "/profile")
}

// step wraps the page of action ("" for the dispatcher): the auth request when the URL
// names one (bound to this browser), a session that may answer it (else back to sign-in),
// the account, and the check that action is the first pending one (else to that one's
// page). Nothing is skippable.
func (s *Server) step(action string, h func(echo.Context, *actionStep) error) echo.HandlerFunc {
	return func(c echo.Context) error {
		st := &actionStep{}
		if id := c.FormValue("authRequestID"); id != "" {
			var err error
			if st.req, st.client, err = s.authRequest(c, id); err != nil {
				return err
			}
			if st.sess = s.flowSession(c, st.req); st.sess == nil {
				return c.Redirect(http.StatusSeeOther, "/signin?authRequestID="+url.QueryEscape(id))
			}
		} else if st.sess = browserOf(c).Session; st.sess == nil {
			return c.Redirect(http.StatusSeeOther, "/signin")
		}
		return s.runStep(c, st, action, h)
	}
}

// runStep loads the account of st's session and runs h when action is the first pending
// one; "" (the dispatcher) goes on to wherever is next.
func (s *Server) runStep(c echo.Context, st *actionStep, action string, h func(echo.Context, *actionStep) error) error {
	ctx := c.Request().Context()
	a, err := s.db.Account(ctx, st.sess.AccountID)
	if err != nil {
		return err
	}
	if a.Status != passport.StatusActive {
		return passport.Errorf(passport.EFORBIDDEN, "This account cannot sign in.")
	}
	withAccount(c, a)
	st.a = a
	if st.pending, err = s.pendingActions(ctx, a, st.req != nil); err != nil {
		return err
	}
	if action == "" || len(st.pending) == 0 || st.pending[0] != action {
		return s.next(c, st)
	}
	return h(c, st)
}

// ---- Change the password ----

type actionPasswordPage struct {
	Base
	AuthRequestID string
	NeedPassword  bool // the sign-in is not fresh: the current password is asked
	Errors        map[string]string
}

func (s *Server) renderActionPassword(c echo.Context, status int, st *actionStep, errs map[string]string) error {
	return s.page(c, status, "actions_password", actionPasswordPage{Base: s.base(c, "Choose your password"), AuthRequestID: st.reqID(),
		NeedPassword: !s.fresh(st), Errors: errs})
}

func (s *Server) handleActionPasswordForm(c echo.Context, st *actionStep) error {
	return s.renderActionPassword(c, http.StatusOK, st, nil)
}

// handleActionPasswordSubmit replaces the temporary (or admin-demanded) password: other
// sessions end, this one goes on.
func (s *Server) handleActionPasswordSubmit(c echo.Context, st *actionStep) error {
	ctx := c.Request().Context()
	err := error(nil)
	if !s.fresh(st) {
		err = s.acct.CheckCurrentPassword(ctx, self(ctx, st.a.ID), st.a, c.FormValue("current_password"))
	}
	if err == nil {
		err = s.acct.ChangeTemporaryPassword(ctx, self(ctx, st.a.ID), st.a, c.FormValue("new_password"),
			c.FormValue("repeat_password"), st.sess.ID)
	}
	var pe *passport.Error
	if asDomain(err, &pe) && pe.Field != "" {
		return s.renderActionPassword(c, formStatus(err), st, s.formErrors(c, err))
	}
	if err != nil && passport.ErrorCode(err) != passport.ECONFLICT { // ECONFLICT: done meanwhile
		return err
	}
	a, err := s.db.Account(ctx, st.a.ID)
	if err != nil {
		return err
	}
	st.a = a
	return s.next(c, st)
}

// ---- Confirm the email address or the phone number ----

type actionContactPage struct {
	Base
	AuthRequestID string
	Kind          string // email or phone
	Value         string // the address or number to confirm (typed, or the account's)
	Sent          string // where a code went, shown; "" before any
	Hint          string // the phone number's format
	Flash         string
	Errors        map[string]string
}

func contactAction(kind string) string {
	if kind == "phone" {
		return passport.ActionConfirmPhone
	}
	return passport.ActionConfirmEmail
}

func (s *Server) renderActionContact(c echo.Context, status int, st *actionStep, kind, value, flash string, errs map[string]string) error {
	title := "Confirm your email address"
	if kind == "phone" {
		title = "Confirm your phone number"
	}
	p := actionContactPage{Base: s.base(c, title), AuthRequestID: st.reqID(), Kind: kind, Value: value, Flash: flash, Errors: errs}
	if kind == "phone" {
		p.Hint = s.phoneHint(c)
		if p.Value == "" {
			p.Value = passport.FormatPhone(st.a.Phone)
		}
	} else if p.Value == "" {
		p.Value = st.a.Email
	}
	if ch, err := s.db.PendingChange(c.Request().Context(), st.a.ID, kind); err == nil {
		p.Sent = ch.Shown()
	} else if passport.ErrorCode(err) != passport.ENOTFOUND {
		return err
	}
	return s.page(c, status, "actions_contact", p)
}

func (s *Server) contactStep(kind string, h func(echo.Context, *actionStep, string) error) echo.HandlerFunc {
	return s.step(contactAction(kind), func(c echo.Context, st *actionStep) error { return h(c, st, kind) })
}

func (s *Server) handleActionContactForm(c echo.Context, st *actionStep, kind string) error {
	return s.renderActionContact(c, http.StatusOK, st, kind, "", flashes[c.QueryParam("saved")], nil)
}

// handleActionContactSend sends a code to the address or number typed (the account's own,
// unconfirmed, by default): the cabinet's confirmation, with its limits.
func (s *Server) handleActionContactSend(c echo.Context, st *actionStep, kind string) error {
	ctx := c.Request().Context()
	value := c.FormValue(kind)
	var err error
	if kind == "phone" {
		err = s.startPhoneChange(ctx, st.a, value, passport.ChannelSMS, s.phoneRegion(c))
	} else {
		err = s.startEmailChange(ctx, st.a, value)
	}
	return s.actionContactDone(c, st, kind, value, err)
}

// handleActionContactResend sends a new code for the change under way.
func (s *Server) handleActionContactResend(c echo.Context, st *actionStep, kind string) error {
	return s.actionContactDone(c, st, kind, "", s.resend(c.Request().Context(), st.a, kind))
}

// handleActionContactConfirm applies the code: the address or number is confirmed, and
// the person goes on.
func (s *Server) handleActionContactConfirm(c echo.Context, st *actionStep, kind string) error {
	ctx := c.Request().Context()
	if err := s.confirmChange(ctx, st.a, kind, c.FormValue("code")); err != nil {
		return s.actionContactDone(c, st, kind, "", err)
	}
	a, err := s.db.Account(ctx, st.a.ID)
	if err != nil {
		return err
	}
	st.a = a
	return s.next(c, st)
}

// actionContactDone shows the step again: with the mistake next to its field, or with
// "We sent a code".
func (s *Server) actionContactDone(c echo.Context, st *actionStep, kind, value string, err error) error {
	if err == nil {
		u := actionURL(contactAction(kind), st.req)
		sep := "?"
		if st.req != nil {
			sep = "&"
		}
		return c.Redirect(http.StatusSeeOther, u+sep+"saved=code-sent")
	}
	var pe *passport.Error
	if !asDomain(err, &pe) {
		return err
	}
	switch pe.Code {
	case passport.EINVALID, passport.ELIMITED, passport.ECONFLICT, passport.ENOTFOUND:
	default:
		return err
	}
	field := pe.Field
	if field == "" || field == "method" {
		field = kind
	}
	status := formStatus(err)
	if pe.Code == passport.ECONFLICT {
		status = http.StatusConflict
	}
	return s.renderActionContact(c, status, st, kind, value, "", map[string]string{field: s.errText(c, pe)})
}

// ---- Fill in the required fields ----

func (s *Server) handleActionProfileForm(c echo.Context, st *actionStep) error {
	return s.renderActionProfile(c, http.StatusOK, st, nil, nil)
}

func (s *Server) renderActionProfile(c echo.Context, status int, st *actionStep, values map[string]string, errs FieldErrors) error {
	page := completePage{Base: s.base(c, "Complete your profile"), AuthRequestID: st.reqID(), Action: "/signin/actions/profile"}
	if st.req != nil {
		page.Action = "/signin/complete"
	}
	if st.client != nil {
		page.ClientName = st.client.DisplayName()
	}
	page.Fields = s.missingFields(c, st.a, values, errs)
	if st.req != nil {
		return s.page(c, status, "complete", page) // the application's name, posting to /signin/complete
	}
	return s.page(c, status, "actions_profile", page)
}

func (s *Server) handleActionProfileSubmit(c echo.Context, st *actionStep) error {
	values, errs, err := s.saveMissing(c, st.a)
	if err != nil {
		return err
	}
	if len(errs) > 0 {
		return s.renderActionProfile(c, http.StatusBadRequest, st, values, errs)
	}
	a, err := s.db.Account(c.Request().Context(), st.a.ID)
	if err != nil {
		return err
	}
	st.a = a
	return s.next(c, st)
}

// ---- Set up two factors ----

type actionTwoFactorPage struct {
	Base
	AuthRequestID string
	NeedPassword  bool
	Secret        string
	QR            template.URL
	Errors        map[string]string
}

func (s *Server) renderActionTwoFactor(c echo.Context, status int, st *actionStep, errs map[string]string) error {
	key, err := s.enrolment(c.Request().Context(), st.a)
	if err != nil {
		return err
	}
	p := actionTwoFactorPage{Base: s.base(c, "Two-factor authentication"), AuthRequestID: st.reqID(), NeedPassword: !s.fresh(st),
		Secret: key.Secret, Errors: errs,
		QR: template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(key.QRPNG))} //nolint:gosec // our own PNG
	return s.page(c, status, "actions_two_factor", p)
}

func (s *Server) handleActionTwoFactorForm(c echo.Context, st *actionStep) error {
	return s.renderActionTwoFactor(c, http.StatusOK, st, nil)
}

// handleActionTwoFactorSubmit turns two factors on: the session becomes a two-factor one and
// the recovery codes are shown once, with the way on.
func (s *Server) handleActionTwoFactorSubmit(c echo.Context, st *actionStep) error {
	ctx := c.Request().Context()
	needPassword := !s.fresh(st)
	codes, err := s.enableTOTP(ctx, st.a, c.FormValue("code"), c.FormValue("password"), needPassword)
	if code := passport.ErrorCode(err); code == passport.EINVALID || code == passport.ELIMITED {
		return s.renderActionTwoFactor(c, formStatus(err), st, s.formErrors(c, err))
	}
	if err != nil {
		return err
	}
	upgraded, err := s.startSession(c, st.a, []string{passport.AMRPassword, passport.AMROTP, passport.AMRMFA})
	if err != nil {
		return err
	}
	if st.req != nil {
		if err := s.db.MarkLogin(ctx, st.req.ID, upgraded.ID); err != nil {
			return err
		}
	}
	if _, err := s.pendingActions(ctx, st.a, st.req != nil); err != nil { // takes the done action off the list
		return err
	}
	return s.showRecoveryCodes(c, st.a, codes, st.reqID(), false)
}

// ---- The administrator's side ----

// memberActionsView is this part's section of the admin member page.
type memberActionsView struct {
	Href        string // where the form posts
	Items       []actionItem
	OrgRequires bool // the organisation requires two factors of every member
	HasTOTP     bool
}

// actionItem is one required action on the member page.
type actionItem struct {
	Name  string
	Label string // a sentence of the catalogue
	Set   bool   // in the account's list
}

// memberActions loads this part's section of the admin member page.
func (s *Server) memberActions(c echo.Context, m *account.Member) (memberActionsView, error) {
	hasTOTP, _, err := s.db.ActionFacts(c.Request().Context(), m.Account.ID)
	if err != nil {
		return memberActionsView{}, err
	}
	v := memberActionsView{Href: memberURL(m.Membership.OrgAlias, m.Account.ID) + "/actions", OrgRequires: m.Org.RequireTwoFactor,
		HasTOTP: hasTOTP}
	for _, x := range passport.Actions {
		v.Items = append(v.Items, actionItem{Name: x, Label: actionLabels[x], Set: slices.Contains(m.Account.RequiredActions, x)})
	}
	return v, nil
}

// handleAdminMemberActions sets the member's required actions to the ticked ones.
func (s *Server) handleAdminMemberActions(c echo.Context, _ *passport.Account) error {
	form, err := c.FormParams()
	if err != nil {
		return passport.Errorf(passport.EINVALID, "The form could not be read.")
	}
	_, err = s.acct.SetRequiredActions(c.Request().Context(), actorOf(c), c.Param("org"), c.Param("id"), passport.NonNil(form["actions"]))
	return s.memberDone(c, err, "actions")
}

// handleAdminOrgTwoFactor turns "two factors for every member" on (require_two_factor=yes)
// or off.
func (s *Server) handleAdminOrgTwoFactor(c echo.Context, _ *passport.Account) error {
	on := c.FormValue("require_two_factor") == "yes"
	if err := s.acct.SetOrgTwoFactor(c.Request().Context(), actorOf(c), c.Param("org"), on); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/admin/orgs/"+url.PathEscape(c.Param("org"))+"?saved=two-factor")
}

// apiAdminRequiredActions replaces a member's required actions.
func (s *Server) apiAdminRequiredActions(c echo.Context) error {
	var in struct {
		Actions *[]string `json:"actions"`
	}
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	if in.Actions == nil {
		return passport.FieldError("actions", "List the required actions (an empty list clears them).")
	}
	list, err := s.acct.SetRequiredActions(c.Request().Context(), actorOf(c), c.Param("org"), c.Param("id"), *in.Actions)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"actions": list})
}

// apiAdminTwoFactorPolicy sets whether the organisation requires two factors of every member.
func (s *Server) apiAdminTwoFactorPolicy(c echo.Context) error {
	var in struct {
		RequireTwoFactor *bool `json:"require_two_factor"`
	}
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	if in.RequireTwoFactor == nil {
		return passport.FieldError("require_two_factor", "Say whether two factors are required: true or false.")
	}
	if err := s.acct.SetOrgTwoFactor(c.Request().Context(), actorOf(c), c.Param("org"), *in.RequireTwoFactor); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"require_two_factor": *in.RequireTwoFactor})
}
