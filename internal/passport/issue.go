package passport

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"math/big"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Accounts issued by organisations (SPEC §6, §9): issued credentials and their message.

// Security events of issuing.
const (
	// EventCredentialsIssued: an administrator issued a temporary password (details:
	// channel, template, generated); never the password itself.
	EventCredentialsIssued = "credentials.issued"
	// EventTwoFactorReset: an administrator removed the account's second factor; the
	// person enrols again at their next sign-in.
	EventTwoFactorReset = "two_factor.reset"
	// EventContactConfirmationRequested: an administrator sent the person a request to
	// confirm their email address or phone (details: kinds).
	EventContactConfirmationRequested = "contact.confirmation_requested"
	// EventCredentialTemplateSaved and …Deleted: a service administrator changed the
	// credential message templates (details: key).
	EventCredentialTemplateSaved   = "credentials.template_saved"
	EventCredentialTemplateDeleted = "credentials.template_deleted"
)

// ChannelNone issues credentials without a message: the administrator hands the password
// over themselves.
const ChannelNone = "none"

// IssueChannels are the ways issued login details may go.
var IssueChannels = []string{ChannelEmail, ChannelSMS, ChannelNone}

// TemplateStandard is the built-in "login details issued" template
// (templates/messages/login_details.<lang>.tmpl); it is never stored.
const TemplateStandard = "standard"

// MessageLoginDetails is the message kind of issued login details.
const MessageLoginDetails = "login_details"

// issuedAlphabet has no characters that look alike (0 O o, 1 l I): a generated password
// is read off a screen or a letter and typed. 56 symbols, 5.8 bits each.
const issuedAlphabet = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"

// IssuedPasswordLength gives a generated password 16 × log2(56) ≈ 92.9 bits of entropy.
const IssuedPasswordLength = 16

// GeneratePassword returns a random password for issuing that meets the password policy
// for login (it holds a letter and a digit, is not common and is not the login).
func GeneratePassword(login string) string {
	size := big.NewInt(int64(len(issuedAlphabet)))
	for {
		b := make([]byte, IssuedPasswordLength)
		for i := range b {
			n, err := rand.Int(rand.Reader, size)
			if err != nil {
				panic(err)
			}
			b[i] = issuedAlphabet[n.Int64()]
		}
		if p := string(b); CheckPasswordPolicy(p, login) == nil {
			return p
		}
	}
}

// Issued passwords are stored with a fast salted hash, not argon2id: a generated password
// carries over 90 bits of entropy, which no offline guessing can search, so the slow hash
// would protect nothing more while a 10,000-row CSV import would spend five minutes of CPU
// hashing. Passwords people type (also a typed issued one) stay argon2id. The format is
// $issued$sha256$<salt>$<HMAC-SHA-256(salt, password)>, base64 without padding.
const issuedPrefix = "$issued$sha256$"

// HashIssuedPassword hashes a generated password (see issuedPrefix). Use it for nothing a
// person chose.
func HashIssuedPassword(password string) string {
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		panic(err)
	}
	b64 := base64.RawStdEncoding
	return issuedPrefix + b64.EncodeToString(salt) + "$" + b64.EncodeToString(issuedMAC(salt, password))
}

func issuedMAC(salt []byte, password string) []byte {
	m := hmac.New(sha256.New, salt)
	m.Write([]byte(password))
	return m.Sum(nil)
}

// IsIssuedHash reports whether hash was made by HashIssuedPassword.
func IsIssuedHash(hash string) bool { return strings.HasPrefix(hash, issuedPrefix) }

// checkIssued compares password with an issued hash in constant time; a malformed hash
// never matches.
func checkIssued(hash, password string) bool {
	salt64, key64, ok := strings.Cut(strings.TrimPrefix(hash, issuedPrefix), "$")
	if !ok {
		return false
	}
	salt, err1 := base64.RawStdEncoding.DecodeString(salt64)
	key, err2 := base64.RawStdEncoding.DecodeString(key64)
	if err1 != nil || err2 != nil || len(salt) == 0 || len(key) != sha256.Size {
		return false
	}
	return subtle.ConstantTimeCompare(issuedMAC(salt, password), key) == 1
}

// CredentialValues fill a stored template's placeholders.
type CredentialValues struct {
	Login, Password, Name, Expires, SigninURL, Organisation string
}

// Placeholders are the placeholders a stored credential template may use.
var Placeholders = []string{"{login}", "{password}", "{name}", "{expires}", "{signin_url}", "{organisation}"}

// Fill replaces the placeholders in text. The text is never executed as a template: an
// administrator's wording cannot reach anything but these six values.
func (v CredentialValues) Fill(text string) string {
	return strings.NewReplacer("{login}", v.Login, "{password}", v.Password, "{name}", v.Name,
		"{expires}", v.Expires, "{signin_url}", v.SigninURL, "{organisation}", v.Organisation).Replace(text)
}

// TemplateBody is a stored template's message in one language.
type TemplateBody struct {
	Subject string `json:"subject"`
	Text    string `json:"text"`
}

// CredentialTemplate is a stored "login details issued" template (SPEC §9).
type CredentialTemplate struct {
	Key       string                  `json:"key"`
	Names     map[string]string       `json:"names"`
	Bodies    map[string]TemplateBody `json:"bodies"`
	CreatedAt time.Time               `json:"created_at"`
	UpdatedAt time.Time               `json:"updated_at"`
}

// Name is the template's name in lang, else in English, else its key.
func (t CredentialTemplate) Name(lang string) string {
	if n := t.Names[lang]; n != "" {
		return n
	}
	if n := t.Names["en"]; n != "" {
		return n
	}
	return t.Key
}

// Body is the template's message in lang, else in English; false when it has neither.
func (t CredentialTemplate) Body(lang string) (TemplateBody, string, bool) {
	if b, ok := t.Bodies[lang]; ok && b.Text != "" {
		return b, lang, true
	}
	if b, ok := t.Bodies["en"]; ok && b.Text != "" {
		return b, "en", true
	}
	return TemplateBody{}, "", false
}

var templateKey = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,39}$`)

// ValidateCredentialTemplate checks a template to store and returns it cleaned (trimmed,
// empty languages dropped), with a field error for the first problem of each field: the
// key (lower-case letters, digits, - and _, not "standard"), names and bodies in the five
// languages, a text for at least one language, each text carrying {password}.
func ValidateCredentialTemplate(t CredentialTemplate, languages []string) (CredentialTemplate, map[string]*Error) {
	errs := map[string]*Error{}
	t.Key = strings.TrimSpace(t.Key)
	switch {
	case t.Key == TemplateStandard:
		errs["key"] = FieldError("key", "The key standard belongs to the built-in template.")
	case !templateKey.MatchString(t.Key):
		errs["key"] = FieldError("key", "A template key is 1 to 40 lower-case letters, digits, - or _, starting with a letter or digit.")
	}
	names := map[string]string{}
	for lang, n := range t.Names {
		n = strings.TrimSpace(n)
		if n == "" {
			continue
		}
		if !slices.Contains(languages, lang) {
			errs["names"] = FieldError("names", "Template names and texts are given in en, ru, et, nl or sv.")
			continue
		}
		if utf8.RuneCountInString(n) > 100 {
			errs["names"] = FieldError("names", "A template name is at most 100 characters long.")
			continue
		}
		names[lang] = n
	}
	bodies := map[string]TemplateBody{}
	for lang, b := range t.Bodies {
		b.Subject, b.Text = strings.TrimSpace(b.Subject), strings.TrimSpace(b.Text)
		if b.Subject == "" && b.Text == "" {
			continue
		}
		field := "text_" + lang
		switch {
		case !slices.Contains(languages, lang):
			errs["bodies"] = FieldError("bodies", "Template names and texts are given in en, ru, et, nl or sv.")
			continue
		case b.Text == "":
			errs[field] = FieldError(field, "Write the message's text.")
		case !strings.Contains(b.Text, "{password}"):
			errs[field] = FieldError(field, "The text must contain {password}: the message carries the password.")
		case utf8.RuneCountInString(b.Text) > 5000 || utf8.RuneCountInString(b.Subject) > 200:
			errs[field] = FieldError(field, "The subject is at most 200 characters long and the text at most 5000.")
		case strings.ContainsAny(b.Subject, "\r\n"):
			errs[field] = FieldError(field, "The subject is one line.")
		case strings.Contains(b.Subject, "{password}"):
			// Subjects show in notification previews and relays' logs.
			errs[field] = FieldError(field, "The subject must not contain {password}: subjects show in previews and logs.")
		}
		bodies[lang] = b
	}
	if len(names) == 0 && errs["names"] == nil {
		errs["names"] = FieldError("names", "Give the template a name in at least one language.")
	}
	if len(bodies) == 0 && errs["bodies"] == nil {
		errs["bodies"] = FieldError("bodies", "Write the message in at least one language.")
	}
	t.Names, t.Bodies = names, bodies
	return t, errs
}
