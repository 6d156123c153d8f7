package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"time"

	"github.com/passport-idp/passport/internal/config"
	"github.com/passport-idp/passport/internal/i18n"
	"github.com/passport-idp/passport/internal/jobs"
	"github.com/passport-idp/passport/internal/mail"
	"github.com/passport-idp/passport/internal/oidc"
	"github.com/passport-idp/passport/internal/passport"
	"github.com/passport-idp/passport/internal/postgres"
	"github.com/passport-idp/passport/internal/sms"
	"github.com/passport-idp/passport/internal/web"
	"github.com/passport-idp/passport/templates"
)

func (e cliEnv) serve(args []string) error {
	fs, cfgPath := e.flags("serve", "serve [--config FILE]")
	if err := parse(fs, args); err != nil {
		return err
	}
	cfg, err := e.config(*cfgPath)
	if err != nil {
		return err
	}
	log := newLogger(e.stderr, cfg.Log)
	slog.SetDefault(log) // zitadel/oidc logs through the default logger
	return serve(e.ctx, cfg, log, nil)
}

// serve runs Passport until ctx ends, then shuts down gracefully. When ready is not nil it
// receives the listening address once requests are accepted.
func serve(ctx context.Context, cfg config.Config, log *slog.Logger, ready chan<- string) error {
	start := time.Now()
	if ran, err := postgres.Migrate(ctx, cfg.DatabaseURL); err != nil {
		return err
	} else if len(ran) > 0 {
		log.Info("applied migrations", slog.Any("names", ran))
	}
	db, err := postgres.Open(ctx, cfg.DatabaseURL, cfg.Database.MaxConns)
	if err != nil {
		return err
	}
	defer db.Close()

	handler, err := newHandler(ctx, cfg, db, log)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: cfg.HTTP.ReadHeaderTimeout.Duration,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	go cleanupLoop(ctx, db, log)
	if cfg.Dev.PprofListen != "" {
		go servePprof(ctx, cfg.Dev.PprofListen, log)
	}
	go jobs.PurgeLoop(ctx, db, log, cfg.Account.PurgeInterval.Duration, cfg.Events.Retention.Duration)
	// CSV imports of members, run on every replica (each import claimed by one).
	importer := &jobs.Importer{DB: db, Run: handler.RunImport, Log: log}
	importsDone := make(chan struct{})
	ictx, stopImports := context.WithCancel(ctx)
	go func() { importer.Loop(ictx); close(importsDone) }()
	defer func() { stopImports(); <-importsDone }()
	worker, err := newWorker(cfg, db, log)
	if err != nil {
		return err
	}
	workerDone := make(chan struct{})
	wctx, stopWorker := context.WithCancel(context.WithoutCancel(ctx))
	go func() { worker.Run(wctx); close(workerDone) }()
	defer func() { stopWorker(); <-workerDone }()
	if cfg.Messages.DevSinks() {
		log.Warn("messages go to the development sink, which delivers nothing: configure [messages] for production",
			slog.String("email", cfg.Messages.Email), slog.String("sms", cfg.Messages.SMS),
			slog.Bool("readable_at_dev_messages", cfg.Dev.MessagesPage))
	}

	// Start-up (parsing the pages, the catalogue, migrations) leaves garbage behind: hand it
	// back to the system now rather than over the next minutes (docs/performance.md).
	debug.FreeOSMemory()
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	log.Info("listening", slog.String("addr", ln.Addr().String()), slog.String("issuer", cfg.Issuer),
		slog.Duration("startup", time.Since(start)))
	if ready != nil {
		ready <- ln.Addr().String()
	}
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), cfg.HTTP.ShutdownTimeout.Duration)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// newHandler wires the OpenID Provider and the web layer over one database.
func newHandler(ctx context.Context, cfg config.Config, db *postgres.DB, log *slog.Logger) (*web.Server, error) {
	webKey := cfg.Key("web")
	rules := profileRules(cfg)
	policy, err := policyDocuments(cfg)
	if err != nil {
		return nil, err
	}
	provider, err := oidc.New(ctx, db, oidc.Settings{
		Issuer:               cfg.Issuer,
		CryptoKey:            cfg.Key("tokens"),
		SigningKeyKey:        cfg.Key("signing-keys"),
		AuthRequestLifetime:  cfg.Tokens.AuthRequestLifetime.Duration,
		CodeLifetime:         cfg.Tokens.CodeLifetime.Duration,
		AccessTokenLifetime:  cfg.Tokens.AccessTokenLifetime.Duration,
		IDTokenLifetime:      cfg.Tokens.IDTokenLifetime.Duration,
		RefreshTokenLifetime: cfg.Tokens.RefreshTokenLifetime.Duration,
		LoginURL:             func(id string) string { return "/signin?authRequestID=" + id },
		ConfirmLogoutURL:     web.ConfirmLogoutURL(webKey),
		LoggedOutURL:         "/signed-out",
		PromptCreate:         cfg.Signup.Enabled,
		Rules:                rules,
	})
	if err != nil {
		return nil, err
	}
	return web.New(web.Config{
		Issuer:          cfg.Issuer,
		Secure:          cfg.Secure(),
		Key:             webKey,
		SessionLifetime: cfg.Session.Lifetime.Duration,
		Argon2:          argon2Params(cfg),
		RateWindow:      cfg.RateLimit.Window.Duration,
		RatePerAccount:  cfg.RateLimit.SigninPerAccount,
		RatePerIP:       cfg.RateLimit.SigninPerIP,
		RateIPAttempts:  cfg.RateLimit.SigninAttemptsPerIP,
		TrustedProxies:  cfg.HTTP.TrustedProxies,
		AssetsDir:       cfg.Dev.AssetsDir,
		Rules:           rules,
		Photo:           passport.PhotoLimits{MaxBytes: cfg.Profile.PhotoMaxBytes, MaxSide: cfg.Profile.PhotoMaxSide},
		Policies:        policy,
		Sealer:          passport.NewSealer(cfg.Key("messages")),
		TOTPSealer:      passport.NewSealer(cfg.Key("totp")),
		DeletionGrace:   cfg.Account.DeletionGrace.Duration,
		MessagesDir:     cfg.Messages.TemplatesDir,
		DefaultLocale:   cfg.Messages.DefaultLocale,
		DevMessagesPage: cfg.Dev.MessagesPage,
		Admin:           web.AdminSettings{RequireTwoFactor: cfg.Admin.RequireTwoFactor, ReauthAfter: cfg.Admin.ReauthAfter.Duration},
		Issued:          web.IssuedSettings{PasswordLifetime: cfg.Issued.PasswordLifetime.Duration, ImportMaxRows: cfg.Issued.ImportMaxRows},
		Signup:          web.SignupSettings{Enabled: cfg.Signup.Enabled, PerIP: cfg.Signup.PerIP, PerEmail: cfg.Signup.PerEmail},
		Codes: web.CodeSettings{Key: cfg.Key("codes"), Lifetime: cfg.Codes.Lifetime.Duration, MaxAttempts: cfg.Codes.MaxAttempts,
			ResendAfter: cfg.Codes.ResendAfter.Duration, MaxSends: cfg.Codes.MaxSends, PhoneRegion: cfg.Profile.PhoneDefaultRegion},
	}, db, provider, log)
}

// newWorker builds the message worker with the configured senders.
func newWorker(cfg config.Config, db *postgres.DB, log *slog.Logger) (*jobs.Worker, error) {
	m := cfg.Messages
	senders := map[string]passport.Sender{}
	sink := &jobs.DevSink{DB: db, Log: log}
	if m.Email == "smtp" {
		senders[passport.ChannelEmail] = mail.New(mail.Config{Host: m.SMTP.Host, Port: m.SMTP.Port, TLS: m.SMTP.TLS,
			Username: m.SMTP.Username, Password: m.SMTP.Password, From: m.SMTP.From, Timeout: m.SMTP.Timeout.Duration})
	} else {
		senders[passport.ChannelEmail] = sink
	}
	if m.SMS == "http" {
		for channel, api := range map[string]config.HTTPAPI{passport.ChannelSMS: m.SMSHTTP, passport.ChannelCall: m.CallHTTP} {
			s, err := sms.New(sms.Endpoint{URL: api.URL, Method: api.Method, ContentType: api.ContentType, Headers: api.Headers,
				Body: api.Body}, api.Timeout.Duration)
			if err != nil {
				return nil, fmt.Errorf("config: messages.%s_http: %w", channel, err)
			}
			senders[channel] = s
		}
	} else {
		senders[passport.ChannelSMS], senders[passport.ChannelCall] = sink, sink
	}
	return &jobs.Worker{DB: db, Senders: senders, Sealer: passport.NewSealer(cfg.Key("messages")), Log: log,
		Concurrency: m.Workers, Lease: m.Lease.Duration, Poll: 2 * time.Second}, nil
}

// profileRules turns the [profile] configuration into the domain's rules. Config has
// validated every name already.
func profileRules(cfg config.Config) passport.Rules {
	r := passport.Rules{Defaults: map[passport.Field]passport.Publicity{}, Locked: map[string][]passport.Field{},
		PhotoURL: func(id string) string { return cfg.Issuer + "/photos/" + id }}
	for f, level := range cfg.Profile.DefaultPublicity {
		r.Defaults[passport.Field(f)] = passport.Publicity(level)
	}
	for _, f := range cfg.Profile.RequiredFields {
		r.Required = append(r.Required, passport.Field(f))
	}
	for method, fields := range cfg.Profile.Locked {
		for _, f := range fields {
			r.Locked[method] = append(r.Locked[method], passport.Field(f))
		}
	}
	r.Policy = map[string]map[passport.Field]passport.Access{}
	for method, fields := range cfg.Profile.Policy {
		r.Policy[method] = map[passport.Field]passport.Access{}
		for f, access := range fields {
			r.Policy[method][passport.Field(f)] = passport.Access(access)
		}
	}
	return passport.NewRules(r)
}

// policyDocuments are the personal-data policy by language ("" for the one that serves
// the languages without their own): the configured file and its translations beside it
// (policy.md, policy.ru.md, …), or the sample shipped in templates.
func policyDocuments(cfg config.Config) (map[string][]byte, error) {
	read := func(name string) ([]byte, error) { return fs.ReadFile(templates.FS, name) }
	name := "policy.md"
	if cfg.Profile.PolicyFile != "" {
		read, name = os.ReadFile, cfg.Profile.PolicyFile
	}
	main, err := read(name)
	if err != nil {
		return nil, err
	}
	docs := map[string][]byte{"": main}
	ext := filepath.Ext(name)
	for _, l := range i18n.Languages {
		if b, err := read(strings.TrimSuffix(name, ext) + "." + l.Tag + ext); err == nil {
			docs[l.Tag] = b
		}
	}
	return docs, nil
}

// cleanupLoop deletes expired rows every few minutes. Deletes are idempotent, so every
// replica runs it; the jitter keeps replicas from doing it at the same moment.
func cleanupLoop(ctx context.Context, db *postgres.DB, log *slog.Logger) {
	for {
		wait := 10*time.Minute + time.Duration(rand.Int64N(int64(2*time.Minute)))
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		n, err := db.DeleteExpired(ctx, time.Hour)
		if err != nil && ctx.Err() == nil {
			log.Warn("cleanup", slog.String("error", err.Error()))
		} else if n > 0 {
			log.Debug("cleanup", slog.Int64("deleted", n))
		}
	}
}

// newLogger makes the process logger: JSON or text, at the configured level, with the
// request id of the context on every line.
func newLogger(w io.Writer, c config.Log) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(c.Level))
	opts := &slog.HandlerOptions{Level: level}
	var h slog.Handler = slog.NewJSONHandler(w, opts)
	if c.Format == "text" {
		h = slog.NewTextHandler(w, opts)
	}
	return slog.New(requestIDHandler{h})
}

// servePprof serves the profiler on its own listener (dev.pprof_listen), never on the
// public one.
func servePprof(ctx context.Context, addr string, log *slog.Logger) {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Addr: addr, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { <-ctx.Done(); _ = srv.Close() }()
	log.Warn("pprof listening", slog.String("addr", addr))
	if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Error("pprof", slog.String("error", err.Error()))
	}
}
