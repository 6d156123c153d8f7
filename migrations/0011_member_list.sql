-- The member list filtered by a rare account status (blocked, pending deletion) in login
-- order: without this, a page walks the login index past every active account.
CREATE INDEX accounts_status_login ON accounts (status, login_folded) WHERE status <> 'active';
