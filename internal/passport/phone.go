package passport

import (
	"strings"

	"github.com/nyaruka/phonenumbers"
)

// Phone numbers are stored in E.164 (+79161234567), typed the way people write them in
// their country (8 916 123-45-67 in Russia), and shown grouped the international way
// (+7 916 123-45-67). libphonenumber's rules decide all three.

// NormalizePhone reads a number as a person typed it and returns it in E.164. region (ISO
// 3166, like RU) is the country whose national forms are accepted; with "" the number must
// start with + and its country code. Returns EINVALID for the field "phone".
func NormalizePhone(raw, region string) (string, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return "", FieldError("phone", "Enter a phone number.")
	}
	international := strings.HasPrefix(raw, "+")
	if !international && region == "" {
		return "", FieldError("phone", "Enter the number with its country code, like +44 20 7946 0958.")
	}
	num, err := phonenumbers.Parse(raw, region)
	if err != nil || !phonenumbers.IsValidNumber(num) {
		return "", FieldError("phone", "This is not a valid phone number.")
	}
	// Codes go by SMS or a call that Passport pays for: numbers that bill per message or
	// call (premium rate, shared cost), that nobody owns (toll-free, universal access,
	// pagers, voicemail) or that redirect elsewhere (personal numbers) would let anyone
	// run up the bill or receive the codes, and an extension cannot take them.
	switch phonenumbers.GetNumberType(num) {
	case phonenumbers.MOBILE, phonenumbers.FIXED_LINE, phonenumbers.FIXED_LINE_OR_MOBILE, phonenumbers.VOIP:
	default:
		return "", FieldError("phone", "This number cannot receive codes: enter a mobile or landline number.")
	}
	if num.GetExtension() != "" {
		return "", FieldError("phone", "This number cannot receive codes: enter a mobile or landline number.")
	}
	return phonenumbers.Format(num, phonenumbers.E164), nil
}

// FormatPhone shows a stored E.164 number in the international format, grouped as its
// country groups it: +7 916 123-45-67, +44 20 7946 0958. Anything it cannot read is
// returned unchanged.
func FormatPhone(e164 string) string {
	if !strings.HasPrefix(e164, "+") {
		return e164
	}
	num, err := phonenumbers.Parse(e164, "")
	if err != nil {
		return e164
	}
	return phonenumbers.Format(num, phonenumbers.INTERNATIONAL)
}

// phoneRegions are the countries whose national number forms a page in each language
// accepts. English has none: it is written in too many countries to guess one, so an
// English page asks for the country code.
var phoneRegions = map[string]string{"ru": "RU", "et": "EE", "nl": "NL", "sv": "SE"}

// PhoneRegionFor is the country whose national number forms a page in lang (a tag such as
// ru) accepts, or "" when the language names no country.
func PhoneRegionFor(lang string) string {
	return phoneRegions[strings.ToLower(lang)]
}

// PhoneExample is a mobile number of region as its people write it and in the international
// format, for a hint next to the phone field; "", "" when libphonenumber has no example.
func PhoneExample(region string) (national, international string) {
	num := phonenumbers.GetExampleNumberForType(region, phonenumbers.MOBILE)
	if num == nil {
		return "", ""
	}
	return phonenumbers.Format(num, phonenumbers.NATIONAL), phonenumbers.Format(num, phonenumbers.INTERNATIONAL)
}

// Shown is the new value as pages show it: a number grouped (FormatPhone), an address as is.
func (c ContactChange) Shown() string {
	if c.Kind == "phone" {
		return FormatPhone(c.Value)
	}
	return c.Value
}
