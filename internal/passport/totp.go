package passport

import (
	"bytes"
	"crypto/rand"
	"crypto/subtle"
	"image/png"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/hotp"
	"github.com/pquerna/otp/totp"
)

// Authentication context classes written into `acr`: one factor or two.
const (
	ACRPassword = "urn:passport:acr:pwd"
	ACRMFA      = "urn:passport:acr:mfa"
)

// ACRFor is the acr that a sign-in with these methods reaches.
func ACRFor(amr []string) string {
	if slices.Contains(amr, AMRMFA) {
		return ACRMFA
	}
	return ACRPassword
}

// HasMFA reports whether a sign-in used two factors.
func HasMFA(amr []string) bool { return slices.Contains(amr, AMRMFA) }

// TOTPKey is a new TOTP secret for enrolment: the text to type and the otpauth URI as a QR.
type TOTPKey struct {
	Secret string // base32, what authenticator apps accept by hand
	URI    string // otpauth://totp/...
	QRPNG  []byte
}

// NewTOTPKey makes a 160-bit TOTP secret for the account (SHA-1, 6 digits, 30 s: what every
// authenticator app supports) with its QR code.
func NewTOTPKey(issuer, account string) (*TOTPKey, error) {
	k, err := totp.Generate(totp.GenerateOpts{Issuer: issuer, AccountName: account, SecretSize: 20, Rand: rand.Reader})
	if err != nil {
		return nil, err
	}
	return withQR(k)
}

// withQR renders the key's otpauth URI as a QR code.
func withQR(k *otp.Key) (*TOTPKey, error) {
	img, err := k.Image(240, 240)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, err
	}
	return &TOTPKey{Secret: k.Secret(), URI: k.URL(), QRPNG: buf.Bytes()}, nil
}

// MatchTOTP checks a code against the secret at now, allowing one 30 s step of clock skew
// either way, and returns the time step it belongs to. The caller accepts a step only once
// (replay protection).
func MatchTOTP(secret, code string, now time.Time) (counter int64, ok bool) {
	code = strings.ReplaceAll(strings.TrimSpace(code), " ", "")
	if len(code) != 6 {
		return 0, false
	}
	step := now.Unix() / 30
	for _, c := range []int64{step, step - 1, step + 1} {
		want, err := hotp.GenerateCodeCustom(secret, uint64(c), hotp.ValidateOpts{Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
		if err == nil && subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 {
			return c, true
		}
	}
	return 0, false
}

// recoveryAlphabet avoids letters people confuse (0/o, 1/l/i).
const recoveryAlphabet = "abcdefghjkmnpqrstuvwxyz23456789"

// NewRecoveryCodes returns n codes like "k7qm-3xwd-p9tn" (about 74 bits each).
func NewRecoveryCodes(n int) []string {
	codes := make([]string, n)
	buf := make([]byte, 15)
	for i := range codes {
		if _, err := rand.Read(buf); err != nil {
			panic(err)
		}
		var b strings.Builder
		for j, x := range buf {
			if j > 0 && j%5 == 0 {
				b.WriteByte('-')
			}
			b.WriteByte(recoveryAlphabet[int(x)%len(recoveryAlphabet)])
		}
		codes[i] = b.String()
	}
	return codes
}

// NormalizeRecoveryCode makes a typed recovery code comparable: lower case, no spaces, the
// dashes where NewRecoveryCodes puts them.
func NormalizeRecoveryCode(s string) string {
	s = strings.ToLower(strings.NewReplacer(" ", "", "-", "").Replace(strings.TrimSpace(s)))
	var b strings.Builder
	for i, r := range s {
		if i > 0 && i%5 == 0 {
			b.WriteByte('-')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// TOTPKeyFromSecret rebuilds the URI and QR code of an existing secret.
func TOTPKeyFromSecret(issuer, account, secret string) (*TOTPKey, error) {
	k, err := otp.NewKeyFromURL("otpauth://totp/" + url.PathEscape(issuer) + ":" + url.PathEscape(account) +
		"?secret=" + secret + "&issuer=" + url.QueryEscape(issuer) + "&algorithm=SHA1&digits=6&period=30")
	if err != nil {
		return nil, err
	}
	return withQR(k)
}
