package passport

import (
	"context"
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
	h, err := HashPassword(context.Background(), "correct horse 1", p)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=1024,t=1,p=1$") {
		t.Fatalf("PHC string: %s", h)
	}
	h2, _ := HashPassword(context.Background(), "correct horse 1", p)
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
		ok, stale, err := CheckPassword(context.Background(), tc.hash, tc.password, tc.params)
		if err != nil {
			t.Fatal(err)
		}
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

// TestReleaseRule is SPEC §3's rule as a table: every level × consent given or not ×
// private switch × scope granted or not, for every field.
func TestReleaseRule(t *testing.T) {
	bd := time.Date(1815, 12, 10, 0, 0, 0, 0, time.UTC)
	base := Account{ID: "id", Login: "ada", GivenName: "Ada", FamilyName: "Lovelace", Nickname: "countess", Birthdate: &bd,
		Email: "ada@example.org", EmailVerified: true, Phone: "+441234567890", Memberships: []Membership{{OrgID: "o1", OrgAlias: "analytical", OrgName: "Analytical Society", OrgStatus: OrgActive, Position: "Programmer", Roles: []string{"engineer"}}},
		PhotoID: "photo-1", Locale: "en-GB", UpdatedAt: time.Unix(1700000000, 0)}
	rules := NewRules(Rules{PhotoURL: func(id string) string { return "https://id.example/photos/" + id }})
	// The claim that shows each field, and the scope that asks for it.
	fields := map[Field]struct {
		claim string
		scope string
	}{
		FieldNickname: {"nickname", ScopeProfile}, FieldPicture: {"picture", ScopeProfile}, FieldGivenName: {"given_name", ScopeProfile},
		FieldFamilyName: {"family_name", ScopeProfile}, FieldBirthdate: {"birthdate", ScopeProfile}, FieldLogin: {"preferred_username", ScopeProfile},
		FieldEmail: {"email", ScopeEmail}, FieldPhone: {"phone_number", ScopePhone}, FieldOrganization: {"organization", ScopeOrganization},
	}
	for f, fc := range fields {
		for _, level := range []Publicity{Private, OnRequest, Public} {
			for _, consented := range []bool{false, true} {
				for _, private := range []bool{false, true} {
					for _, granted := range []bool{false, true} {
						a := base
						a.Publicity = map[Field]Publicity{f: level}
						a.PrivateProfile = private
						scopes := []string{ScopeOpenID}
						if granted {
							scopes = append(scopes, fc.scope)
						}
						var cons []Field
						if consented {
							cons = []Field{f}
						}
						_, got := rules.Release(&a, scopes, cons)[fc.claim]
						want := granted && !private && (level == Public || (level == OnRequest && consented))
						if got != want {
							t.Errorf("%s level=%s consented=%v private=%v scope granted=%v: released %v, want %v",
								f, level, consented, private, granted, got, want)
						}
					}
				}
			}
		}
	}
}

func TestReleaseDetails(t *testing.T) {
	a := &Account{ID: "id", Login: "ada", GivenName: "Ada", FamilyName: "Lovelace", Email: "ada@example.org",
		UpdatedAt: time.Unix(1700000000, 0), Publicity: map[Field]Publicity{FieldGivenName: Public, FieldFamilyName: Private}}
	rules := NewRules(Rules{})
	c := rules.Release(a, []string{"openid", "profile", "email", "phone", "verification"}, nil)
	if c["name"] != "Ada" {
		t.Errorf("name is made of released parts only: got %v", c["name"])
	}
	if _, ok := c["email_verified"]; ok {
		t.Error("email_verified released without the email")
	}
	if _, ok := c["phone_number_verified"]; ok {
		t.Error("phone_number_verified released without a phone")
	}
	if _, ok := c["sub"]; ok {
		t.Error("Release sets sub; the caller owns it")
	}
	if c["verification_status"] != "" && c["verification_status"] != nil {
		t.Errorf("verification status: %v", c["verification_status"])
	}
	if got := rules.Release(a, []string{"openid", "email"}, []Field{FieldEmail}); got["email"] != "ada@example.org" || got["email_verified"] != false {
		t.Errorf("consented email: %v", got)
	}
}

func TestConsentItems(t *testing.T) {
	a := &Account{ID: "id", Login: "ada", GivenName: "Ada", Nickname: "countess", Email: "ada@example.org",
		Publicity: map[Field]Publicity{FieldLogin: Private}}
	rules := NewRules(Rules{})
	items := rules.ConsentItems(a, []string{"openid", "profile", "email", "phone"}, map[Field]bool{FieldEmail: false})
	got := map[Field]ConsentItem{}
	for _, it := range items {
		got[it.Field] = it
	}
	if len(items) != 4 { // nickname, given_name, login, email: the empty fields are left out
		t.Fatalf("items: %+v", items)
	}
	if got[FieldNickname].Level != Public || got[FieldGivenName].Level != OnRequest || got[FieldLogin].Level != Private {
		t.Errorf("levels: %+v", items)
	}
	if !got[FieldEmail].Decided || got[FieldEmail].Granted {
		t.Errorf("a remembered no: %+v", got[FieldEmail])
	}
	if !NeedsConsent(items) {
		t.Error("given_name is on request with no decision: consent is needed")
	}
	if NeedsConsent(rules.ConsentItems(a, []string{"openid", "email"}, map[Field]bool{FieldEmail: false})) {
		t.Error("a decided field does not need consent again")
	}
}

func TestLockedAndRequired(t *testing.T) {
	rules := NewRules(Rules{Locked: map[string][]Field{"admin": {FieldGivenName}, "external": {FieldPicture}},
		Required: []Field{FieldGivenName, FieldEmail}})
	a := &Account{RegistrationMethod: "admin", Email: "x@example.org"}
	if !rules.IsLocked(a, FieldGivenName) || rules.IsLocked(a, FieldNickname) {
		t.Error("admin accounts lock the given name only")
	}
	a.UnlockedFields = []string{"given_name"}
	if rules.IsLocked(a, FieldGivenName) {
		t.Error("an unlocked field is editable")
	}
	if !rules.IsLocked(&Account{RegistrationMethod: "external:google"}, FieldPicture) {
		t.Error("external:* accounts follow the external rule")
	}
	if got := rules.MissingRequired(a); len(got) != 1 || got[0] != FieldGivenName {
		t.Errorf("missing: %v", got)
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

// TestLoginsDoNotMixAlphabets: a Cyrillic "а" in a Latin login would let one person pass
// for another; one alphabet per login, whichever it is.
func TestLoginsDoNotMixAlphabets(t *testing.T) {
	for login, ok := range map[string]bool{
		"ada": true, "Émilie.du-Châtelet": true, "пётр": true, "ωμέγα": true, "ωmega": false, "山田たろう": true, "user2026": true,
		"аda": false, "pаypal": false, "ωmegа": false, "Grace-Хоппер": false,
	} {
		if err := ValidateLogin(login); (err == nil) != ok {
			t.Errorf("ValidateLogin(%q) = %v, want accepted %v", login, err, ok)
		}
	}
}
