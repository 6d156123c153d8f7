package passport

import "testing"

// TestCredentialTemplateRules: a stored login-details template carries the password in
// its text, never in its subject (previews and relays' logs show subjects).
func TestCredentialTemplateRules(t *testing.T) {
	langs := []string{"en", "ru", "et", "nl", "sv"}
	for _, c := range []struct {
		name    string
		body    TemplateBody
		wantErr bool
	}{
		{"password in the text", TemplateBody{Subject: "Welcome, {name}", Text: "Login {login}, password {password}"}, false},
		{"no password at all", TemplateBody{Subject: "Welcome", Text: "Login {login}"}, true},
		{"password in the subject", TemplateBody{Subject: "Your password {password}", Text: "Password {password}"}, true},
		{"a subject of two lines", TemplateBody{Subject: "Hi\nBcc: x@example.org", Text: "Password {password}"}, true},
	} {
		_, errs := ValidateCredentialTemplate(CredentialTemplate{Key: "welcome", Names: map[string]string{"en": "Welcome"},
			Bodies: map[string]TemplateBody{"en": c.body}}, langs)
		if got := errs["text_en"] != nil; got != c.wantErr {
			t.Errorf("%s: refused %v, want %v (%v)", c.name, got, c.wantErr, errs)
		}
	}
}
