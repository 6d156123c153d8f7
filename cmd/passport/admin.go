package main

import (
	"context"
	"fmt"
	"strings"

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

// newAccount validates the fields of `user create` and builds the account, hashing the
// password. Nothing is written.
func newAccount(login, email, password, given, family string, p passport.Argon2Params) (*passport.Account, error) {
	if err := passport.ValidateLogin(login); err != nil {
		return nil, err
	}
	email, err := passport.NormalizeEmail(email)
	if err != nil {
		return nil, err
	}
	if err := passport.ValidateName("given_name", "Given name", given); err != nil {
		return nil, err
	}
	if err := passport.ValidateName("family_name", "Family name", family); err != nil {
		return nil, err
	}
	if err := passport.CheckPasswordPolicy(password, login); err != nil {
		return nil, err
	}
	hash, err := passport.HashPassword(context.Background(), password, p)
	if err != nil {
		return nil, err
	}
	return &passport.Account{Login: strings.TrimSpace(login), Email: email, GivenName: strings.TrimSpace(given),
		FamilyName: strings.TrimSpace(family), PasswordHash: hash, RegistrationMethod: passport.RegisteredAdmin}, nil
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
	return e.write(*cfgPath, func(cfg config.Config) (func(*postgres.DB) error, error) {
		a, err := newAccount(*login, *email, *password, *given, *family, argon2Params(cfg))
		return func(db *postgres.DB) error {
			if err := db.CreateAccount(e.ctx, a); err != nil {
				return err
			}
			fmt.Fprintln(e.stdout, a.ID)
			return nil
		}, err
	})
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
			"       [--post-logout-redirect-uri URI ...] [--public] [--name NAME] [--grant-type G ...] [--config FILE]")
	id := fs.String("id", "", "client ID (required)")
	secret := fs.String("secret", "", "client secret for a confidential client; generated and printed when omitted")
	public := fs.Bool("public", false, "public client (no secret; PKCE S256 required)")
	name := fs.String("name", "", "name shown to people on the consent page")
	mfa := fs.Bool("require-2fa", false, "people sign in to this client with two factors (they set one up if they have none)")
	var redirects, logouts, grants, scopes multi
	fs.Var(&redirects, "redirect-uri", "redirect URI, exact match (repeatable)")
	fs.Var(&logouts, "post-logout-redirect-uri", "post-logout redirect URI (repeatable)")
	fs.Var(&grants, "grant-type", "authorization_code, refresh_token or client_credentials (repeatable;\n"+
		"default authorization_code and refresh_token)")
	fs.Var(&scopes, "scope", "an extra scope the client may request, e.g. passport:account for a first-party\n"+
		"app that manages the person's own account through /api/v1/me (repeatable)")
	if err := parse(fs, args); err != nil {
		return err
	}
	return e.write(*cfgPath, func(config.Config) (func(*postgres.DB) error, error) {
		c, generated, err := newClient(*id, *secret, *name, *public, redirects, logouts, grants)
		if c != nil {
			c.Scopes, c.RequireMFA = scopes, *mfa
		}
		return func(db *postgres.DB) error {
			if err := db.CreateClient(e.ctx, c); err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "client_id: %s\n", c.ID)
			if generated != "" {
				fmt.Fprintf(e.stdout, "client_secret: %s\n(shown once: only its hash is stored)\n", generated)
			}
			return nil
		}, err
	})
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

// userError shows a domain error's message, naming the flag it is about.
func userError(err error) error {
	if err == nil {
		return nil
	}
	if e, ok := err.(*passport.Error); ok && e.Code != passport.EINTERNAL {
		if e.Field != "" {
			return fmt.Errorf("--%s: %s", strings.ReplaceAll(e.Field, "_", "-"), e.English())
		}
		return fmt.Errorf("%s", e.English())
	}
	return err
}

// Demo credentials for `make run`; printed on every start so a newcomer can sign in.
const (
	demoLogin        = "demo"
	demoPassword     = "passport-demo-42"
	demoClientID     = "demo-app"
	demoClientSecret = "demo-app-secret-change-me"
)

var demoRedirects = []string{"http://localhost:8081/callback", "https://oidcdebugger.com/debug"}

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
	if err := ensureDemo(e.ctx, db, argon2Params(cfg)); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, `
  Passport is starting at %[1]s

  Demo account:  login %[2]q, password %[3]q
  Demo client:   client_id %[4]q, client_secret %[5]q
                 redirect URIs %[6]s
  Try it:        %[1]s/authorize?client_id=%[4]s&response_type=code&scope=openid%%20profile%%20email&redirect_uri=%[7]s&state=demo
  Discovery:     %[1]s/.well-known/openid-configuration

`, cfg.Issuer, demoLogin, demoPassword, demoClientID, demoClientSecret, strings.Join(demoRedirects, ", "), demoRedirects[1])
	return nil
}

func ensureDemo(ctx context.Context, db *postgres.DB, p passport.Argon2Params) error {
	if _, err := db.AccountByLogin(ctx, demoLogin); passport.ErrorCode(err) == passport.ENOTFOUND {
		a, err := newAccount(demoLogin, "demo@example.com", demoPassword, "Demo", "Person", p)
		if err != nil {
			return err
		}
		// A person who signed up, as a newcomer trying Passport would be: nothing is locked
		// (an issued account's names and birth date are the organisation's).
		a.Nickname, a.RegistrationMethod = "demo", passport.RegisteredSelf
		if err := db.CreateAccount(ctx, a); err != nil && passport.ErrorCode(err) != passport.EINVALID {
			return err
		}
	} else if err != nil {
		return err
	}
	exists, err := db.ClientExists(ctx, demoClientID)
	if err != nil || exists {
		return err
	}
	c, _, err := newClient(demoClientID, demoClientSecret, "Demo application", false, demoRedirects,
		[]string{"http://localhost:8081/"}, nil)
	if err != nil {
		return err
	}
	if err := db.CreateClient(ctx, c); err != nil && passport.ErrorCode(err) != passport.EINVALID {
		return err
	}
	return nil
}
