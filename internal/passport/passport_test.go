package passport

import (
	"strings"
	"testing"
	"time"
)

func TestFoldLogin(t *testing.T) {
	for _, tc := range []struct{ a, b string }{
		{"Alice", "ALICE"}, {"Straße", "STRASSE"}, {"  bob ", "Bob"}, {"ΣΊΣΥΦΟΣ", "σίσυφος"},
		{"e\u0301mile", "émile"}, // NFC: combining accent equals the precomposed letter
	} {
		if FoldLogin(tc.a) != FoldLogin(tc.b) {
			t.Errorf("FoldLogin(%q) = %q, FoldLogin(%q) = %q; want equal", tc.a, FoldLogin(tc.a), tc.b, FoldLogin(tc.b))
		}
	}
	if FoldLogin("alice") == FoldLogin("alicia") {
		t.Error("different logins fold together")
	}
}

func TestPasswordHashing(t *testing.T) {
	p := Argon2Params{MemoryKiB: 1024, Iterations: 1, Parallelism: 1}
	h, err := HashPassword("correct horse 1", p)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=1024,t=1,p=1$") {
		t.Fatalf("PHC string: %s", h)
	}
	h2, _ := HashPassword("correct horse 1", p)
	if h == h2 {
		t.Error("two hashes of one password are equal: no salt?")
	}
	for name, tc := range map[string]struct {
		hash, password string
		params         Argon2Params
		ok, stale      bool
	}{
		"ok":              {h, "correct horse 1", p, true, false},
		"wrong password":  {h, "correct horse 2", p, false, false},
		"stale params":    {h, "correct horse 1", DefaultArgon2, true, true},
		"malformed":       {"$argon2id$v=19$m=1024$x$y", "correct horse 1", p, false, false},
		"other algorithm": {"$2a$10$abcdefghijklmnopqrstuv", "correct horse 1", p, false, false},
		"empty hash":      {"", "", p, false, false},
	} {
		ok, stale := CheckPassword(tc.hash, tc.password, tc.params)
		if ok != tc.ok || stale != tc.stale {
			t.Errorf("%s: got ok=%v stale=%v, want %v %v", name, ok, stale, tc.ok, tc.stale)
		}
	}
}

func TestPasswordPolicy(t *testing.T) {
	for pw, wantErr := range map[string]string{
		"analytical-engine-1": "",
		"short1":              "at least 8",
		"no-digits-here":      "letter and one digit",
		"1234567890":          "letter and one digit",
		"Alice2024":           "same as the login",
		"Password1":           "too common",
		"qwerty123":           "too common",
	} {
		err := CheckPasswordPolicy(pw, "alice2024")
		switch {
		case wantErr == "" && err != nil:
			t.Errorf("%q: unexpected %v", pw, err)
		case wantErr != "" && (err == nil || !strings.Contains(err.Error(), wantErr)):
			t.Errorf("%q: got %v, want %q", pw, err, wantErr)
		}
	}
}

func TestValidateLoginAndEmail(t *testing.T) {
	for login, ok := range map[string]bool{"ada": true, "ada.lovelace": true, "Ада": true, "a": false, "with space": false,
		"semi;colon": false, strings.Repeat("x", 65): false, "bob@example.org": true} {
		if err := ValidateLogin(login); (err == nil) != ok {
			t.Errorf("ValidateLogin(%q): got %v, want ok=%v", login, err, ok)
		}
	}
	for in, want := range map[string]string{"Ada@Example.ORG": "Ada@example.org", " a@b.co ": "a@b.co", "a@localhost": "a@localhost",
		"nope": "", "a@b": "", "Ada <a@b.co>": "", "a@b.co, c@d.co": ""} {
		got, err := NormalizeEmail(in)
		if (want == "") != (err != nil) || got != want {
			t.Errorf("NormalizeEmail(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

func TestValidateClientRedirects(t *testing.T) {
	base := func(uris ...string) *Client {
		return &Client{ID: "app", SecretHash: HashToken("s"), RedirectURIs: uris, GrantTypes: []string{GrantAuthorizationCode}}
	}
	for uri, ok := range map[string]bool{
		"https://app.example/cb": true, "http://localhost:3000/cb": true, "http://127.0.0.1/cb": true, "http://[::1]:8080/cb": true,
		"com.example.app:/oauth": true, "http://app.example/cb": false, "https://app.example/cb#frag": false,
		"/relative": false, "javascript:alert(1)": false, "myapp:/cb": false, "https:///nohost": false,
	} {
		if err := ValidateClient(base(uri)); (err == nil) != ok {
			t.Errorf("redirect %q: got %v, want ok=%v", uri, err, ok)
		}
	}
}

// TestReleaseClaims: claims go out only for granted scopes, verified flags only with values.
func TestReleaseClaims(t *testing.T) {
	bd := time.Date(1815, 12, 10, 0, 0, 0, 0, time.UTC)
	a := &Account{ID: "id", Login: "ada", GivenName: "Ada", FamilyName: "Lovelace", Nickname: "countess", Birthdate: &bd,
		Email: "ada@example.org", EmailVerified: true, Locale: "en-GB", UpdatedAt: time.Unix(1700000000, 0)}
	for name, tc := range map[string]struct {
		scopes []string
		want   []string
		absent []string
	}{
		"openid only":      {[]string{"openid"}, nil, []string{"name", "email", "phone_number", "sub"}},
		"profile":          {[]string{"openid", "profile"}, []string{"name", "given_name", "family_name", "nickname", "preferred_username", "birthdate", "locale", "updated_at"}, []string{"email"}},
		"email":            {[]string{"openid", "email"}, []string{"email", "email_verified"}, []string{"name"}},
		"phone, no number": {[]string{"openid", "phone"}, nil, []string{"phone_number", "phone_number_verified"}},
	} {
		got := ReleaseClaims(a, tc.scopes)
		for _, k := range tc.want {
			if _, ok := got[k]; !ok {
				t.Errorf("%s: %s missing from %v", name, k, got)
			}
		}
		for _, k := range tc.absent {
			if _, ok := got[k]; ok {
				t.Errorf("%s: %s released: %v", name, k, got)
			}
		}
	}
	if got := ReleaseClaims(a, []string{"profile"}); got["name"] != "Ada Lovelace" || got["birthdate"] != "1815-12-10" {
		t.Errorf("values: %v", got)
	}
}

func TestNeedsLogin(t *testing.T) {
	now := time.Now()
	age := func(n int) *int { return &n }
	for name, tc := range map[string]struct {
		maxAge   *int
		authTime time.Time
		want     bool
	}{
		"no max_age":         {nil, now.Add(-24 * time.Hour), false},
		"max_age=0":          {age(0), now, true},
		"within max_age":     {age(600), now.Add(-5 * time.Minute), false},
		"older than max_age": {age(60), now.Add(-2 * time.Minute), true},
	} {
		r := &AuthRequest{MaxAge: tc.maxAge}
		if got := r.NeedsLogin(tc.authTime, now); got != tc.want {
			t.Errorf("%s: got %v, want %v", name, got, tc.want)
		}
	}
}
