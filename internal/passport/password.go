package passport

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"runtime"
	"strings"
	"sync/atomic"
	"unicode"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
)

// Argon2Params are the argon2id cost parameters. OWASP's minimum is 19 MiB, 2 iterations,
// parallelism 1; Keycloak publishes its sizing at 7 MiB and 5 iterations.
type Argon2Params struct {
	MemoryKiB   uint32
	Iterations  uint32
	Parallelism uint8
}

// argon is the one gate every argon2id computation of the process goes through.
var argon = newGate(runtime.GOMAXPROCS(0), 32*runtime.GOMAXPROCS(0))

// gate bounds concurrent work: at most cap(slots) run at once, each holding its memory for
// its duration (more in parallel would only wait for a CPU while holding it), and at most
// maxWaiting wait for a slot. Past that the caller is told the server is busy at once: a
// flood of sign-in attempts must not queue real ones behind it for minutes, and a waiter
// whose client went away stops waiting instead of computing for nobody.
type gate struct {
	slots      chan struct{}
	waiting    atomic.Int64
	maxWaiting int64
}

func newGate(running, waiting int) *gate {
	return &gate{slots: make(chan struct{}, max(1, running)), maxWaiting: int64(waiting)}
}

// errBusy is what a caller gets when too many wait or its context ended while waiting.
var errBusy = Errorf(EUNAVAILABLE, "The server is busy. Try again in a moment.")

// enter waits for a slot; release it with leave. Returns EUNAVAILABLE when the queue is
// full or ctx ends first.
func (g *gate) enter(ctx context.Context) error {
	select {
	case g.slots <- struct{}{}:
		return nil
	default:
	}
	if g.waiting.Add(1) > g.maxWaiting {
		g.waiting.Add(-1)
		return errBusy
	}
	defer g.waiting.Add(-1)
	select {
	case g.slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return errBusy
	}
}

func (g *gate) leave() { <-g.slots }

func idKey(ctx context.Context, password, salt []byte, p Argon2Params, keyLen uint32) ([]byte, error) {
	if err := argon.enter(ctx); err != nil {
		return nil, err
	}
	defer argon.leave()
	return argon2.IDKey(password, salt, p.Iterations, p.MemoryKiB, p.Parallelism, keyLen), nil
}

// DefaultArgon2 is OWASP's recommended argon2id setting.
var DefaultArgon2 = Argon2Params{MemoryKiB: 19 * 1024, Iterations: 2, Parallelism: 1}

const (
	argonSaltLen = 16
	argonKeyLen  = 32
)

// HashPassword hashes a password with argon2id and returns it in the PHC string format:
// $argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>. Returns EUNAVAILABLE when the server is too
// busy to hash now (see gate).
func HashPassword(ctx context.Context, password string, p Argon2Params) (string, error) {
	salt := make([]byte, argonSaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	key, err := idKey(ctx, []byte(password), salt, p, argonKeyLen)
	if err != nil {
		return "", err
	}
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.MemoryKiB, p.Iterations,
		p.Parallelism, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// CheckPassword reports whether password matches the PHC-encoded argon2id hash, and whether
// the hash was made with parameters other than p (so the caller may rehash it).
// A malformed hash never matches. Returns EUNAVAILABLE, and no answer, when the server is too
// busy to check now (see gate).
//
// An issued password's hash (HashIssuedPassword) is checked too. That check is fast, so it
// also spends one argon2id computation on a dummy: a sign-in then takes as long whichever
// kind of hash the login has, and timing does not tell issued accounts apart.
func CheckPassword(ctx context.Context, hash, password string, p Argon2Params) (ok, stale bool, err error) {
	if IsIssuedHash(hash) {
		if _, err := idKey(ctx, []byte(password), timingSalt, p, argonKeyLen); err != nil {
			return false, false, err
		}
		return checkIssued(hash, password), false, nil
	}
	hp, salt, key, err := parseArgon2(hash)
	if err != nil {
		// No password (a member created without login details yet) or a malformed hash
		// never matches, after the same argon2id work, so timing does not tell such logins
		// apart from the others.
		if _, err := idKey(ctx, []byte(password), timingSalt, p, argonKeyLen); err != nil {
			return false, false, err
		}
		return false, false, nil
	}
	got, err := idKey(ctx, []byte(password), salt, hp, uint32(len(key)))
	if err != nil {
		return false, false, err
	}
	if subtle.ConstantTimeCompare(got, key) != 1 {
		return false, false, nil
	}
	return true, hp != p, nil
}

// timingSalt salts the dummy argon2id computation of an issued password's check.
var timingSalt = []byte("passport-timing!")

func parseArgon2(hash string) (p Argon2Params, salt, key []byte, err error) {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return p, nil, nil, fmt.Errorf("not an argon2id hash")
	}
	var version int
	if _, err = fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return p, nil, nil, fmt.Errorf("unsupported argon2 version")
	}
	if _, err = fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.MemoryKiB, &p.Iterations, &p.Parallelism); err != nil {
		return p, nil, nil, fmt.Errorf("bad argon2 parameters: %w", err)
	}
	if salt, err = base64.RawStdEncoding.DecodeString(parts[4]); err != nil {
		return p, nil, nil, err
	}
	if key, err = base64.RawStdEncoding.DecodeString(parts[5]); err != nil {
		return p, nil, nil, err
	}
	if len(key) == 0 || p.Iterations == 0 || p.Parallelism == 0 {
		return p, nil, nil, fmt.Errorf("bad argon2 hash")
	}
	return p, salt, key, nil
}

// CheckPasswordPolicy applies SPEC §4: at least 8 characters with a letter and a digit, not
// the login, and not a common password.
func CheckPasswordPolicy(password, login string) error {
	if utf8.RuneCountInString(password) < 8 {
		return FieldError("password", "Password must be at least 8 characters long.")
	}
	if len(password) > 1024 {
		return FieldError("password", "Password must be at most 1024 bytes long.")
	}
	var letter, digit bool
	for _, r := range password {
		letter = letter || unicode.IsLetter(r)
		digit = digit || unicode.IsDigit(r)
	}
	if !letter || !digit {
		return FieldError("password", "Password must contain at least one letter and one digit.")
	}
	if login != "" && FoldLogin(password) == FoldLogin(login) {
		return FieldError("password", "Password cannot be the same as the login.")
	}
	if IsCommonPassword(password) {
		return FieldError("password", "This password is too common. Choose another one.")
	}
	return nil
}
