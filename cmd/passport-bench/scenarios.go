package main

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"sync"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/passport-idp/passport/internal/passport"
	"github.com/passport-idp/passport/internal/postgres"
)

const (
	webSecret     = "bench-web-secret-0123456789"
	ccSecret      = "bench-cc-secret-0123456789"
	userPassword  = "bench-password-2026"
	benchRedirect = "http://127.0.0.1:1/cb"
	benchScopes   = "openid profile email"
	offlineScopes = "openid profile email offline_access"
	webClientID   = "bench-web"
	ccClientID    = "bench-cc"
)

type fixtures struct {
	users int
	jwks  sync.Map // server URL -> *jose.JSONWebKeySet
}

// seed creates the clients and n users, each having consented to the on-request fields.
func seed(ctx context.Context, db *postgres.DB, n int) (*fixtures, error) {
	for _, c := range []*passport.Client{
		{ID: webClientID, Name: "Bench web", SecretHash: passport.HashToken(webSecret), RedirectURIs: []string{benchRedirect},
			GrantTypes: []string{passport.GrantAuthorizationCode, passport.GrantRefreshToken}},
		{ID: ccClientID, Name: "Bench service", SecretHash: passport.HashToken(ccSecret),
			GrantTypes: []string{passport.GrantClientCredentials}},
	} {
		if err := db.CreateClient(ctx, c); err != nil {
			return nil, err
		}
	}
	hash, err := passport.HashPassword(context.Background(), userPassword, passport.Argon2Params{MemoryKiB: 7 * 1024, Iterations: 5, Parallelism: 1})
	if err != nil {
		return nil, err
	}
	for i := 0; i < n; i++ {
		a := &passport.Account{Login: fmt.Sprintf("bench-%d", i), Email: fmt.Sprintf("bench-%d@example.org", i),
			GivenName: "Bench", FamilyName: fmt.Sprintf("User %d", i), Nickname: fmt.Sprintf("b%d", i),
			PasswordHash: hash, RegistrationMethod: passport.RegisteredSelf}
		if err := db.CreateAccount(ctx, a); err != nil {
			return nil, err
		}
		if err := db.SaveDecisions(ctx, a.ID, webClientID, map[passport.Field]bool{passport.FieldGivenName: true,
			passport.FieldFamilyName: true, passport.FieldLogin: true, passport.FieldEmail: true}); err != nil {
			return nil, err
		}
	}
	return &fixtures{users: n}, nil
}

var (
	csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)
	arField   = regexp.MustCompile(`name="authRequestID" value="([^"]+)"`)
)

type tokens struct {
	Access  string `json:"access_token"`
	Refresh string `json:"refresh_token"`
	IDToken string `json:"id_token"`
}

// signInOnce runs the whole browser flow for a user and returns the tokens: GET /authorize
// with PKCE, the sign-in form, its POST, the callback, then the code exchange, and checks
// the ID token's signature against the JWKS.
func (f *fixtures) signInOnce(ctx context.Context, base string, user int, scope string) (*tokens, error) {
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	verifier := passport.NewToken()
	sum := sha256.Sum256([]byte(verifier))
	nonce := passport.NewToken()[:16]
	q := url.Values{"client_id": {webClientID}, "response_type": {"code"}, "scope": {scope}, "redirect_uri": {benchRedirect},
		"state": {"s"}, "nonce": {nonce}, "code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])},
		"code_challenge_method": {"S256"}}
	next := base + "/authorize?" + q.Encode()
	var page string
	var code string
	for step := 0; step < 8 && code == ""; step++ {
		var resp *http.Response
		var err error
		if page != "" && strings.Contains(page, `action="/signin"`) {
			csrf, ar := csrfField.FindStringSubmatch(page), arField.FindStringSubmatch(page)
			if csrf == nil || ar == nil {
				return nil, errors.New("sign-in form without its hidden fields")
			}
			resp, err = c.PostForm(base+"/signin", url.Values{"csrf": {html.UnescapeString(csrf[1])}, "authRequestID": {ar[1]},
				"login": {fmt.Sprintf("bench-%d", user)}, "password": {userPassword}})
			page = ""
		} else {
			resp, err = c.Get(next)
		}
		if err != nil {
			return nil, err
		}
		body, err := readAll(resp)
		if err != nil {
			return nil, err
		}
		switch {
		case resp.StatusCode/100 == 3:
			loc := resp.Header.Get("Location")
			if strings.HasPrefix(loc, benchRedirect) {
				u, _ := url.Parse(loc)
				if code = u.Query().Get("code"); code == "" {
					return nil, fmt.Errorf("no code at the application: %s", loc)
				}
				continue
			}
			if strings.HasPrefix(loc, "/") {
				loc = base + loc
			}
			next = loc
		case resp.StatusCode == http.StatusOK:
			page = body
		default:
			return nil, fmt.Errorf("%s: %d %.200s", next, resp.StatusCode, body)
		}
	}
	if code == "" {
		return nil, errors.New("the flow never reached the application")
	}
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {benchRedirect}, "code_verifier": {verifier}}
	var t tokens
	if err := postToken(ctx, c, base+"/oauth/token", form, webClientID, webSecret, &t); err != nil {
		return nil, err
	}
	if err := f.checkIDToken(c, base, t.IDToken, nonce); err != nil {
		return nil, err
	}
	return &t, nil
}

// checkIDToken verifies the signature (JWKS fetched once per server), issuer, audience
// and nonce, as a relying party would.
func (f *fixtures) checkIDToken(c *http.Client, base, raw, nonce string) error {
	v, ok := f.jwks.Load(base)
	if !ok {
		resp, err := c.Get(base + "/keys")
		if err != nil {
			return err
		}
		var set jose.JSONWebKeySet
		err = json.NewDecoder(resp.Body).Decode(&set)
		resp.Body.Close()
		if err != nil {
			return err
		}
		v, _ = f.jwks.LoadOrStore(base, &set)
	}
	jws, err := jose.ParseSignedCompact(raw, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		return err
	}
	keys := v.(*jose.JSONWebKeySet).Key(jws.Signatures[0].Header.KeyID)
	if len(keys) == 0 {
		return errors.New("ID token signed with an unknown key")
	}
	payload, err := jws.Verify(keys[0])
	if err != nil {
		return err
	}
	var claims struct {
		Iss   string `json:"iss"`
		Aud   any    `json:"aud"`
		Nonce string `json:"nonce"`
		Sub   string `json:"sub"`
	}
	if err := json.Unmarshal(payload, &claims); err != nil {
		return err
	}
	if claims.Iss != base || claims.Sub == "" || (nonce != "" && claims.Nonce != nonce) {
		return fmt.Errorf("ID token claims: %+v", claims)
	}
	return nil
}

func postToken(ctx context.Context, c *http.Client, endpoint string, form url.Values, id, secret string, out any) error {
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(id, secret)
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	body, err := readAll(resp)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %d %.200s", endpoint, resp.StatusCode, body)
	}
	if out != nil {
		return json.Unmarshal([]byte(body), out)
	}
	return nil
}

func readAll(resp *http.Response) (string, error) {
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

func (f *fixtures) discovery(c *http.Client, base string) func(int) (step, error) {
	return func(int) (step, error) {
		n := 0
		return func(ctx context.Context) error {
			n++
			path := "/.well-known/openid-configuration"
			if n%2 == 0 {
				path = "/keys"
			}
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+path, nil)
			resp, err := c.Do(req)
			if err != nil {
				return err
			}
			drain(resp)
			if resp.StatusCode != http.StatusOK {
				return fmt.Errorf("%s: %d", path, resp.StatusCode)
			}
			return nil
		}, nil
	}
}

func (f *fixtures) clientCredentials(c *http.Client, base string) func(int) (step, error) {
	return func(int) (step, error) {
		form := url.Values{"grant_type": {"client_credentials"}}
		return func(ctx context.Context) error {
			var t tokens
			if err := postToken(ctx, c, base+"/oauth/token", form, ccClientID, ccSecret, &t); err != nil {
				return err
			}
			if t.Access == "" {
				return errors.New("no access token")
			}
			return nil
		}, nil
	}
}

// signedIn makes a scenario whose virtual users first sign in once (user vu) and then
// repeat a step with the tokens.
func (f *fixtures) signedIn(base, scope string, mk func(t *tokens) step) func(int) (step, error) {
	return func(vu int) (step, error) {
		t, err := f.signInOnce(context.Background(), base, vu, scope)
		if err != nil {
			return nil, err
		}
		return mk(t), nil
	}
}

func (f *fixtures) userinfo(c *http.Client, base string) func(int) (step, error) {
	return f.signedIn(base, benchScopes, func(t *tokens) step {
		return func(ctx context.Context) error {
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/userinfo", nil)
			req.Header.Set("Authorization", "Bearer "+t.Access)
			resp, err := c.Do(req)
			if err != nil {
				return err
			}
			body, err := readAll(resp)
			if err != nil {
				return err
			}
			if resp.StatusCode != http.StatusOK || !strings.Contains(body, `"email"`) {
				return fmt.Errorf("userinfo: %d %.200s", resp.StatusCode, body)
			}
			return nil
		}
	})
}

func (f *fixtures) introspection(c *http.Client, base string) func(int) (step, error) {
	return f.signedIn(base, benchScopes, func(t *tokens) step {
		form := url.Values{"token": {t.Access}}
		return func(ctx context.Context) error {
			var out struct {
				Active bool `json:"active"`
			}
			if err := postToken(ctx, c, base+"/oauth/introspect", form, webClientID, webSecret, &out); err != nil {
				return err
			}
			if !out.Active {
				return errors.New("introspection says inactive")
			}
			return nil
		}
	})
}

func (f *fixtures) refresh(c *http.Client, base string) func(int) (step, error) {
	return f.signedIn(base, offlineScopes, func(t *tokens) step {
		current := t.Refresh
		return func(ctx context.Context) error {
			var next tokens
			form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {current}}
			if err := postToken(ctx, c, base+"/oauth/token", form, webClientID, webSecret, &next); err != nil {
				return err
			}
			if next.Refresh == "" || next.Refresh == current || next.IDToken == "" {
				return errors.New("refresh did not rotate")
			}
			current = next.Refresh
			return nil
		}
	})
}

func (f *fixtures) signin(base string) func(int) (step, error) {
	return func(vu int) (step, error) {
		user := f.users - 1 - vu // users no other scenario signs in with
		return func(ctx context.Context) error {
			_, err := f.signInOnce(ctx, base, user, benchScopes)
			return err
		}, nil
	}
}
