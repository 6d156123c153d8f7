package passport

import "testing"

func TestNormalizePhone(t *testing.T) {
	for _, tc := range []struct {
		name, raw, region string
		want              string // "" when refused
		message           string // the refusal's sentence
	}{
		{"international", "+44 20 7946 0958", "", "+442079460958", ""},
		{"international with a region", "+7 916 123-45-67", "SE", "+79161234567", ""},
		{"Russian national with 8", "8 916 123-45-67", "RU", "+79161234567", ""},
		{"Russian national in brackets", "8 (916) 123 45 67", "RU", "+79161234567", ""},
		{"Russian without the trunk prefix", "916 123 45 67", "RU", "+79161234567", ""},
		{"Estonian national", "5123 4567", "EE", "+37251234567", ""},
		{"Dutch national", "06-12345678", "NL", "+31612345678", ""},
		{"Swedish national", "070-123 45 67", "SE", "+46701234567", ""},
		{"international prefix 00 in Sweden", "00 372 5123 4567", "SE", "+37251234567", ""},
		{"national without a region", "8 916 123-45-67", "", "", "Enter the number with its country code, like +44 20 7946 0958."},
		{"another country's national form", "8 916 123-45-67", "EE", "", "This is not a valid phone number."},
		{"too short", "12345", "RU", "", "This is not a valid phone number."},
		{"not a number", "call me", "RU", "", "This is not a valid phone number."},
		{"empty", "  ", "RU", "", "Enter a phone number."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := NormalizePhone(tc.raw, tc.region)
			if tc.want != "" {
				if err != nil || got != tc.want {
					t.Errorf("NormalizePhone(%q, %q) = %q, %v; want %q", tc.raw, tc.region, got, err, tc.want)
				}
				return
			}
			e := AsError(err)
			if err == nil || e.Code != EINVALID || e.Field != "phone" || e.Message != tc.message {
				t.Errorf("NormalizePhone(%q, %q) = %q, %#v; want EINVALID on phone: %q", tc.raw, tc.region, got, err, tc.message)
			}
		})
	}
}

func TestFormatPhone(t *testing.T) {
	for e164, want := range map[string]string{
		"+79161234567":  "+7 916 123-45-67",
		"+442079460958": "+44 20 7946 0958",
		"+37251234567":  "+372 5123 4567",
		"+31612345678":  "+31 6 12345678",
		"+46701234567":  "+46 70 123 45 67",
		"+12125550187":  "+1 212-555-0187",
		"":              "",
		"not a number":  "not a number",
	} {
		if got := FormatPhone(e164); got != want {
			t.Errorf("FormatPhone(%q) = %q, want %q", e164, got, want)
		}
	}
	// What is shown reads back as what is stored.
	for _, e164 := range []string{"+79161234567", "+442079460958", "+37251234567", "+31612345678", "+46701234567"} {
		if got, err := NormalizePhone(FormatPhone(e164), ""); err != nil || got != e164 {
			t.Errorf("NormalizePhone(FormatPhone(%q)) = %q, %v", e164, got, err)
		}
	}
}

func TestPhoneRegionFor(t *testing.T) {
	for lang, want := range map[string]string{"ru": "RU", "et": "EE", "nl": "NL", "sv": "SE", "en": "", "": "", "de": ""} {
		if got := PhoneRegionFor(lang); got != want {
			t.Errorf("PhoneRegionFor(%q) = %q, want %q", lang, got, want)
		}
	}
	// Every region a language names has an example for the hint, and the example is accepted.
	for _, region := range phoneRegions {
		national, international := PhoneExample(region)
		if national == "" || international == "" {
			t.Errorf("PhoneExample(%s): no example", region)
			continue
		}
		a, err1 := NormalizePhone(national, region)
		b, err2 := NormalizePhone(international, "")
		if err1 != nil || err2 != nil || a != b {
			t.Errorf("PhoneExample(%s) = %q, %q: read as %q (%v) and %q (%v)", region, national, international, a, err1, b, err2)
		}
	}
	if n, i := PhoneExample(""); n != "" || i != "" {
		t.Errorf("PhoneExample(\"\") = %q, %q", n, i)
	}
}

// TestNumbersThatCannotTakeCodesAreRefused: premium-rate, toll-free, shared-cost and
// universal numbers, and numbers with an extension, would let anyone run up the bill for
// codes or receive them elsewhere.
func TestNumbersThatCannotTakeCodesAreRefused(t *testing.T) {
	for _, raw := range []string{"+44 909 876 5432", "+7 809 505 1234", "+1 900 555 0199", "+800 1234 5678",
		"+44 800 123 4567", "+7 916 123-45-67 ext. 1234"} {
		if _, err := NormalizePhone(raw, ""); ErrorCode(err) != EINVALID {
			t.Errorf("%s: %v, want EINVALID", raw, err)
		}
	}
	for _, raw := range []string{"+7 916 123-45-67", "+44 20 7946 0958", "+372 5123 4567", "+46 70 123 45 67"} {
		if _, err := NormalizePhone(raw, ""); err != nil {
			t.Errorf("%s: %v, want it accepted", raw, err)
		}
	}
}
