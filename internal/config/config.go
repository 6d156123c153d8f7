// Package config loads Passport's configuration from a TOML file and PASSPORT_* environment
// variables, and validates it. It knows nothing of the rest of Passport.
package config

import (
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/mail"
	"net/url"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
	"github.com/nyaruka/phonenumbers"
)

// Config is the whole configuration. Every key is documented in config/passport.example.toml;
// each can be overridden by the environment variable PASSPORT_<SECTION>_<KEY> (upper case).
type Config struct {
	Issuer      string    `toml:"issuer"`
	Listen      string    `toml:"listen"`
	DatabaseURL string    `toml:"database_url"`
	SecretKey   string    `toml:"secret_key"`
	Database    Database  `toml:"database"`
	HTTP        HTTP      `toml:"http"`
	Log         Log       `toml:"log"`
	Session     Session   `toml:"session"`
	Tokens      Tokens    `toml:"tokens"`
	Password    Password  `toml:"password"`
	RateLimit   RateLimit `toml:"rate_limit"`
	Profile     Profile   `toml:"profile"`
	Messages    Messages  `toml:"messages"`
	Codes       Codes     `toml:"codes"`
	Account     Account   `toml:"account"`
	Signup      Signup    `toml:"signup"`
	Admin       Admin     `toml:"admin"`
	Events      Events    `toml:"events"`
	Issued      Issued    `toml:"issued"`
	Dev         Dev       `toml:"dev"`
}

// Signup sets self sign-up (SPEC §8): off by default.
type Signup struct {
	Enabled bool `toml:"enabled"`
	// PerIP is sign-up attempts per client address and rate window: forms that reach the
	// check of the login, and new codes.
	PerIP int `toml:"per_ip"`
	// PerEmail is sign-up codes sent to one email address per rate window.
	PerEmail int `toml:"per_email"`
}

// Admin sets how administrators work (SPEC §12).
type Admin struct {
	// RequireTwoFactor keeps the console and the admin API closed to an administrator whose
	// account has no second factor. On by default.
	RequireTwoFactor bool `toml:"require_two_factor"`
	// ReauthAfter is how old a sign-in may be for an administrator's changes; an older one
	// asks for the password (and code) again first.
	ReauthAfter Duration `toml:"reauth_after"`
}

// Issued sets accounts issued by organisations (SPEC §6).
type Issued struct {
	// PasswordLifetime is how long an issued (temporary) password works; the person replaces
	// it with their own at first sign-in, before then.
	PasswordLifetime Duration `toml:"password_lifetime"`
	// ImportMaxRows bounds one CSV import.
	ImportMaxRows int `toml:"import_max_rows"`
}

// Events sets the security-event log.
type Events struct {
	// Retention is how long security events are kept; older ones are deleted.
	Retention Duration `toml:"retention"`
}

// Account sets account life-cycle rules.
type Account struct {
	// DeletionGrace is how long a deleted account can be restored before it is purged.
	DeletionGrace Duration `toml:"deletion_grace"`
	// PurgeInterval is how often each replica looks for accounts to purge.
	PurgeInterval Duration `toml:"purge_interval"`
}

// Languages are the languages Passport ships its pages and message templates in: the tags
// of internal/i18n.Languages, repeated here because configuration imports nothing of ours
// (TestLanguagesAreTheCatalogues keeps the two lists the same).
var Languages = []string{"en", "ru", "et", "nl", "sv"}

// Messages chooses how email, SMS and calls go out, and tunes the queue.
type Messages struct {
	// Email is "dev" (the development sink) or "smtp"; SMS is "dev" or "http" (and calls go
	// through the same provider kind).
	Email         string   `toml:"email"`
	SMS           string   `toml:"sms"`
	TemplatesDir  string   `toml:"templates_dir"`
	DefaultLocale string   `toml:"default_locale"`
	Workers       int      `toml:"workers"`
	Lease         Duration `toml:"lease"`
	SMTP          SMTP     `toml:"smtp"`
	SMSHTTP       HTTPAPI  `toml:"sms_http"`
	CallHTTP      HTTPAPI  `toml:"call_http"`
}

// SMTP is the mail server.
type SMTP struct {
	Host     string   `toml:"host"`
	Port     int      `toml:"port"`
	TLS      string   `toml:"tls"`
	Username string   `toml:"username"`
	Password string   `toml:"password"`
	From     string   `toml:"from"`
	Timeout  Duration `toml:"timeout"`
}

// HTTPAPI is an SMS or call provider's HTTP request.
type HTTPAPI struct {
	URL         string            `toml:"url"`
	Method      string            `toml:"method"`
	ContentType string            `toml:"content_type"`
	Body        string            `toml:"body"`
	Headers     map[string]string `toml:"headers"`
	Timeout     Duration          `toml:"timeout"`
}

// Codes tunes one-time confirmation codes for email and phone changes.
type Codes struct {
	Lifetime    Duration `toml:"lifetime"`
	MaxAttempts int      `toml:"max_attempts"`
	ResendAfter Duration `toml:"resend_after"`
	MaxSends    int      `toml:"max_sends"`
	// PhoneRegion is the earlier name of profile.phone_default_region, still read.
	PhoneRegion string `toml:"phone_region"`
}

// Profile sets the personal cabinet's rules.
type Profile struct {
	RequiredFields []string `toml:"required_fields"`
	PhotoMaxBytes  int      `toml:"photo_max_bytes"`
	PhotoMaxSide   int      `toml:"photo_max_side"`
	PolicyFile     string   `toml:"policy_file"`
	// PhoneDefaultRegion is the country (ISO 3166, like RU) whose national number forms
	// people may type, as in 8 916 123-45-67; empty: the page's language decides (ru: RU,
	// et: EE, nl: NL, sv: SE), and on an English page a number needs its country code.
	PhoneDefaultRegion string `toml:"phone_default_region"`
	// DefaultPublicity, Locked and Policy are tables, set in the file only.
	DefaultPublicity map[string]string   `toml:"default_publicity"`
	Locked           map[string][]string `toml:"locked"`
	// Policy says, per registration method and field, who may edit it: "editable" (the
	// person), "admin" (only an administrator: locked for the person) or "required" (the
	// person, who must fill it in). A field it does not name follows Locked (admin) and
	// RequiredFields (required), else it is editable.
	Policy map[string]map[string]string `toml:"policy"`
}

// Database tunes the connection pool.
type Database struct {
	MaxConns int `toml:"max_conns"`
}

// HTTP tunes the listener.
type HTTP struct {
	TrustedProxies    []string `toml:"trusted_proxies"`
	ReadHeaderTimeout Duration `toml:"read_header_timeout"`
	ShutdownTimeout   Duration `toml:"shutdown_timeout"`
}

// Log chooses the log level and format.
type Log struct {
	Level  string `toml:"level"`
	Format string `toml:"format"`
}

// Session sets how long a browser stays signed in.
type Session struct {
	Lifetime Duration `toml:"lifetime"`
}

// Tokens sets the lifetimes of protocol artefacts.
type Tokens struct {
	AuthRequestLifetime  Duration `toml:"auth_request_lifetime"`
	CodeLifetime         Duration `toml:"code_lifetime"`
	AccessTokenLifetime  Duration `toml:"access_token_lifetime"`
	IDTokenLifetime      Duration `toml:"id_token_lifetime"`
	RefreshTokenLifetime Duration `toml:"refresh_token_lifetime"`
}

// Password sets the argon2id cost.
type Password struct {
	Argon2MemoryKiB   int `toml:"argon2_memory_kib"`
	Argon2Iterations  int `toml:"argon2_iterations"`
	Argon2Parallelism int `toml:"argon2_parallelism"`
}

// RateLimit bounds sign-in attempts.
type RateLimit struct {
	Window Duration `toml:"window"`
	// SigninPerAccount is failed sign-ins per login from browsers that never signed in to
	// it, and, separately, per browser that did (its device cookie).
	SigninPerAccount int `toml:"signin_per_account"`
	// SigninPerIP is failed sign-ins per client address; successful ones do not count.
	SigninPerIP int `toml:"signin_per_ip"`
	// SigninAttemptsPerIP is every sign-in attempt per client address, successful or not: a
	// much higher ceiling (an office behind one address), never below SigninPerIP.
	SigninAttemptsPerIP int `toml:"signin_attempts_per_ip"`
}

// Dev holds settings for development only.
type Dev struct {
	// PprofListen, when set (e.g. 127.0.0.1:6060), serves net/http/pprof there, apart from
	// the public listener. Off by default.
	PprofListen string `toml:"pprof_listen"`
	// AssetsDir, when set, serves templates and static files from this folder (the
	// repository root), re-reading them on every request.
	AssetsDir string `toml:"assets_dir"`
	// MessagesPage serves /dev/messages, where anyone who reaches the server reads what the
	// development sink "sent", one-time codes included. Off by default.
	MessagesPage bool `toml:"messages_page"`
	// AllowDevSinkWithHTTPS lets a server with an https issuer start although email or SMS
	// goes to the development sink (a staging server nobody real uses).
	AllowDevSinkWithHTTPS bool `toml:"allow_dev_sink_with_https"`
}

// Duration is a time.Duration written as "15m", "1h30m".
type Duration struct{ time.Duration }

// UnmarshalText parses a Go duration string.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("invalid duration %q (use e.g. 90s, 15m, 12h)", string(b))
	}
	d.Duration = v
	return nil
}

// MarshalText writes the duration back as a string.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// Default returns the configuration used for every key the file and environment leave out.
func Default() Config {
	return Config{
		Issuer:      "http://localhost:8080",
		Listen:      ":8080",
		DatabaseURL: "postgres://passport:passport@127.0.0.1:5432/passport?sslmode=disable",
		Database:    Database{MaxConns: 20},
		HTTP: HTTP{
			ReadHeaderTimeout: Duration{10 * time.Second},
			ShutdownTimeout:   Duration{15 * time.Second},
		},
		Log:     Log{Level: "info", Format: "json"},
		Session: Session{Lifetime: Duration{14 * 24 * time.Hour}},
		Tokens: Tokens{
			AuthRequestLifetime:  Duration{15 * time.Minute},
			CodeLifetime:         Duration{time.Minute},
			AccessTokenLifetime:  Duration{15 * time.Minute},
			IDTokenLifetime:      Duration{time.Hour},
			RefreshTokenLifetime: Duration{30 * 24 * time.Hour},
		},
		Password:  Password{Argon2MemoryKiB: 19456, Argon2Iterations: 2, Argon2Parallelism: 1},
		RateLimit: RateLimit{Window: Duration{15 * time.Minute}, SigninPerAccount: 10, SigninPerIP: 100, SigninAttemptsPerIP: 2000},
		Messages: Messages{Email: "dev", SMS: "dev", DefaultLocale: "en", Workers: 4, Lease: Duration{2 * time.Minute},
			SMTP:     SMTP{Port: 587, TLS: "starttls", Timeout: Duration{30 * time.Second}},
			SMSHTTP:  HTTPAPI{Method: "POST", ContentType: "application/json", Timeout: Duration{15 * time.Second}},
			CallHTTP: HTTPAPI{Method: "POST", ContentType: "application/json", Timeout: Duration{15 * time.Second}}},
		Account: Account{DeletionGrace: Duration{30 * 24 * time.Hour}, PurgeInterval: Duration{5 * time.Minute}},
		Codes:   Codes{Lifetime: Duration{10 * time.Minute}, MaxAttempts: 5, ResendAfter: Duration{time.Minute}, MaxSends: 5},
		Signup:  Signup{PerIP: 20, PerEmail: 5},
		Admin:   Admin{RequireTwoFactor: true, ReauthAfter: Duration{15 * time.Minute}},
		Events:  Events{Retention: Duration{365 * 24 * time.Hour}},
		Issued:  Issued{PasswordLifetime: Duration{7 * 24 * time.Hour}, ImportMaxRows: 50000},
		Profile: Profile{
			RequiredFields: []string{"given_name", "family_name", "email"},
			PhotoMaxBytes:  5 << 20,
			PhotoMaxSide:   512,
			Locked: map[string][]string{
				"admin":       {"given_name", "family_name", "birthdate"},
				"certificate": {"given_name", "family_name", "birthdate"},
			},
		},
	}
}

// Load reads the TOML file (none when path is ""), then applies PASSPORT_* variables from
// getenv, then validates. Errors name the offending key.
func Load(path string, getenv func(string) string) (Config, error) {
	c := Default()
	if path != "" {
		data, err := os.ReadFile(path)
		if err != nil {
			return c, fmt.Errorf("config: %w", err)
		}
		md, err := toml.Decode(string(data), &c)
		if err != nil {
			var perr toml.ParseError
			if errors.As(err, &perr) {
				return c, fmt.Errorf("config: %s: %s", path, perr.ErrorWithPosition())
			}
			return c, fmt.Errorf("config: %s: %w", path, err)
		}
		if und := md.Undecoded(); len(und) > 0 {
			return c, fmt.Errorf("config: %s: unknown key %q", path, und[0].String())
		}
	}
	if err := applyEnv(&c, getenv); err != nil {
		return c, err
	}
	return c, c.Validate()
}

// EnvName returns the environment variable that overrides a dotted key.
func EnvName(key string) string {
	return "PASSPORT_" + strings.ToUpper(strings.ReplaceAll(key, ".", "_"))
}

// applyEnv walks the struct and sets every field whose PASSPORT_* variable is non-empty.
func applyEnv(c *Config, getenv func(string) string) error {
	var walk func(v reflect.Value, prefix string) error
	walk = func(v reflect.Value, prefix string) error {
		t := v.Type()
		for i := 0; i < t.NumField(); i++ {
			f, fv := t.Field(i), v.Field(i)
			key := prefix + f.Tag.Get("toml")
			if f.Type.Kind() == reflect.Map {
				continue // tables are set in the file
			}
			if f.Type.Kind() == reflect.Struct && f.Type != reflect.TypeOf(Duration{}) {
				if err := walk(fv, key+"."); err != nil {
					return err
				}
				continue
			}
			name := EnvName(key)
			raw := getenv(name)
			if raw == "" {
				continue
			}
			if err := setField(fv, raw); err != nil {
				return fmt.Errorf("config: %s (%s): %v", name, key, err)
			}
		}
		return nil
	}
	return walk(reflect.ValueOf(c).Elem(), "")
}

func setField(fv reflect.Value, raw string) error {
	switch p := fv.Addr().Interface().(type) {
	case *Duration:
		return p.UnmarshalText([]byte(raw))
	case *string:
		*p = raw
	case *int:
		n, err := strconv.Atoi(raw)
		if err != nil {
			return fmt.Errorf("invalid integer %q", raw)
		}
		*p = n
	case *bool:
		b, err := strconv.ParseBool(raw)
		if err != nil {
			return fmt.Errorf("invalid boolean %q", raw)
		}
		*p = b
	case *[]string:
		*p = nil
		for _, s := range strings.Split(raw, ",") {
			if s = strings.TrimSpace(s); s != "" {
				*p = append(*p, s)
			}
		}
	default:
		return fmt.Errorf("unsupported type %s", fv.Type())
	}
	return nil
}

// Validate checks every key and returns an error naming the first bad one.
func (c *Config) Validate() error {
	bad := func(key, format string, args ...any) error {
		return fmt.Errorf("config: %s: %s", key, fmt.Sprintf(format, args...))
	}
	u, err := url.Parse(c.Issuer)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return bad("issuer", "must be an absolute http(s) URL without query or fragment (got %q)", c.Issuer)
	}
	if strings.HasSuffix(c.Issuer, "/") {
		return bad("issuer", "must not end with a slash (got %q)", c.Issuer)
	}
	if u.Path != "" {
		return bad("issuer", "a path in the issuer is not supported yet (got %q)", c.Issuer)
	}
	if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		return bad("listen", "must be host:port or :port (got %q)", c.Listen)
	}
	if d, err := url.Parse(c.DatabaseURL); err != nil || (d.Scheme != "postgres" && d.Scheme != "postgresql") {
		return bad("database_url", "must be a postgres:// URL")
	}
	if _, err := c.Secret(); err != nil {
		return bad("secret_key", "%v", err)
	}
	if c.Database.MaxConns < 2 || c.Database.MaxConns > 1000 {
		return bad("database.max_conns", "must be between 2 and 1000 (got %d)", c.Database.MaxConns)
	}
	for _, cidr := range c.HTTP.TrustedProxies {
		if _, _, err := net.ParseCIDR(cidr); err != nil {
			return bad("http.trusted_proxies", "%q is not a CIDR like 10.0.0.0/8", cidr)
		}
	}
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		return bad("log.level", "must be debug, info, warn or error (got %q)", c.Log.Level)
	}
	if c.Log.Format != "json" && c.Log.Format != "text" {
		return bad("log.format", "must be json or text (got %q)", c.Log.Format)
	}
	positive := []struct {
		key string
		d   Duration
		min time.Duration
	}{
		{"http.read_header_timeout", c.HTTP.ReadHeaderTimeout, time.Second},
		{"http.shutdown_timeout", c.HTTP.ShutdownTimeout, 0},
		{"session.lifetime", c.Session.Lifetime, time.Minute},
		{"tokens.auth_request_lifetime", c.Tokens.AuthRequestLifetime, time.Minute},
		{"tokens.code_lifetime", c.Tokens.CodeLifetime, 5 * time.Second},
		{"tokens.access_token_lifetime", c.Tokens.AccessTokenLifetime, 30 * time.Second},
		{"tokens.id_token_lifetime", c.Tokens.IDTokenLifetime, 30 * time.Second},
		{"tokens.refresh_token_lifetime", c.Tokens.RefreshTokenLifetime, time.Minute},
		{"rate_limit.window", c.RateLimit.Window, time.Second},
	}
	for _, p := range positive {
		if p.d.Duration < p.min || p.d.Duration <= 0 {
			return bad(p.key, "must be at least %s (got %s)", max(p.min, time.Second), p.d.Duration)
		}
	}
	if c.Tokens.CodeLifetime.Duration > 10*time.Minute {
		return bad("tokens.code_lifetime", "must be at most 10m (RFC 6749 §4.1.2)")
	}
	if c.Password.Argon2MemoryKiB < 1024 || c.Password.Argon2MemoryKiB > 4*1024*1024 {
		return bad("password.argon2_memory_kib", "must be between 1024 and 4194304 (got %d)", c.Password.Argon2MemoryKiB)
	}
	if c.Password.Argon2Iterations < 1 || c.Password.Argon2Iterations > 100 {
		return bad("password.argon2_iterations", "must be between 1 and 100 (got %d)", c.Password.Argon2Iterations)
	}
	if c.Password.Argon2Parallelism < 1 || c.Password.Argon2Parallelism > 64 {
		return bad("password.argon2_parallelism", "must be between 1 and 64 (got %d)", c.Password.Argon2Parallelism)
	}
	if c.RateLimit.SigninPerAccount < 1 {
		return bad("rate_limit.signin_per_account", "must be at least 1 (got %d)", c.RateLimit.SigninPerAccount)
	}
	if c.RateLimit.SigninPerIP < 1 {
		return bad("rate_limit.signin_per_ip", "must be at least 1 (got %d)", c.RateLimit.SigninPerIP)
	}
	if c.RateLimit.SigninAttemptsPerIP < 1 {
		return bad("rate_limit.signin_attempts_per_ip", "must be at least 1 (got %d)", c.RateLimit.SigninAttemptsPerIP)
	}
	// The ceiling on every attempt is never below the one on failures.
	c.RateLimit.SigninAttemptsPerIP = max(c.RateLimit.SigninAttemptsPerIP, c.RateLimit.SigninPerIP)
	if err := c.Profile.validate(); err != nil {
		return err
	}
	if err := c.Messages.validate(); err != nil {
		return err
	}
	if c.Secure() && c.Messages.DevSinks() && !c.Dev.AllowDevSinkWithHTTPS {
		return bad("messages", "email = %q and sms = %q: the development sink keeps one-time codes where this server can "+
			"show them, and delivers nothing. With an https issuer configure real senders (email = \"smtp\", sms = \"http\"), "+
			"or set dev.allow_dev_sink_with_https = true for a test server nobody real uses", c.Messages.Email, c.Messages.SMS)
	}
	if c.Account.DeletionGrace.Duration < time.Minute {
		return bad("account.deletion_grace", "must be at least 1m (got %s)", c.Account.DeletionGrace.Duration)
	}
	if c.Account.PurgeInterval.Duration < time.Second {
		return bad("account.purge_interval", "must be at least 1s (got %s)", c.Account.PurgeInterval.Duration)
	}
	if c.Codes.Lifetime.Duration < time.Minute || c.Codes.Lifetime.Duration > 24*time.Hour {
		return bad("codes.lifetime", "must be between 1m and 24h (got %s)", c.Codes.Lifetime.Duration)
	}
	if c.Codes.MaxAttempts < 1 || c.Codes.MaxAttempts > 20 {
		return bad("codes.max_attempts", "must be between 1 and 20 (got %d)", c.Codes.MaxAttempts)
	}
	if c.Codes.ResendAfter.Duration < 0 || c.Codes.ResendAfter.Duration > time.Hour {
		return bad("codes.resend_after", "must be between 0s and 1h (got %s)", c.Codes.ResendAfter.Duration)
	}
	if c.Codes.MaxSends < 1 || c.Codes.MaxSends > 50 {
		return bad("codes.max_sends", "must be between 1 and 50 (got %d)", c.Codes.MaxSends)
	}
	if r := c.Codes.PhoneRegion; r != "" { // the earlier name of profile.phone_default_region
		if c.Profile.PhoneDefaultRegion != "" && c.Profile.PhoneDefaultRegion != r {
			return bad("codes.phone_region", "is the earlier name of profile.phone_default_region: set only that one")
		}
		c.Profile.PhoneDefaultRegion, c.Codes.PhoneRegion = r, ""
	}
	if r := c.Profile.PhoneDefaultRegion; r != "" && (len(r) != 2 || strings.ToUpper(r) != r || !phoneRegion(r)) {
		return bad("profile.phone_default_region", "must be a two-letter country code like GB (got %q)", r)
	}
	if c.Signup.PerIP < 1 {
		return bad("signup.per_ip", "must be at least 1 (got %d)", c.Signup.PerIP)
	}
	if c.Signup.PerEmail < 1 {
		return bad("signup.per_email", "must be at least 1 (got %d)", c.Signup.PerEmail)
	}
	if d := c.Admin.ReauthAfter.Duration; d < time.Minute || d > 24*time.Hour {
		return bad("admin.reauth_after", "must be between 1m and 24h (got %s)", d)
	}
	if d := c.Issued.PasswordLifetime.Duration; d < time.Hour || d > 90*24*time.Hour {
		return bad("issued.password_lifetime", "must be between 1h and 2160h (got %s)", d)
	}
	if n := c.Issued.ImportMaxRows; n < 1 || n > 1000000 {
		return bad("issued.import_max_rows", "must be between 1 and 1000000 (got %d)", n)
	}
	if d := c.Events.Retention.Duration; d < 24*time.Hour {
		return bad("events.retention", "must be at least 24h (got %s)", d)
	}
	if c.Dev.PprofListen != "" {
		if _, _, err := net.SplitHostPort(c.Dev.PprofListen); err != nil {
			return bad("dev.pprof_listen", "must be host:port (got %q)", c.Dev.PprofListen)
		}
	}
	if c.Dev.AssetsDir != "" {
		if st, err := os.Stat(c.Dev.AssetsDir); err != nil || !st.IsDir() {
			return bad("dev.assets_dir", "%q is not a folder", c.Dev.AssetsDir)
		}
	}
	return nil
}

// Secure reports whether the issuer is https, so cookies must be Secure.
func (c *Config) Secure() bool { return strings.HasPrefix(c.Issuer, "https://") }

// Secret decodes secret_key: 32 or more random bytes, base64 (standard or URL alphabet).
func (c *Config) Secret() ([]byte, error) {
	if c.SecretKey == "" {
		return nil, errors.New("is required: generate one with `head -c 32 /dev/urandom | base64`")
	}
	s := strings.TrimRight(strings.TrimSpace(c.SecretKey), "=")
	for _, enc := range []*base64.Encoding{base64.RawStdEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			if len(b) < 32 {
				return nil, fmt.Errorf("must decode to at least 32 bytes (got %d)", len(b))
			}
			return b, nil
		}
	}
	return nil, errors.New("must be base64")
}

// Key derives an independent 32-byte key for one purpose from secret_key (HKDF-SHA256), so
// the signing-key encryption, token encryption and CSRF keys never share material.
func (c *Config) Key(purpose string) [32]byte {
	secret, err := c.Secret()
	if err != nil {
		panic("config: Key called on an unvalidated config")
	}
	b, err := hkdf.Key(sha256.New, secret, nil, "passport:"+purpose, 32)
	if err != nil {
		panic(err)
	}
	return [32]byte(b)
}

// Fields that carry a publicity level, and the registration methods that may lock them;
// kept here as strings so this package imports nothing of ours.
var (
	profileFields = []string{"login", "nickname", "picture", "given_name", "family_name", "birthdate",
		"locale", "email", "phone", "organization", "identifiers"}
	editableFields = []string{"nickname", "picture", "given_name", "family_name", "birthdate", "locale", "email", "phone"}
	methods        = []string{"self", "admin", "invite", "external", "certificate"}
)

// phoneRegion reports whether libphonenumber knows the numbers of region.
func phoneRegion(region string) bool {
	_, ok := phonenumbers.GetSupportedRegions()[region]
	return ok
}

func (p *Profile) validate() error {
	askable := []string{"nickname", "given_name", "family_name", "birthdate", "email"}
	for _, f := range p.RequiredFields {
		if !slices.Contains(askable, f) {
			return fmt.Errorf("config: profile.required_fields: %q cannot be asked for at sign-in (one of %s)", f, strings.Join(askable, ", "))
		}
	}
	for f, level := range p.DefaultPublicity {
		if !slices.Contains(profileFields, f) {
			return fmt.Errorf("config: profile.default_publicity: unknown field %q (one of %s)", f, strings.Join(profileFields, ", "))
		}
		if level != "private" && level != "on_request" && level != "public" {
			return fmt.Errorf("config: profile.default_publicity.%s: must be private, on_request or public (got %q)", f, level)
		}
	}
	for m, fields := range p.Locked {
		if !slices.Contains(methods, m) {
			return fmt.Errorf("config: profile.locked: unknown registration method %q (one of %s)", m, strings.Join(methods, ", "))
		}
		for _, f := range fields {
			if !slices.Contains(editableFields, f) {
				return fmt.Errorf("config: profile.locked.%s: %q is not an editable field (one of %s)", m, f, strings.Join(editableFields, ", "))
			}
		}
	}
	for m, fields := range p.Policy {
		if !slices.Contains(methods, m) {
			return fmt.Errorf("config: profile.policy: unknown registration method %q (one of %s)", m, strings.Join(methods, ", "))
		}
		for f, access := range fields {
			key := "profile.policy." + m + "." + f
			switch {
			case !slices.Contains(profileFields, f):
				return fmt.Errorf("config: %s: unknown field %q (one of %s)", key, f, strings.Join(editableFields, ", "))
			case !slices.Contains(editableFields, f):
				return fmt.Errorf("config: %s: %q is never editable through the profile (one of %s)", key, f, strings.Join(editableFields, ", "))
			case access == "required" && !slices.Contains(askable, f):
				return fmt.Errorf("config: %s: %q cannot be required, since it cannot be asked for at sign-in (one of %s)", key, f, strings.Join(askable, ", "))
			case access != "editable" && access != "admin" && access != "required":
				return fmt.Errorf("config: %s: must be editable, admin or required (got %q)", key, access)
			}
		}
	}
	if p.PhotoMaxBytes < 10<<10 || p.PhotoMaxBytes > 50<<20 {
		return fmt.Errorf("config: profile.photo_max_bytes: must be between 10240 and 52428800 (got %d)", p.PhotoMaxBytes)
	}
	if p.PhotoMaxSide < 32 || p.PhotoMaxSide > 4096 {
		return fmt.Errorf("config: profile.photo_max_side: must be between 32 and 4096 (got %d)", p.PhotoMaxSide)
	}
	if p.PolicyFile != "" {
		if st, err := os.Stat(p.PolicyFile); err != nil || st.IsDir() {
			return fmt.Errorf("config: profile.policy_file: %q is not a readable file", p.PolicyFile)
		}
	}
	return nil
}

func (m *Messages) validate() error {
	bad := func(key, format string, args ...any) error {
		return fmt.Errorf("config: messages.%s: %s", key, fmt.Sprintf(format, args...))
	}
	switch m.Email {
	case "dev":
	case "smtp":
		if m.SMTP.Host == "" {
			return bad("smtp.host", "is required when messages.email is smtp")
		}
		if m.SMTP.Port < 1 || m.SMTP.Port > 65535 {
			return bad("smtp.port", "must be a port number (got %d)", m.SMTP.Port)
		}
		if m.SMTP.TLS != "starttls" && m.SMTP.TLS != "tls" && m.SMTP.TLS != "none" {
			return bad("smtp.tls", "must be starttls, tls or none (got %q)", m.SMTP.TLS)
		}
		if _, err := mail.ParseAddress(m.SMTP.From); err != nil {
			return bad("smtp.from", "must be an address like Passport <no-reply@example.org> (got %q)", m.SMTP.From)
		}
		if m.SMTP.Timeout.Duration < time.Second {
			return bad("smtp.timeout", "must be at least 1s")
		}
	default:
		return bad("email", "must be dev or smtp (got %q)", m.Email)
	}
	switch m.SMS {
	case "dev":
	case "http":
		for name, api := range map[string]HTTPAPI{"sms_http": m.SMSHTTP, "call_http": m.CallHTTP} {
			if u, err := url.Parse(api.URL); err != nil || (u.Scheme != "https" && u.Scheme != "http") {
				return bad(name+".url", "must be an http(s) URL when messages.sms is http (got %q)", api.URL)
			}
			if api.Body == "" {
				return bad(name+".body", "is required when messages.sms is http")
			}
			if api.Timeout.Duration < time.Second {
				return bad(name+".timeout", "must be at least 1s")
			}
		}
	default:
		return bad("sms", "must be dev or http (got %q)", m.SMS)
	}
	if m.TemplatesDir != "" {
		if st, err := os.Stat(m.TemplatesDir); err != nil || !st.IsDir() {
			return bad("templates_dir", "%q is not a folder", m.TemplatesDir)
		}
	}
	if !slices.Contains(Languages, m.DefaultLocale) {
		return bad("default_locale", "must be one of the languages with shipped templates: %s (got %q)",
			strings.Join(Languages, ", "), m.DefaultLocale)
	}
	if m.Workers < 1 || m.Workers > 256 {
		return bad("workers", "must be between 1 and 256 (got %d)", m.Workers)
	}
	if m.Lease.Duration < 10*time.Second {
		return bad("lease", "must be at least 10s (got %s)", m.Lease.Duration)
	}
	return nil
}

// DevSinks reports whether any channel goes to the development sink.
func (m *Messages) DevSinks() bool { return m.Email == "dev" || m.SMS == "dev" }
