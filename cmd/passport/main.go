// Command passport is the Passport identity provider: one binary that serves, migrates the
// database and administers accounts, clients and organisations.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"

	"github.com/passport-idp/passport/internal/config"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

const usage = `Passport: an OpenID Connect identity provider.

Usage:
  passport serve            [--config FILE]   serve HTTP (applies pending migrations first)
  passport migrate          [--config FILE]   apply pending database migrations
  passport user create      [--config FILE] --login L --email E --password P [--given-name G] [--family-name F]
  passport client create    [--config FILE] --id ID [--secret S] --redirect-uri URI ... [--public] ...
                            [--scope passport:admin --grant-type client_credentials --admin-org ALIAS]
  passport org create       [--config FILE] --alias A --name N
  passport org list         [--config FILE]
  passport org role         [--config FILE] --org A --key K --name-en N [--name-ru N] [--name-et N] ...
  passport admin grant      [--config FILE] --login L --role service_admin|org_admin|reviewer [--org A]
  passport admin revoke     [--config FILE] --login L --role R [--org A]
  passport member add       [--config FILE] --org A --login L [--role R ...] [--position P]
  passport member edit      [--config FILE] --login L [--org A] [--given-name G] [--family-name F]
                            [--birthdate YYYY-MM-DD] [--nickname N] [--locale L]
  passport demo             [--config FILE]   create the demo account, client, organisation and
                                              administrator when absent

Each command takes --help. The configuration file defaults to $PASSPORT_CONFIG; every key
can be overridden with a PASSPORT_* environment variable (see config/passport.example.toml).
`

// errUsage marks a mistake in the command line: the usage was already printed.
var errUsage = errors.New("usage")

// run is main without the process: it returns the exit code, so tests can call it.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	err := dispatch(ctx, args, getenv, stdout, stderr)
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		return 2
	default:
		fmt.Fprintf(stderr, "passport: %v\n", err)
		return 1
	}
}

func dispatch(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errUsage
	}
	cmd, rest := args[0], args[1:]
	if slices.Contains([]string{"user", "client", "org", "admin", "member"}, cmd) && len(rest) > 0 && !strings.HasPrefix(rest[0], "-") {
		cmd, rest = cmd+" "+rest[0], rest[1:]
	}
	env := cliEnv{ctx: ctx, getenv: getenv, stdout: stdout, stderr: stderr}
	switch cmd {
	case "serve":
		return env.serve(rest)
	case "migrate":
		return env.migrate(rest)
	case "user create":
		return env.userCreate(rest)
	case "client create":
		return env.clientCreate(rest)
	case "org create":
		return env.orgCreate(rest)
	case "org list":
		return env.orgList(rest)
	case "org role":
		return env.orgRole(rest)
	case "admin grant":
		return env.adminGrant(rest, true)
	case "admin revoke":
		return env.adminGrant(rest, false)
	case "member add":
		return env.memberAdd(rest)
	case "member edit":
		return env.memberEdit(rest)
	case "demo":
		return env.demo(rest)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		fmt.Fprintf(stderr, "passport: unknown command %q\n\n%s", strings.Join(args[:min(2, len(args))], " "), usage)
		return errUsage
	}
}

// cliEnv is what every command needs from the process.
type cliEnv struct {
	ctx            context.Context
	getenv         func(string) string
	stdout, stderr io.Writer
}

// flags makes a flag set with the common --config flag.
func (e cliEnv) flags(name, synopsis string) (*flag.FlagSet, *string) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	cfg := fs.String("config", e.getenv("PASSPORT_CONFIG"), "configuration `file` (TOML); defaults to $PASSPORT_CONFIG")
	fs.Usage = func() {
		fmt.Fprintf(e.stderr, "Usage: passport %s\n\n", synopsis)
		fs.PrintDefaults()
	}
	return fs, cfg
}

// parse parses flags; a bad command line becomes errUsage (the flag package printed why).
func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(fs.Output(), "unexpected argument %q\n", fs.Arg(0))
		fs.Usage()
		return errUsage
	}
	return nil
}

func (e cliEnv) config(path string) (config.Config, error) {
	return config.Load(path, e.getenv)
}

// multi is a repeatable string flag.
type multi []string

func (m *multi) String() string     { return strings.Join(*m, ",") }
func (m *multi) Set(v string) error { *m = append(*m, v); return nil }
