package web

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/passport-idp/passport/internal/passport"
)

// routes registers every route of Passport, so the whole surface reads at a glance. The
// OpenID Provider gets explicit paths and methods, so Echo answers 404 and 405 itself.
func (s *Server) routes() {
	e := s.echo
	e.Use(s.requestID, s.logRequests, s.recoverPanics, s.securityHeaders, s.limitBody, s.validText)

	// Probes.
	e.GET("/healthz", s.handleHealthz)
	e.GET("/readyz", s.handleReadyz)

	// Static files.
	e.GET("/static/*", s.handleStatic)

	// Pages. browser loads the browser cookie and session; csrf guards every unsafe method.
	// (Not an echo.Group: a group with middleware and an empty prefix catches every path.)
	page := []echo.MiddlewareFunc{s.pageHeaders, s.browser, s.csrf}
	e.GET("/", s.handleHome, page...)
	e.GET("/signin", s.handleSigninForm, page...)
	e.POST("/signin", s.handleSigninSubmit, page...)
	e.POST("/signin/cancel", s.handleSigninCancel, page...)
	e.GET("/consent", s.inFlow(s.handleConsentForm), page...)
	e.POST("/consent", s.inFlow(s.handleConsentSubmit), page...)
	e.GET("/signout", s.handleSignoutForm, page...)
	e.POST("/signout", s.handleSignoutSubmit, page...)
	e.GET("/signed-out", s.handleSignedOut, page...)
	e.GET("/signin/complete", s.inFlow(s.handleCompleteForm), page...)
	e.POST("/signin/complete", s.inFlow(s.handleCompleteSubmit), page...)

	// Required actions after sign-in (SPEC §6), one page per step, in a fixed order: each
	// step checks it is the first one pending. /signin/actions sends to that one.
	e.GET("/signin/actions", s.step("", nil), page...)
	e.GET("/signin/actions/password", s.step(passport.ActionChangePassword, s.handleActionPasswordForm), page...)
	e.POST("/signin/actions/password", s.step(passport.ActionChangePassword, s.handleActionPasswordSubmit), page...)
	for _, kind := range []string{"email", "phone"} {
		e.GET("/signin/actions/"+kind, s.contactStep(kind, s.handleActionContactForm), page...)
		e.POST("/signin/actions/"+kind+"/send", s.contactStep(kind, s.handleActionContactSend), page...)
		e.POST("/signin/actions/"+kind+"/resend", s.contactStep(kind, s.handleActionContactResend), page...)
		e.POST("/signin/actions/"+kind+"/confirm", s.contactStep(kind, s.handleActionContactConfirm), page...)
	}
	e.GET("/signin/actions/profile", s.step(passport.ActionFillRequired, s.handleActionProfileForm), page...)
	e.POST("/signin/actions/profile", s.step(passport.ActionFillRequired, s.handleActionProfileSubmit), page...)
	e.GET("/signin/actions/2fa", s.step(passport.ActionEnrolTwoFactor, s.handleActionTwoFactorForm), page...)
	e.POST("/signin/actions/2fa", s.step(passport.ActionEnrolTwoFactor, s.handleActionTwoFactorSubmit), page...)

	// Self sign-up. Off, these routes do not exist (404).
	if s.cfg.Signup.Enabled {
		e.GET("/signup", s.handleSignupForm, page...)
		e.POST("/signup", s.handleSignupSubmit, page...)
		e.GET("/signup/confirm", s.handleSignupConfirmForm, page...)
		e.POST("/signup/confirm", s.handleSignupConfirm, page...)
		e.POST("/signup/resend", s.handleSignupResend, page...)
	}

	// The personal cabinet.
	e.GET("/profile", s.cabinet(s.handleProfile), page...)
	e.GET("/profile/edit", s.cabinet(s.handleEditForm), page...)
	e.POST("/profile/edit", s.cabinet(s.handleEditSubmit), page...)
	e.POST("/profile/photo", s.cabinet(s.handlePhotoUpload), page...)
	e.POST("/profile/photo/delete", s.cabinet(s.handlePhotoDelete), page...)
	e.POST("/profile/privacy", s.cabinet(s.handlePrivacySubmit), page...)
	e.GET("/profile/apps", s.cabinet(s.handleApps), page...)
	e.POST("/profile/apps/revoke", s.cabinet(s.handleAppRevoke), page...)
	e.GET("/profile/export", s.cabinet(s.handleExport), page...)
	contact := append(page[:len(page):len(page)], onlyContact) // :kind is email or phone
	e.GET("/profile/:kind", s.cabinet(s.handleContactPage), contact...)
	e.POST("/profile/:kind", s.cabinet(s.handleContactStart), contact...)
	e.POST("/profile/:kind/confirm", s.cabinet(s.handleContactConfirm), contact...)
	e.POST("/profile/:kind/resend", s.cabinet(s.handleContactResend), contact...)
	e.POST("/profile/:kind/cancel", s.cabinet(s.handleContactCancel), contact...)
	e.GET("/profile/:kind/delete", s.cabinet(s.handleContactRemoveForm), contact...)
	e.POST("/profile/:kind/delete", s.cabinet(s.handleContactRemove), contact...)
	e.GET("/confirm/email", s.handleConfirmLinkForm, page...)
	e.POST("/confirm/email", s.handleConfirmLink, page...)
	e.GET("/profile/password", s.cabinet(s.handlePasswordForm), page...)
	e.POST("/profile/password", s.cabinet(s.handlePasswordSubmit), page...)
	e.GET("/profile/sessions", s.cabinet(s.handleSessions), page...)
	e.POST("/profile/sessions/end", s.cabinet(s.handleSessionEnd), page...)
	e.POST("/profile/sessions/end-all", s.cabinet(s.handleSessionsEndAll), page...)
	e.GET("/profile/2fa", s.cabinet(s.handleTwoFactorPage), page...)
	e.POST("/profile/2fa", s.cabinet(s.handleTwoFactorEnable), page...)
	e.POST("/profile/2fa/disable", s.cabinet(s.handleTwoFactorDisable), page...)
	e.GET("/profile/delete", s.cabinet(s.handleDeleteForm), page...)
	e.POST("/profile/delete", s.cabinet(s.handleDeleteSubmit), page...)
	e.POST("/account/restore", s.handleRestore, page...)
	e.GET("/signin/2fa", s.inFlow(s.handleSecondFactorForm), page...)
	e.POST("/signin/2fa", s.handleSecondFactorSubmit, page...)
	e.GET("/signin/2fa-setup", s.inFlow(s.handleTwoFactorSetupForm), page...)
	e.POST("/signin/2fa-setup", s.inFlow(s.handleTwoFactorSetupSubmit), page...)
	e.GET("/policy", s.handlePolicy, page...)
	e.POST("/language", s.handleLanguage, page...)
	if s.cfg.DevMessagesPage {
		e.GET("/dev/messages", s.handleDevMessages, page...) // development only: codes readable by anyone
	}

	// Confirmations. A consequential one-click action asks first: the GET says what will
	// happen, and the POST acts only with the confirm=yes its page sends. Beside them, each
	// connected application's field decisions (the consent screen's action).
	e.GET("/profile/apps/revoke", s.cabinet(s.handleAppRevokeForm), page...)
	e.POST("/profile/apps/decisions", s.cabinet(s.handleAppDecisions), page...)
	e.GET("/profile/sessions/end", s.cabinet(s.handleSessionEndForm), page...)
	e.GET("/profile/sessions/end-all", s.cabinet(s.handleSessionsEndAllForm), page...)
	e.GET("/profile/photo/delete", s.cabinet(s.handlePhotoDeleteForm), page...)

	// Forgotten password.
	e.GET("/signin/forgot", s.handleForgotForm, page...)
	e.POST("/signin/forgot", s.handleForgotSubmit, page...)
	e.GET("/signin/forgot/code", s.handleResetCodeForm, page...)
	e.POST("/signin/forgot/code", s.handleResetCode, page...)
	e.GET("/signin/forgot/link", s.handleResetLinkForm, page...)
	e.POST("/signin/forgot/link", s.handleResetLink, page...)
	e.GET("/signin/forgot/password", s.handleResetPasswordForm, page...)
	e.POST("/signin/forgot/password", s.handleResetPassword, page...)

	// Public profiles and photos: anyone may read them; they hold public fields only.
	e.GET("/people/:id", s.handlePerson, page...)
	e.GET("/people/:id/profile.json", s.handlePersonJSON)
	e.GET("/people/:id/contact.vcf", s.handleVCard)
	e.GET("/photos/:id", s.handlePhoto)

	// The account API (docs/openapi.yaml).
	api := e.Group("/api/v1", s.apiAuth)
	api.GET("/me", s.apiGetMe)
	api.DELETE("/me", s.apiDeleteMe)
	api.POST("/me/2fa", s.apiStartTwoFactor)
	api.POST("/me/2fa/enable", s.apiEnableTwoFactor)
	api.DELETE("/me/2fa", s.apiDisableTwoFactor)
	api.PATCH("/me", s.apiPatchMe)
	api.PATCH("/me/publicity", s.apiPatchPublicity)
	api.PUT("/me/photo", s.apiPutPhoto)
	api.DELETE("/me/photo", s.apiDeletePhoto)
	api.GET("/me/apps", s.apiGetApps)
	api.DELETE("/me/apps/:client_id", s.apiDeleteApp)
	api.GET("/me/export", s.apiExport)
	api.POST("/me/:kind", s.apiStartContact, onlyContact) // email or phone
	api.POST("/me/:kind/confirm", s.apiConfirmContact, onlyContact)
	api.POST("/me/:kind/resend", s.apiResendContact, onlyContact)
	api.DELETE("/me/:kind/pending", s.apiCancelContact, onlyContact)
	api.DELETE("/me/:kind", s.apiRemoveContact, onlyContact)
	api.POST("/me/password", s.apiChangePassword)
	api.GET("/me/sessions", s.apiSessions)
	api.DELETE("/me/sessions", s.apiEndAllSessions)
	api.DELETE("/me/sessions/:id", s.apiEndSession)

	// Recovery codes. New ones need the password and a current code and void the old ones at
	// once; both doors call regenerateRecoveryCodes. Beside them, two-factor enrolment's
	// first step ("Turn on"), after which the page shows the key.
	e.POST("/profile/2fa/start", s.cabinet(s.handleTwoFactorStart), page...)
	e.POST("/profile/2fa/recovery-codes", s.cabinet(s.handleRecoveryCodes), page...)
	api.POST("/me/2fa/recovery-codes", s.apiRecoveryCodes)

	// Security events: the person's own (SPEC §12).
	e.GET("/profile/events", s.cabinet(s.handleEvents), page...)
	api.GET("/me/events", s.apiMyEvents)

	// What the person may edit, and why not (SPEC §2): the cabinet's edit page draws from
	// the same function.
	api.GET("/me/profile/schema", s.apiProfileSchema)

	// The admin console (SPEC §6, §12). console admits administrators only (404 for anyone
	// else), with two factors when required and a recent sign-in for changes; every action
	// is scoped by internal/account (another organisation's id is a 404).
	e.GET("/admin", s.console(s.handleAdminHome), page...)
	e.GET("/admin/reauth", s.console(s.handleAdminReauthForm), page...)
	e.POST("/admin/reauth", s.console(s.handleAdminReauth), page...)
	e.GET("/admin/orgs", s.console(s.handleAdminOrgs), page...)
	e.POST("/admin/orgs", s.console(s.handleAdminOrgCreate), page...)
	e.GET("/admin/orgs/:org", s.console(s.handleAdminOrg), page...)
	e.POST("/admin/orgs/:org", s.console(s.handleAdminOrgUpdate), page...) // rename, disable, enable
	e.POST("/admin/orgs/:org/roles", s.console(s.handleAdminRoleSave), page...)
	e.POST("/admin/orgs/:org/roles/delete", s.console(s.handleAdminRoleDelete), page...)
	e.GET("/admin/members", s.console(s.handleAdminMembers), page...)
	e.POST("/admin/orgs/:org/members", s.console(s.handleAdminMemberAdd), page...)
	e.GET("/admin/orgs/:org/members/:id", s.console(s.handleAdminMember), page...)
	e.POST("/admin/orgs/:org/members/:id", s.console(s.handleAdminMemberUpdate), page...) // roles, position, primary
	e.GET("/admin/orgs/:org/members/:id/remove", s.console(s.handleAdminMemberRemoveForm), page...)
	e.POST("/admin/orgs/:org/members/:id/remove", s.console(s.handleAdminMemberRemove), page...)
	e.POST("/admin/orgs/:org/members/:id/block", s.console(s.handleAdminMemberBlock), page...)
	e.POST("/admin/orgs/:org/members/:id/unblock", s.console(s.handleAdminMemberUnblock), page...)
	e.POST("/admin/orgs/:org/members/:id/end-sessions", s.console(s.handleAdminMemberEndSessions), page...)
	e.GET("/admin/events", s.console(s.handleAdminEvents), page...)
	// Issued accounts (SPEC §6): creating members, login details and their templates,
	// two factors, contact confirmation, required actions, imports, locked fields.
	e.GET("/admin/orgs/:org/members/new", s.console(s.handleAdminMemberNewForm), page...)
	e.POST("/admin/orgs/:org/members/new", s.console(s.handleAdminMemberCreate), page...)
	e.GET("/admin/orgs/:org/members/:id/credentials", s.console(s.handleAdminCredentialsForm), page...)
	e.POST("/admin/orgs/:org/members/:id/credentials", s.console(s.handleAdminCredentialsIssue), page...)
	e.POST("/admin/orgs/:org/members/:id/two-factor/reset", s.console(s.handleAdminTwoFactorReset), page...)
	e.POST("/admin/orgs/:org/members/:id/contact-confirmation", s.console(s.handleAdminContactConfirmation), page...)
	e.GET("/admin/templates", s.console(s.handleAdminTemplates), page...)
	e.POST("/admin/templates", s.console(s.handleAdminTemplateSave), page...)
	e.GET("/admin/templates/:key", s.console(s.handleAdminTemplate), page...)
	e.POST("/admin/templates/:key/delete", s.console(s.handleAdminTemplateDelete), page...)
	e.POST("/admin/orgs/:org/members/:id/actions", s.console(s.handleAdminMemberActions), page...)
	e.POST("/admin/orgs/:org/two-factor", s.console(s.handleAdminOrgTwoFactor), page...)
	e.GET("/admin/orgs/:org/imports", s.console(s.handleAdminImports), page...)
	e.POST("/admin/orgs/:org/imports", s.console(s.handleAdminImportUpload), page...)
	e.GET("/admin/orgs/:org/imports/:id", s.console(s.handleAdminImport), page...)
	e.GET("/admin/orgs/:org/imports/:id/result", s.console(s.handleAdminImportResult), page...)
	e.POST("/admin/orgs/:org/members/:id/profile", s.console(s.handleMemberProfile), page...)
	e.POST("/admin/orgs/:org/members/:id/unlock", s.console(s.handleMemberUnlock), page...)
	e.POST("/admin/orgs/:org/members/:id/relock", s.console(s.handleMemberRelock), page...)

	// The admin API (docs/openapi.yaml): every console action, for programs. adminAPIAuth
	// takes a bearer token with scope passport:admin or the session cookie with X-CSRF-Token.
	adm := e.Group("/api/v1/admin", s.adminAPIAuth)
	adm.GET("/orgs", s.apiAdminOrgs)
	adm.POST("/orgs", s.apiAdminOrgCreate)
	adm.GET("/orgs/:org", s.apiAdminOrg)
	adm.PATCH("/orgs/:org", s.apiAdminOrgUpdate)
	adm.GET("/orgs/:org/roles", s.apiAdminRoles)
	adm.PUT("/orgs/:org/roles/:key", s.apiAdminRolePut)
	adm.DELETE("/orgs/:org/roles/:key", s.apiAdminRoleDelete)
	adm.GET("/members", s.apiAdminMembers)
	adm.GET("/orgs/:org/members", s.apiAdminOrgMembers)
	adm.POST("/orgs/:org/members", s.apiAdminMembersPost) // create a member, or add an existing account
	adm.GET("/orgs/:org/members/:id", s.apiAdminMember)
	adm.PATCH("/orgs/:org/members/:id", s.apiAdminMemberUpdate)
	adm.DELETE("/orgs/:org/members/:id", s.apiAdminMemberRemove)
	adm.PUT("/orgs/:org/members/:id/roles", s.apiAdminMemberRoles)
	adm.GET("/orgs/:org/members/:id/events", s.apiAdminMemberEvents)
	adm.POST("/accounts/:id/block", s.apiAdminBlock)
	adm.POST("/accounts/:id/unblock", s.apiAdminUnblock)
	adm.DELETE("/accounts/:id/sessions", s.apiAdminEndSessions)
	adm.GET("/orgs/:org/events", s.apiAdminOrgEvents)
	adm.GET("/events", s.apiAdminEvents)
	// Accounts issued by organisations (SPEC §2, §6, §9): members created and given login
	// details, templates, two factors reset, contact confirmation asked; required actions
	// and the organisation's two-factor policy; CSV imports; locked fields.
	adm.GET("/orgs/:org/members/:id/credentials", s.apiAdminCredentials)
	adm.POST("/orgs/:org/members/:id/credentials", s.apiAdminCredentialsIssue)
	adm.POST("/orgs/:org/members/:id/two-factor/reset", s.apiAdminTwoFactorReset)
	adm.POST("/orgs/:org/members/:id/contact-confirmation", s.apiAdminContactConfirmation)
	adm.GET("/templates", s.apiAdminTemplates)
	adm.GET("/templates/:key", s.apiAdminTemplate)
	adm.PUT("/templates/:key", s.apiAdminTemplatePut)
	adm.DELETE("/templates/:key", s.apiAdminTemplateDelete)
	adm.PUT("/orgs/:org/members/:id/required-actions", s.apiAdminRequiredActions)
	adm.PUT("/orgs/:org/two-factor-policy", s.apiAdminTwoFactorPolicy)
	adm.POST("/orgs/:org/imports", s.apiAdminImportCreate)
	adm.GET("/orgs/:org/imports", s.apiAdminImports)
	adm.GET("/orgs/:org/imports/:id", s.apiAdminImport)
	adm.GET("/orgs/:org/imports/:id/result", s.apiAdminImportResult)
	adm.PATCH("/orgs/:org/members/:id/profile", s.apiAdminMemberProfile)
	adm.PUT("/orgs/:org/members/:id/unlocks/:field", s.apiAdminUnlock)
	adm.DELETE("/orgs/:org/members/:id/unlocks/:field", s.apiAdminRelock)

	// OpenID Provider. Routes a browser visits get the browser in their context and show
	// errors as pages; the others answer JSON errors without internal text. Every one of them
	// answers 503 temporarily_unavailable when the database is down.
	h := echo.WrapHandler(s.oidc)
	get := []string{http.MethodGet, http.MethodOptions}
	post := []string{http.MethodPost, http.MethodOptions}
	getPost := []string{http.MethodGet, http.MethodPost, http.MethodOptions}
	e.Match(get, "/.well-known/openid-configuration", h, s.protocolHeaders)
	e.Match(get, "/keys", h, s.protocolHeaders)
	e.Match(get, "/authorize", s.onlyCodeFlow(h), s.protocolHeaders, s.browser, s.authorizeErrors)
	e.POST("/authorize", s.handleAuthorizePost, s.protocolHeaders)
	e.GET("/authorize/callback", h, s.protocolHeaders, s.browser, s.authorizeErrors)
	e.Match(getPost, "/end_session", h, s.protocolHeaders, s.browser, s.endSessionErrors)
	e.Match(post, "/oauth/token", h, s.protocolHeaders, noStore, noQuery, s.protocolErrors)
	e.Match(post, "/oauth/introspect", h, s.protocolHeaders, noStore, noQuery, s.protocolErrors)
	e.Match(post, "/revoke", h, s.protocolHeaders, noStore, noQuery, s.protocolErrors)
	e.Match(getPost, "/userinfo", h, s.protocolHeaders, noStore, s.bearerErrors)
	for _, r := range e.Routes() {
		if r.Method == http.MethodGet {
			s.getRoutes = append(s.getRoutes, strings.Split(r.Path, "/"))
		}
	}
}
