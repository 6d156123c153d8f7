package main

import (
	"context"
	"flag"
	"fmt"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/passport-idp/passport/internal/account"
	"github.com/passport-idp/passport/internal/config"
	"github.com/passport-idp/passport/internal/passport"
	"github.com/passport-idp/passport/internal/postgres"
)

func (e cliEnv) open(cfg config.Config) (*postgres.DB, error) {
	return postgres.Open(e.ctx, cfg.DatabaseURL, 4)
}

func (e cliEnv) migrate(args []string) error {
	fs, cfgPath := e.flags("migrate", "migrate [--config FILE]")
	if err := parse(fs, args); err != nil {
		return err
	}
	cfg, err := e.config(*cfgPath)
	if err != nil {
		return err
	}
	ran, err := postgres.Migrate(e.ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	if len(ran) == 0 {
		fmt.Fprintln(e.stdout, "database is up to date")
	}
	for _, n := range ran {
		fmt.Fprintln(e.stdout, "applied", n)
	}
	return nil
}

func argon2Params(cfg config.Config) passport.Argon2Params {
	return passport.Argon2Params{MemoryKiB: uint32(cfg.Password.Argon2MemoryKiB),
		Iterations: uint32(cfg.Password.Argon2Iterations), Parallelism: uint8(cfg.Password.Argon2Parallelism)}
}

func (e cliEnv) userCreate(args []string) error {
	fs, cfgPath := e.flags("user create",
		"user create --login L --email E --password P [--given-name G] [--family-name F] [--config FILE]")
	login := fs.String("login", "", "login (required; unique, case-insensitive)")
	email := fs.String("email", "", "email address (required)")
	password := fs.String("password", "", "password (required): 8+ characters with a letter and a digit")
	given := fs.String("given-name", "", "given name")
	family := fs.String("family-name", "", "family name")
	if err := parse(fs, args); err != nil {
		return err
	}
	return e.act(*cfgPath, func(svc *account.Service) error {
		a, err := svc.CreateAccount(e.ctx, account.System(), account.NewAccount{Login: *login, Email: *email,
			Password: *password, GivenName: *given, FamilyName: *family})
		if err != nil {
			return err
		}
		fmt.Fprintln(e.stdout, a.ID)
		return nil
	})
}

// service is the account actions over db, configured as the server configures them: the
// commands below call them as the system (account.System), never the store's SQL directly,
// so a change made here is the same change, with the same security event, as in the console.
func (e cliEnv) service(cfg config.Config, db *postgres.DB) *account.Service {
	return &account.Service{DB: db, Argon2: argon2Params(cfg), Rules: profileRules(cfg),
		DeletionGrace: cfg.Account.DeletionGrace.Duration, IssuedPasswordLifetime: cfg.Issued.PasswordLifetime.Duration}
}

// act runs a command that works through internal/account. Each action is one transaction,
// so a refused command has written nothing. rename maps a domain error's field to the flag
// that carries it, in pairs ("roles", "role").
func (e cliEnv) act(cfgPath string, do func(*account.Service) error, rename ...string) error {
	cfg, err := e.config(cfgPath)
	if err != nil {
		return err
	}
	db, err := e.open(cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	return userError(do(e.service(cfg, db)), rename...)
}

// write runs an admin command that changes the database: prepare validates the input
// against the configuration and returns the change, which runs only when nothing was wrong.
// Domain errors come out as messages naming the flag.
func (e cliEnv) write(cfgPath string, prepare func(config.Config) (func(*postgres.DB) error, error)) error {
	cfg, err := e.config(cfgPath)
	if err != nil {
		return err
	}
	change, err := prepare(cfg)
	if err != nil {
		return userError(err)
	}
	db, err := e.open(cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	return userError(change(db))
}

func (e cliEnv) clientCreate(args []string) error {
	fs, cfgPath := e.flags("client create",
		"client create --id ID [--secret S] --redirect-uri URI [--redirect-uri URI ...]\n"+
			"       [--post-logout-redirect-uri URI ...] [--public] [--name NAME] [--grant-type G ...]\n"+
			"       [--scope S ...] [--admin-org ALIAS] [--config FILE]")
	id := fs.String("id", "", "client ID (required)")
	secret := fs.String("secret", "", "client secret for a confidential client; generated and printed when omitted")
	public := fs.Bool("public", false, "public client (no secret; PKCE S256 required)")
	name := fs.String("name", "", "name shown to people on the consent page")
	mfa := fs.Bool("require-2fa", false, "people sign in to this client with two factors (they set one up if they have none)")
	adminOrg := fs.String("admin-org", "", "bind the client to this organisation (alias) as a service account: its\n"+
		"client_credentials tokens act as an org_admin of it in the admin API (needs\n"+
		"--grant-type client_credentials and --scope "+passport.ScopeAdmin+")")
	var redirects, logouts, grants, scopes multi
	fs.Var(&redirects, "redirect-uri", "redirect URI, exact match (repeatable)")
	fs.Var(&logouts, "post-logout-redirect-uri", "post-logout redirect URI (repeatable)")
	fs.Var(&grants, "grant-type", "authorization_code, refresh_token or client_credentials (repeatable;\n"+
		"default authorization_code and refresh_token)")
	fs.Var(&scopes, "scope", "an extra scope the client may request, e.g. passport:account for a first-party\n"+
		"app that manages the person's own account through /api/v1/me, or passport:admin for the admin\n"+
		"API (repeatable)")
	if err := parse(fs, args); err != nil {
		return err
	}
	return e.write(*cfgPath, func(cfg config.Config) (func(*postgres.DB) error, error) {
		c, generated, err := newClient(*id, *secret, *name, *public, redirects, logouts, grants)
		if err != nil {
			return nil, err
		}
		c.Scopes, c.RequireMFA = scopes, *mfa
		if *adminOrg != "" && (!slices.Contains(c.Scopes, passport.ScopeAdmin) || !c.HasGrant(passport.GrantClientCredentials)) {
			return nil, fmt.Errorf("--admin-org: a service account needs --grant-type %s and --scope %s",
				passport.GrantClientCredentials, passport.ScopeAdmin)
		}
		return func(db *postgres.DB) error {
			if *adminOrg != "" {
				o, err := findOrg(e.ctx, e.service(cfg, db), "admin-org", *adminOrg)
				if err != nil {
					return err
				}
				c.AdminOrgID = o.ID
			}
			if err := db.CreateClient(e.ctx, c); err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "client_id: %s\n", c.ID)
			if generated != "" {
				fmt.Fprintf(e.stdout, "client_secret: %s\n(shown once: only its hash is stored)\n", generated)
			}
			if *adminOrg != "" {
				fmt.Fprintf(e.stdout, "service account of organisation %s (%s)\n", *adminOrg, c.AdminOrgID)
			}
			return nil
		}, nil
	})
}

// need refuses a command line that lacks a required flag (a usage mistake: exit 2).
func need(fs *flag.FlagSet, flags ...string) error {
	for _, name := range flags {
		if fs.Lookup(name).Value.String() == "" {
			fmt.Fprintf(fs.Output(), "--%s is required\n", name)
			fs.Usage()
			return errUsage
		}
	}
	return nil
}

// findOrg returns the organisation a flag names by alias (or id), or an error naming the flag.
func findOrg(ctx context.Context, svc *account.Service, flagName, ref string) (*passport.Organisation, error) {
	o, err := svc.Org(ctx, account.System(), strings.TrimSpace(ref))
	if passport.ErrorCode(err) == passport.ENOTFOUND {
		return nil, fmt.Errorf("--%s: no organisation has the alias %q", flagName, ref)
	}
	return o, err
}

// findLogin returns the account with this login, or an error naming --login. A deleted
// account has no login any more.
func findLogin(ctx context.Context, svc *account.Service, login string) (*passport.Account, error) {
	a, err := svc.DB.AccountByLogin(ctx, strings.TrimSpace(login))
	if passport.ErrorCode(err) == passport.ENOTFOUND || (err == nil && a.Status == passport.StatusDeleted) {
		return nil, fmt.Errorf("--login: no account has the login %q", login)
	}
	return a, err
}

func (e cliEnv) orgCreate(args []string) error {
	fs, cfgPath := e.flags("org create", "org create --alias A --name N [--config FILE]")
	alias := fs.String("alias", "", "alias (required): lower-case letters, digits and hyphens; names the organisation\n"+
		"in the organization claim and never changes")
	name := fs.String("name", "", "display name (required)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := need(fs, "alias", "name"); err != nil {
		return err
	}
	return e.act(*cfgPath, func(svc *account.Service) error {
		o, err := svc.CreateOrg(e.ctx, account.System(), *alias, *name)
		if err != nil {
			return err
		}
		fmt.Fprintln(e.stdout, o.ID)
		return nil
	})
}

func (e cliEnv) orgList(args []string) error {
	fs, cfgPath := e.flags("org list", "org list [--config FILE]")
	if err := parse(fs, args); err != nil {
		return err
	}
	return e.act(*cfgPath, func(svc *account.Service) error {
		orgs, err := svc.Orgs(e.ctx, account.System())
		if err != nil {
			return err
		}
		w := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(w, "ALIAS\tNAME\tSTATUS\tID")
		for _, o := range orgs {
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", o.Alias, o.Name, o.Status, o.ID)
		}
		return w.Flush()
	})
}

func (e cliEnv) orgRole(args []string) error {
	fs, cfgPath := e.flags("org role", "org role --org A --key K --name-en N [--name-ru N] [--name-et N] [--name-nl N] [--name-sv N] [--config FILE]")
	org := fs.String("org", "", "the organisation's alias (required)")
	key := fs.String("key", "", "the role's key in claims (required): lower-case letters, digits, - and _")
	names := map[string]*string{}
	for _, lang := range account.Languages {
		names[lang] = fs.String("name-"+lang, "", "display name in "+lang)
	}
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := need(fs, "org", "key"); err != nil {
		return err
	}
	return e.act(*cfgPath, func(svc *account.Service) error {
		o, err := findOrg(e.ctx, svc, "org", *org)
		if err != nil {
			return err
		}
		r := passport.Role{Key: *key, Names: map[string]string{}}
		for lang, n := range names {
			r.Names[lang] = *n
		}
		if err := svc.SaveRole(e.ctx, account.System(), o.ID, r); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "role %s saved in %s\n", strings.TrimSpace(*key), o.Alias)
		return nil
	}, "names", "name-*")
}

// adminGrant gives (or, with grant false, takes away) an administrative role.
func (e cliEnv) adminGrant(args []string, grant bool) error {
	verb := map[bool]string{true: "grant", false: "revoke"}[grant]
	fs, cfgPath := e.flags("admin "+verb, "admin "+verb+" --login L --role service_admin|org_admin|reviewer [--org A] [--config FILE]")
	login := fs.String("login", "", "the account's login (required)")
	role := fs.String("role", "", "service_admin (everything), org_admin or reviewer (of --org) (required)")
	org := fs.String("org", "", "the organisation's alias, for org_admin and reviewer")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := need(fs, "login", "role"); err != nil {
		return err
	}
	return e.act(*cfgPath, func(svc *account.Service) error {
		a, err := findLogin(e.ctx, svc, *login)
		if err != nil {
			return err
		}
		ref, what := "", *role
		if *org != "" {
			o, err := findOrg(e.ctx, svc, "org", *org)
			if err != nil {
				return err
			}
			ref, what = o.ID, *role+" of "+o.Alias
		}
		if !grant {
			err := svc.Revoke(e.ctx, account.System(), a.ID, *role, ref)
			if passport.ErrorCode(err) == passport.ENOTFOUND {
				return fmt.Errorf("%s does not hold %s", a.Login, what)
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "revoked %s from %s\n", what, a.Login)
			return nil
		}
		if err := svc.Grant(e.ctx, account.System(), a.ID, *role, ref); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "granted %s to %s\n", what, a.Login)
		return nil
	})
}

func (e cliEnv) memberAdd(args []string) error {
	fs, cfgPath := e.flags("member add", "member add --org A --login L [--role R ...] [--position P] [--config FILE]")
	org := fs.String("org", "", "the organisation's alias (required)")
	login := fs.String("login", "", "the account's login (required)")
	position := fs.String("position", "", "the member's position")
	var roles multi
	fs.Var(&roles, "role", "a role of the organisation's catalogue (repeatable)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := need(fs, "org", "login"); err != nil {
		return err
	}
	return e.act(*cfgPath, func(svc *account.Service) error {
		o, err := findOrg(e.ctx, svc, "org", *org)
		if err != nil {
			return err
		}
		// An existing account joins: an unmanaged member, whose account stays theirs.
		a, err := svc.AddMember(e.ctx, account.System(), o.ID, *login, roles, *position)
		if err != nil {
			return err
		}
		fmt.Fprintln(e.stdout, a.ID)
		return nil
	}, "roles", "role")
}

// newClient validates and builds a client; when a confidential client has no secret one is
// generated and returned.
func newClient(id, secret, name string, public bool, redirects, logouts, grants []string) (*passport.Client, string, error) {
	if len(grants) == 0 {
		grants = []string{passport.GrantAuthorizationCode, passport.GrantRefreshToken}
	}
	c := &passport.Client{ID: id, Name: name, Public: public, RedirectURIs: redirects,
		PostLogoutRedirectURIs: logouts, GrantTypes: grants}
	generated := ""
	switch {
	case public && secret != "":
		return nil, "", passport.FieldError("secret", "A public client has no secret: drop --secret or --public.")
	case !public && secret == "":
		generated = passport.NewToken()
		secret = generated
	case !public && len(secret) < 16:
		return nil, "", passport.FieldError("secret", "The secret must be at least 16 characters long.")
	}
	if !public {
		c.SecretHash = passport.HashToken(secret)
	}
	if err := passport.ValidateClient(c); err != nil {
		return nil, "", err
	}
	return c, generated, nil
}

// userError shows a domain error's message, naming the flag it is about; rename maps a
// field to its flag where the names differ, in pairs.
func userError(err error, rename ...string) error {
	if err == nil {
		return nil
	}
	if e, ok := err.(*passport.Error); ok && e.Code != passport.EINTERNAL {
		if e.Field != "" {
			field := e.Field
			for i := 0; i+1 < len(rename); i += 2 {
				if rename[i] == field {
					field = rename[i+1]
				}
			}
			return fmt.Errorf("--%s: %s", strings.ReplaceAll(field, "_", "-"), e.English())
		}
		return fmt.Errorf("%s", e.English())
	}
	return err
}

// Demo credentials for `make run`; printed on every start so a newcomer can sign in.
const (
	demoLogin         = "demo"
	demoPassword      = "passport-demo-42"
	demoClientID      = "demo-app"
	demoClientSecret  = "demo-app-secret-change-me"
	demoOrgAlias      = "demo"
	demoOrgName       = "Demo Transport Ltd"
	demoAdminLogin    = "demo-admin"
	demoAdminPassword = "passport-admin-42"
)

var demoRedirects = []string{"http://localhost:8081/callback", "https://oidcdebugger.com/debug"}

// demoRoles is the demo organisation's role catalogue, named in every language.
var demoRoles = []passport.Role{
	{Key: "driver", Names: map[string]string{"en": "Driver", "ru": "Водитель", "et": "Sõidukijuht", "nl": "Chauffeur", "sv": "Förare"}},
	{Key: "operator", Names: map[string]string{"en": "Operator", "ru": "Оператор", "et": "Operaator", "nl": "Operator", "sv": "Operatör"}},
	{Key: "controller", Names: map[string]string{"en": "Controller", "ru": "Контролёр", "et": "Kontrolör", "nl": "Controleur", "sv": "Kontrollant"}},
	{Key: "manager", Names: map[string]string{"en": "Manager", "ru": "Руководитель", "et": "Juhataja", "nl": "Manager", "sv": "Chef"}},
}

func (e cliEnv) demo(args []string) error {
	fs, cfgPath := e.flags("demo", "demo [--config FILE]")
	if err := parse(fs, args); err != nil {
		return err
	}
	cfg, err := e.config(*cfgPath)
	if err != nil {
		return err
	}
	db, err := e.open(cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := ensureDemo(e.ctx, e.service(cfg, db)); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, `
  Passport is starting at %[1]s

  Demo account:  login %[2]q, password %[3]q (a %[10]s member of %[8]q)
  Demo client:   client_id %[4]q, client_secret %[5]q
                 redirect URIs %[6]s
  Try it:        %[1]s/authorize?client_id=%[4]s&response_type=code&scope=openid%%20profile%%20email%%20organization&redirect_uri=%[7]s&state=demo
  Demo admin:    login %[11]q, password %[12]q: administrator of %[8]q (alias %[9]q)
                 at %[1]s/admin; administrators need two-factor authentication, so the
                 console first asks to turn it on (%[1]s/profile/2fa)
  Discovery:     %[1]s/.well-known/openid-configuration

`, cfg.Issuer, demoLogin, demoPassword, demoClientID, demoClientSecret, strings.Join(demoRedirects, ", "), demoRedirects[1],
		demoOrgName, demoOrgAlias, demoRoles[0].Key, demoAdminLogin, demoAdminPassword)
	return nil
}

// ensureDemo creates whatever of the demo is missing, through the account actions as the
// system: the demo person, the client, the organisation with its roles, its administrator
// and the person's membership. Running it again changes nothing (and records nothing).
func ensureDemo(ctx context.Context, svc *account.Service) error {
	db, sys := svc.DB, account.System()
	if _, err := db.AccountByLogin(ctx, demoLogin); passport.ErrorCode(err) == passport.ENOTFOUND {
		a, err := svc.Validate(ctx, account.NewAccount{Login: demoLogin, Email: "demo@example.com", Password: demoPassword,
			GivenName: "Demo", FamilyName: "Person", Method: passport.RegisteredSelf})
		if err != nil {
			return err
		}
		// A person who signed up, as a newcomer trying Passport would be: nothing is locked
		// (an issued account's names and birth date are the organisation's).
		a.Nickname = "demo"
		if err := db.CreateAccount(passport.WithActor(ctx, sys), a); err != nil && passport.ErrorCode(err) != passport.EINVALID {
			return err
		}
	} else if err != nil {
		return err
	}
	exists, err := db.ClientExists(ctx, demoClientID)
	if err != nil {
		return err
	}
	if !exists {
		c, _, err := newClient(demoClientID, demoClientSecret, "Demo application", false, demoRedirects,
			[]string{"http://localhost:8081/"}, nil)
		if err != nil {
			return err
		}
		if err := db.CreateClient(ctx, c); err != nil && passport.ErrorCode(err) != passport.EINVALID {
			return err
		}
	}

	o, err := svc.Org(ctx, sys, demoOrgAlias)
	if passport.ErrorCode(err) == passport.ENOTFOUND {
		o, err = svc.CreateOrg(ctx, sys, demoOrgAlias, demoOrgName)
	}
	if err != nil {
		return err
	}
	have, err := svc.Roles(ctx, sys, o.ID)
	if err != nil {
		return err
	}
	for _, r := range demoRoles {
		if !slices.ContainsFunc(have, func(h passport.Role) bool { return h.Key == r.Key }) {
			if err := svc.SaveRole(ctx, sys, o.ID, r); err != nil {
				return err
			}
		}
	}

	admin, err := db.AccountByLogin(ctx, demoAdminLogin)
	if passport.ErrorCode(err) == passport.ENOTFOUND {
		admin, err = svc.CreateAccount(ctx, sys, account.NewAccount{Login: demoAdminLogin, Email: "demo-admin@example.com",
			Password: demoAdminPassword, GivenName: "Demo", FamilyName: "Administrator"})
	}
	if err != nil {
		return err
	}
	// Granting a role the account holds changes nothing and records nothing.
	if err := svc.Grant(ctx, sys, admin.ID, passport.RoleOrgAdmin, o.ID); err != nil {
		return err
	}
	// The demo person joined the organisation (an unmanaged member: the account is theirs).
	if _, err := svc.AddMember(ctx, sys, o.ID, demoLogin, []string{"driver"}, "Bus driver"); err != nil &&
		passport.ErrorCode(err) != passport.ECONFLICT {
		return err
	}
	return nil
}

// memberEdit changes an account's profile as the system (locked fields included: the
// command line is an administrator's door, SPEC §2); only the flags given change. With
// --org the account must be a member of that organisation.
func (e cliEnv) memberEdit(args []string) error {
	fs, cfgPath := e.flags("member edit", "member edit --login L [--org A] [--given-name G] [--family-name F] [--birthdate YYYY-MM-DD] [--nickname N] [--locale L] [--config FILE]")
	org := fs.String("org", "", "the organisation's alias: the account must be its member")
	login := fs.String("login", "", "the account's login (required)")
	inputs := map[string]*string{}
	for _, name := range []string{"given-name", "family-name", "birthdate", "nickname", "locale"} {
		inputs[name] = fs.String(name, "", "the new "+strings.ReplaceAll(name, "-", " ")+` ("" clears it)`)
	}
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := need(fs, "login"); err != nil {
		return err
	}
	var in account.ProfileInput
	dst := map[string]**string{"given-name": &in.GivenName, "family-name": &in.FamilyName, "birthdate": &in.Birthdate,
		"nickname": &in.Nickname, "locale": &in.Locale}
	fs.Visit(func(f *flag.Flag) {
		if d, ok := dst[f.Name]; ok {
			*d = inputs[f.Name]
		}
	})
	return e.act(*cfgPath, func(svc *account.Service) error {
		a, err := findLogin(e.ctx, svc, *login)
		if err != nil {
			return err
		}
		if *org != "" {
			o, err := findOrg(e.ctx, svc, "org", *org)
			if err != nil {
				return err
			}
			if _, err := svc.Member(e.ctx, account.System(), o.ID, a.ID); err != nil {
				return fmt.Errorf("--login: %q is not a member of %s", *login, o.Alias)
			}
		}
		_, errs, err := svc.UpdateProfile(e.ctx, account.System(), a.ID, in)
		if err != nil {
			return err
		}
		for _, name := range []string{"given_name", "family_name", "birthdate", "nickname", "locale"} {
			if fe := errs[name]; fe != nil {
				return fmt.Errorf("--%s: %s", strings.ReplaceAll(name, "_", "-"), fe.English())
			}
		}
		fmt.Fprintln(e.stdout, a.ID)
		return nil
	})
}
