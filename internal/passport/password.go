package passport

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"runtime"
	"strings"
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

// argonSlots bounds how many argon2id computations run at once to the CPUs the process may
// use: each holds MemoryKiB of memory for its duration, and more of them in parallel would
// only wait for a CPU while holding it.
var argonSlots = make(chan struct{}, runtime.GOMAXPROCS(0))

func idKey(password, salt []byte, p Argon2Params, keyLen uint32) []byte {
	argonSlots <- struct{}{}
	defer func() { <-argonSlots }()
	return argon2.IDKey(password, salt, p.Iterations, p.MemoryKiB, p.Parallelism, keyLen)
}

// DefaultArgon2 is OWASP's recommended argon2id setting.
var DefaultArgon2 = Argon2Params{MemoryKiB: 19 * 1024, Iterations: 2, Parallelism: 1}

const (
	argonSaltLen = 16
	argonKeyLen  = 32
)

// HashPassword hashes a password with argon2id and returns it in the PHC string format:
// $argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>.
func HashPassword(password string, p Argon2Params) (string, error) {
	salt := make([]byte, argonSaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	key := idKey([]byte(password), salt, p, argonKeyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.MemoryKiB, p.Iterations,
		p.Parallelism, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// CheckPassword reports whether password matches the PHC-encoded argon2id hash, and whether
// the hash was made with parameters other than p (so the caller may rehash it).
// A malformed hash never matches.
func CheckPassword(hash, password string, p Argon2Params) (ok, stale bool) {
	hp, salt, key, err := parseArgon2(hash)
	if err != nil {
		return false, false
	}
	got := idKey([]byte(password), salt, hp, uint32(len(key)))
	if subtle.ConstantTimeCompare(got, key) != 1 {
		return false, false
	}
	return true, hp != p
}

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
