package main

import (
	"bytes"
	"context"
	"encoding/json"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"mime/multipart"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/emersion/go-vcard"
	"golang.org/x/oauth2"
)

// userinfo calls /userinfo with a token and returns the claims.
func userinfo(t *testing.T, srv *server, tok *oauth2.Token) map[string]any {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/userinfo", nil)
	tok.SetAuthHeader(req)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body := readBody(t, resp)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("userinfo: %d %s", resp.StatusCode, body)
	}
	var out map[string]any
	if err := json.Unmarshal([]byte(body), &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// api calls /api/v1 with the browser's session cookie (and its CSRF token for unsafe
// methods), or with a bearer token when token is not "".
func api(t *testing.T, b *browser, method, path, token string, body any) (int, map[string]any) {
	t.Helper()
	var rd io.Reader
	ctype := ""
	switch v := body.(type) {
	case nil:
	case []byte:
		rd, ctype = bytes.NewReader(v), "image/png"
	default:
		j, _ := json.Marshal(v)
		rd, ctype = bytes.NewReader(j), "application/json"
	}
	req, _ := http.NewRequest(method, b.base+"/api/v1"+path, rd)
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	} else if method != http.MethodGet {
		_, page := b.get(b.base + "/profile")
		req.Header.Set("X-CSRF-Token", hidden(page).Get("csrf"))
	}
	client := b.Client
	if token != "" {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	raw := readBody(t, resp)
	var out map[string]any
	if raw != "" {
		_ = json.Unmarshal([]byte(raw), &out)
	}
	return resp.StatusCode, out
}

func pngImage(t *testing.T, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for x := 0; x < w; x++ {
		for y := 0; y < h; y++ {
			img.Set(x, y, color.RGBA{uint8(x), uint8(y), 128, 255})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// jpegWithEXIF is a JPEG carrying an EXIF block with a recognisable secret in it.
func jpegWithEXIF(t *testing.T, secret string) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, image.NewGray(image.Rect(0, 0, 64, 48)), nil); err != nil {
		t.Fatal(err)
	}
	j := buf.Bytes()
	payload := append([]byte("Exif\x00\x00"), []byte(secret)...)
	seg := append([]byte{0xFF, 0xE1, byte((len(payload) + 2) >> 8), byte(len(payload) + 2)}, payload...)
	return append(append(append([]byte{}, j[:2]...), seg...), j[2:]...) // after SOI
}

func uploadPhotoForm(t *testing.T, b *browser, data []byte, filename string) (*http.Response, string) {
	t.Helper()
	_, page := b.get(b.base + "/profile/edit")
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	_ = w.WriteField("csrf", hidden(page).Get("csrf"))
	fw, _ := w.CreateFormFile("photo", filename)
	_, _ = fw.Write(data)
	_ = w.Close()
	req, _ := http.NewRequest(http.MethodPost, b.base+"/profile/photo", &body)
	req.Header.Set("Content-Type", w.FormDataContentType())
	resp, err := b.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp, readBody(t, resp)
}

// TestPublicityAndConsentEndToEnd: what an application sees follows publicity and consent
// at every call, through a relying-party library we did not write.
func TestPublicityAndConsentEndToEnd(t *testing.T) {
	srv := startServer(t, "")
	secret := setupClient(t, "pub-web")
	sub := setupSelfUser(t, "rosalind", "photo-fifty-one-51")
	b := newBrowser(t, srv)
	signInDirectly(t, b, "rosalind", "photo-fifty-one-51")
	// Public name public (default), email public, birth date and phone on request.
	if s, out := api(t, b, http.MethodPatch, "/me", "", map[string]any{"nickname": "rosie", "birthdate": "1920-07-25"}); s != http.StatusOK {
		t.Fatalf("patch: %d %v", s, out)
	}
	if s, out := api(t, b, http.MethodPatch, "/me/publicity", "", map[string]any{"fields": map[string]string{
		"email": "public", "given_name": "public", "family_name": "public", "login": "public", "birthdate": "on_request"}}); s != http.StatusOK {
		t.Fatalf("publicity: %d %v", s, out)
	}

	t.Run("public fields need no consent screen", func(t *testing.T) {
		rp := newRP(t, srv, "pub-web", secret, "profile", "email", "offline_access")
		rp.oauth.Scopes = []string{"openid", "email"}
		v := oauth2.GenerateVerifier()
		resp, _ := b.get(rp.authURL("p1", v))
		q := redirectParams(t, resp, rpCallback) // straight back: no page in between
		tok, err := rp.exchange(q.Get("code"), v)
		if err != nil {
			t.Fatal(err)
		}
		if got := userinfo(t, srv, tok); got["email"] != "rosalind@example.com" {
			t.Errorf("public email not released: %v", got)
		}
	})

	rp := newRP(t, srv, "pub-web", secret, "profile", "email", "phone", "offline_access")
	t.Run("the consent screen lists exactly the on-request fields", func(t *testing.T) {
		_, page := b.get(rp.authURL("p2", oauth2.GenerateVerifier()))
		boxes := regexp.MustCompile(`name="share_([a-z_]+)"`).FindAllStringSubmatch(page, -1)
		var got []string
		for _, m := range boxes {
			got = append(got, m[1])
		}
		// birthdate is on request and set; phone is on request but empty; picture has no photo.
		if !slices.Equal(got, []string{"birthdate"}) {
			t.Errorf("checkboxes: got %v, want [birthdate]", got)
		}
		for _, public := range []string{"rosie", "rosalind@example.com"} {
			if !strings.Contains(page, public) {
				t.Errorf("consent page does not show public value %q", public)
			}
		}
	})

	v := oauth2.GenerateVerifier()
	q := walk(t, b, rp.authURL("p3", v), "", "", "allow")
	tok, err := rp.exchange(q.Get("code"), v)
	if err != nil {
		t.Fatal(err)
	}
	got := userinfo(t, srv, tok)
	if got["sub"] != sub || got["birthdate"] != "1920-07-25" || got["email"] != "rosalind@example.com" || got["nickname"] != "rosie" {
		t.Fatalf("after consent: %v", got)
	}
	if _, ok := got["phone_number"]; ok {
		t.Errorf("empty phone released: %v", got)
	}

	t.Run("a field made private disappears at the next call", func(t *testing.T) {
		if s, _ := api(t, b, http.MethodPatch, "/me/publicity", "", map[string]any{"fields": map[string]string{"email": "private"}}); s != http.StatusOK {
			t.Fatal(s)
		}
		got := userinfo(t, srv, tok)
		if _, ok := got["email"]; ok {
			t.Errorf("private email still released: %v", got)
		}
		if got := introspect(t, srv, tok.AccessToken, "pub-web", secret); got["email"] != nil || got["active"] != true {
			t.Errorf("introspection releases a private email: %v", got)
		}
		api(t, b, http.MethodPatch, "/me/publicity", "", map[string]any{"private_profile": true})
		for k := range userinfo(t, srv, tok) {
			if k != "sub" {
				t.Errorf("private profile still releases %s", k)
			}
		}
		api(t, b, http.MethodPatch, "/me/publicity", "", map[string]any{"private_profile": false})
	})

	t.Run("revoking an app's consent makes its refresh token fail", func(t *testing.T) {
		s, out := api(t, b, http.MethodGet, "/me/apps", "", nil)
		if s != http.StatusOK || !strings.Contains(toJSON(out), `"client_id":"pub-web"`) {
			t.Fatalf("apps: %d %v", s, out)
		}
		if s, _ := api(t, b, http.MethodDelete, "/me/apps/pub-web", "", nil); s != http.StatusNoContent {
			t.Fatalf("revoke: %d", s)
		}
		if _, err := rp.oauth.TokenSource(context.Background(), &oauth2.Token{RefreshToken: tok.RefreshToken}).Token(); oauthErrorCode(err) != "invalid_grant" {
			t.Errorf("refresh after revocation: got %v, want invalid_grant", err)
		}
		if got := introspect(t, srv, tok.AccessToken, "pub-web", secret); got["active"] != false {
			t.Errorf("access token after revocation: %v", got)
		}
		if s, _ := api(t, b, http.MethodDelete, "/me/apps/pub-web", "", nil); s != http.StatusNotFound {
			t.Errorf("revoking twice: got %d, want 404", s)
		}
		// Consent is asked again.
		if _, page := b.get(rp.authURL("p4", oauth2.GenerateVerifier())); !strings.Contains(page, `name="share_birthdate"`) {
			t.Error("after revocation the consent screen should come back")
		}
	})

	t.Run("a no is remembered and not released", func(t *testing.T) {
		v := oauth2.GenerateVerifier()
		_, page := b.get(rp.authURL("p5", v))
		form := hidden(page)
		form.Del("share_birthdate") // untick
		form.Set("decision", "allow")
		resp, _ := b.post("/consent", form)
		q := redirectParams(t, resp, rpCallback)
		tok, err := rp.exchange(q.Get("code"), v)
		if err != nil {
			t.Fatal(err)
		}
		if got := userinfo(t, srv, tok); got["birthdate"] != nil {
			t.Errorf("declined birthdate released: %v", got)
		}
		resp, _ = b.get(rp.authURL("p6", oauth2.GenerateVerifier()))
		redirectParams(t, resp, rpCallback) // no screen: the no was a decision
	})
}

func toJSON(v any) string { b, _ := json.Marshal(v); return string(b) }

// TestProfileEditingAndBadInput: every bad input is a clear message and changes nothing.
func TestProfileEditingAndBadInput(t *testing.T) {
	srv := startServer(t, "")
	setupSelfUser(t, "barbara", "liskov-substitution-1")
	b := newBrowser(t, srv)
	signInDirectly(t, b, "barbara", "liskov-substitution-1")
	_, before := api(t, b, http.MethodGet, "/me", "", nil)

	for name, tc := range map[string]struct {
		path  string
		body  any
		field string
	}{
		"birth date in the future": {"/me", map[string]any{"birthdate": "2999-01-01", "nickname": "changed"}, "birthdate"},
		"birth date not a date":    {"/me", map[string]any{"birthdate": "yesterday"}, "birthdate"},
		"bad language tag":         {"/me", map[string]any{"locale": "not a language!"}, "locale"},
		"name with control chars":  {"/me", map[string]any{"given_name": "Bar\u0007bara"}, "given_name"},
		"unknown publicity level":  {"/me/publicity", map[string]any{"fields": map[string]string{"email": "friends", "nickname": "private"}}, "email"},
		"unknown field":            {"/me/publicity", map[string]any{"fields": map[string]string{"shoe_size": "public"}}, "shoe_size"},
	} {
		t.Run(name, func(t *testing.T) {
			s, out := api(t, b, http.MethodPatch, tc.path, "", tc.body)
			errObj, _ := out["error"].(map[string]any)
			fields, _ := errObj["fields"].(map[string]any)
			if s != http.StatusUnprocessableEntity || fields[tc.field] == nil || errObj["message"] == "" {
				t.Errorf("got %d %v; want 422 with a message for %s", s, out, tc.field)
			}
		})
	}
	for name, body := range map[string]string{"unknown JSON key": `{"nick": "x"}`, "not JSON": `nickname=x`} {
		req, _ := http.NewRequest(http.MethodPatch, srv.URL+"/api/v1/me", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		_, page := b.get(srv.URL + "/profile")
		req.Header.Set("X-CSRF-Token", hidden(page).Get("csrf"))
		resp, _ := b.Do(req)
		readBody(t, resp)
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("%s: got %d, want 400", name, resp.StatusCode)
		}
	}
	if _, after := api(t, b, http.MethodGet, "/me", "", nil); toJSON(after) != toJSON(before) {
		t.Errorf("bad input changed the profile:\n%v\n%v", before, after)
	}

	t.Run("form errors stand next to the field", func(t *testing.T) {
		_, page := b.get(srv.URL + "/profile/edit")
		form := hidden(page)
		form.Set("nickname", "new-nick")
		form.Set("birthdate", "2999-12-31")
		resp, page := b.post("/profile/edit", form)
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(page, `id="e-birthdate"`) || !strings.Contains(page, "cannot be in the future") {
			t.Fatalf("got %d %.300s", resp.StatusCode, page)
		}
		if !strings.Contains(page, `value="new-nick"`) {
			t.Error("the form should keep what was typed")
		}
		_, me := api(t, b, http.MethodGet, "/me", "", nil)
		if me["nickname"] == "new-nick" {
			t.Error("nickname saved although the birth date was wrong")
		}
		form.Set("birthdate", "1939-11-07")
		if resp, _ := b.post("/profile/edit", form); resp.Request.URL.Path != "/profile" {
			t.Fatalf("valid edit ended at %s", resp.Request.URL)
		}
		if _, me := api(t, b, http.MethodGet, "/me", "", nil); me["nickname"] != "new-nick" || me["birthdate"] != "1939-11-07" {
			t.Errorf("saved: %v", me)
		}
	})

	t.Run("CSRF is required for the cookie API", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodPatch, srv.URL+"/api/v1/me", strings.NewReader(`{"nickname":"csrf"}`))
		req.Header.Set("Content-Type", "application/json")
		resp, _ := b.Do(req)
		readBody(t, resp)
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("no CSRF header: got %d, want 403", resp.StatusCode)
		}
		resp, err := http.Get(srv.URL + "/api/v1/me")
		if err != nil {
			t.Fatal(err)
		}
		readBody(t, resp)
		if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("WWW-Authenticate") == "" {
			t.Errorf("anonymous: got %d", resp.StatusCode)
		}
	})
}

// TestLockedFields: an admin-issued account cannot change its names; the control is hidden
// and the server refuses, naming the administrator.
func TestLockedFields(t *testing.T) {
	srv := startServer(t, "")
	setupUser(t, "issued", "admin-made-account-1") // `user create` makes admin accounts
	b := newBrowser(t, srv)
	signInDirectly(t, b, "issued", "admin-made-account-1")
	_, page := b.get(srv.URL + "/profile/edit")
	if strings.Contains(page, `name="given_name"`) || !strings.Contains(page, "is managed by your organisation") {
		t.Errorf("the given-name control should be hidden: %.500s", page)
	}
	s, out := api(t, b, http.MethodPatch, "/me", "", map[string]any{"given_name": "Someone", "nickname": "ok"})
	if s != http.StatusUnprocessableEntity || !strings.Contains(toJSON(out), "administrator") {
		t.Errorf("locked field: %d %v", s, out)
	}
	form := hidden(page)
	form.Set("given_name", "Forged")
	form.Set("nickname", "nick")
	if resp, page := b.post("/profile/edit", form); resp.StatusCode != http.StatusBadRequest || !strings.Contains(page, "administrator") {
		t.Errorf("forged form: %d", resp.StatusCode)
	}
	if _, me := api(t, b, http.MethodGet, "/me", "", nil); me["given_name"] != "Ada" || me["nickname"] == "nick" {
		t.Errorf("locked edit changed something: %v", me)
	}
}

// TestPhotos: upload, re-encoding without metadata, serving, claims, URL rotation, limits.
func TestPhotos(t *testing.T) {
	srv := startServer(t, "", "PASSPORT_PROFILE_PHOTO_MAX_BYTES", "200000")
	setupSelfUser(t, "dorothy", "crystallography-64")
	b := newBrowser(t, srv)
	signInDirectly(t, b, "dorothy", "crystallography-64")
	ctx := context.Background()

	resp, page := uploadPhotoForm(t, b, jpegWithEXIF(t, "GPS-SECRET-LOCATION"), "holiday.txt") // name says nothing
	if resp.Request.URL.Path != "/profile" {
		t.Fatalf("upload ended at %s: %.300s", resp.Request.URL, page)
	}
	_, me := api(t, b, http.MethodGet, "/me", "", nil)
	photoURL, _ := me["picture"].(string)
	if !strings.HasPrefix(photoURL, srv.Issuer+"/photos/") {
		t.Fatalf("picture: %v", me["picture"])
	}
	resp, err := http.Get(photoURL)
	if err != nil {
		t.Fatal(err)
	}
	img := readBody(t, resp)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "image/jpeg" || resp.Header.Get("ETag") == "" ||
		!strings.Contains(resp.Header.Get("Cache-Control"), "max-age") {
		t.Fatalf("photo: %d %v", resp.StatusCode, resp.Header)
	}
	if strings.Contains(img, "GPS-SECRET-LOCATION") || strings.Contains(img, "Exif") {
		t.Error("the stored photo kept its EXIF block")
	}
	req, _ := http.NewRequest(http.MethodGet, photoURL, nil)
	req.Header.Set("If-None-Match", resp.Header.Get("ETag"))
	if resp, _ := http.DefaultClient.Do(req); resp.StatusCode != http.StatusNotModified {
		t.Errorf("conditional GET: %d", resp.StatusCode)
	}

	// Narrowing the photo's publicity changes its URL: the old one stops working.
	api(t, b, http.MethodPatch, "/me/publicity", "", map[string]any{"fields": map[string]string{"picture": "private"}})
	if resp, _ := http.Get(photoURL); resp.StatusCode != http.StatusNotFound {
		t.Errorf("old photo URL after making it private: %d", resp.StatusCode)
	}

	// A large PNG is scaled down; through the API with a raw body.
	if s, out := api(t, b, http.MethodPut, "/me/photo", "", pngImage(t, 900, 300)); s != http.StatusOK {
		t.Fatalf("API upload: %d %v", s, out)
	}
	var w, h int
	if err := openDB(t).Pool().QueryRow(ctx, `SELECT width, height FROM photos p JOIN accounts a ON a.id = p.account_id WHERE a.login = 'dorothy'`).Scan(&w, &h); err != nil {
		t.Fatal(err)
	}
	if w != 512 || h != 170 {
		t.Errorf("stored size %dx%d, want 512x170", w, h)
	}

	for name, data := range map[string][]byte{
		"not an image":  []byte("%PDF-1.4 this is not an image at all"),
		"too large":     bytes.Repeat([]byte{0xFF}, 300000),
		"truncated PNG": pngImage(t, 50, 50)[:60],
	} {
		t.Run(name, func(t *testing.T) {
			_, before := api(t, b, http.MethodGet, "/me", "", nil)
			wantAPI, wantForm := http.StatusUnprocessableEntity, http.StatusBadRequest
			if name == "too large" { // refused before the body is read
				wantAPI, wantForm = http.StatusRequestEntityTooLarge, http.StatusRequestEntityTooLarge
			}
			s, out := api(t, b, http.MethodPut, "/me/photo", "", data)
			if s != wantAPI || !strings.Contains(toJSON(out), "photo") {
				t.Errorf("API: got %d %v, want %d", s, out, wantAPI)
			}
			resp, page := uploadPhotoForm(t, b, data, "photo.png")
			if resp.StatusCode != wantForm || !(strings.Contains(page, `id="photo-error"`) || strings.Contains(page, "too large")) {
				t.Errorf("form: got %d", resp.StatusCode)
			}
			if _, after := api(t, b, http.MethodGet, "/me", "", nil); after["picture"] != before["picture"] {
				t.Error("a refused upload changed the photo")
			}
		})
	}
	if s, _ := api(t, b, http.MethodDelete, "/me/photo", "", nil); s != http.StatusNoContent {
		t.Errorf("delete: %d", s)
	}
	if s, out := api(t, b, http.MethodDelete, "/me/photo", "", nil); s != http.StatusNotFound {
		t.Errorf("delete twice: %d %v", s, out)
	}
}

// TestPublicProfileAndVCard: public fields only; a private profile shows nothing.
func TestPublicProfileAndVCard(t *testing.T) {
	srv := startServer(t, "")
	sub := setupSelfUser(t, "hedy", "frequency-hopping-42")
	b := newBrowser(t, srv)
	signInDirectly(t, b, "hedy", "frequency-hopping-42")
	api(t, b, http.MethodPatch, "/me", "", map[string]any{"nickname": "hedy", "birthdate": "1914-11-09"})
	api(t, b, http.MethodPatch, "/me/publicity", "", map[string]any{"fields": map[string]string{"email": "public", "birthdate": "private"}})
	api(t, b, http.MethodPut, "/me/photo", "", pngImage(t, 40, 40))

	resp, err := http.Get(srv.URL + "/people/" + sub + "/contact.vcf")
	if err != nil {
		t.Fatal(err)
	}
	body := readBody(t, resp)
	if !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/vcard") {
		t.Errorf("content type %q", resp.Header.Get("Content-Type"))
	}
	card, err := vcard.NewDecoder(strings.NewReader(body)).Decode()
	if err != nil {
		t.Fatalf("vCard does not parse: %v\n%s", err, body)
	}
	if card.Value(vcard.FieldVersion) != "3.0" || card.Value(vcard.FieldUID) != "urn:uuid:"+sub ||
		card.Value(vcard.FieldNickname) != "hedy" || card.Value(vcard.FieldEmail) != "hedy@example.com" ||
		card.Value(vcard.FieldFormattedName) != "hedy" || !strings.Contains(card.Value(vcard.FieldPhoto), "/photos/") {
		t.Errorf("vCard fields:\n%s", body)
	}
	if card.Value(vcard.FieldBirthday) != "" || card.Get(vcard.FieldTelephone) != nil {
		t.Errorf("vCard has private fields:\n%s", body)
	}
	if n := card.Name(); n == nil || n.GivenName != "" || n.FamilyName != "" {
		t.Errorf("on-request names leaked into N: %+v", n)
	}
	if _, err := card.Revision(); err != nil {
		t.Errorf("REV: %v", err)
	}

	_, page := newBrowser(t, srv).get(srv.URL + "/people/" + sub)
	if !strings.Contains(page, "hedy@example.com") || strings.Contains(page, "Lovelace") || strings.Contains(page, "1914") {
		t.Errorf("public page shows the wrong fields: %.600s", page)
	}

	api(t, b, http.MethodPatch, "/me/publicity", "", map[string]any{"private_profile": true})
	resp, _ = http.Get(srv.URL + "/people/" + sub + "/profile.json")
	var pub map[string]any
	_ = json.Unmarshal([]byte(readBody(t, resp)), &pub)
	if pub["private"] != true || pub["email"] != nil || pub["nickname"] != nil || pub["picture"] != nil {
		t.Errorf("private profile JSON: %v", pub)
	}
	resp, _ = http.Get(srv.URL + "/people/" + sub + "/contact.vcf")
	body = readBody(t, resp)
	if strings.Contains(body, "hedy") || strings.Contains(body, "PHOTO") {
		t.Errorf("private profile vCard has personal fields:\n%s", body)
	}
	if _, page := newBrowser(t, srv).get(srv.URL + "/people/" + sub); !strings.Contains(page, "This profile is private") {
		t.Error("private profile page does not say so")
	}
	if resp, _ := http.Get(srv.URL + "/people/00000000-0000-4000-8000-000000000000"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("unknown person: %d", resp.StatusCode)
	}
}

// TestExport: the JSON export holds every stored field regardless of publicity.
func TestExport(t *testing.T) {
	srv := startServer(t, "")
	secret := setupClient(t, "exp-web")
	sub := setupSelfUser(t, "katherine", "orbital-mechanics-62")
	b := newBrowser(t, srv)
	rp := newRP(t, srv, "exp-web", secret, "profile")
	rp.signIn(b, "e", oauth2.GenerateVerifier(), "katherine", "orbital-mechanics-62")
	api(t, b, http.MethodPatch, "/me", "", map[string]any{"birthdate": "1918-08-26", "locale": "sv"})
	api(t, b, http.MethodPatch, "/me/publicity", "", map[string]any{"fields": map[string]string{"email": "private"}, "private_profile": true})

	resp, body := b.get(srv.URL + "/profile/export")
	if !strings.Contains(resp.Header.Get("Content-Disposition"), "attachment") {
		t.Errorf("export is not a download: %v", resp.Header)
	}
	var x struct {
		Account        map[string]any    `json:"account"`
		Publicity      map[string]string `json:"publicity"`
		PrivateProfile bool              `json:"private_profile"`
		Consents       []map[string]any  `json:"consents"`
		Sessions       []map[string]any  `json:"sessions"`
		ConnectedApps  []map[string]any  `json:"connected_apps"`
	}
	if err := json.Unmarshal([]byte(body), &x); err != nil {
		t.Fatal(err)
	}
	a, err := openDB(t).Account(context.Background(), sub)
	if err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]any{"id": a.ID, "login": a.Login, "email": a.Email, "given_name": a.GivenName,
		"family_name": a.FamilyName, "birthdate": "1918-08-26", "locale": "sv", "status": a.Status} {
		if x.Account[k] != want {
			t.Errorf("export account.%s = %v, want %v", k, x.Account[k], want)
		}
	}
	if x.Publicity["email"] != "private" || !x.PrivateProfile || len(x.Sessions) == 0 || len(x.ConnectedApps) != 1 || len(x.Consents) == 0 {
		t.Errorf("export: publicity %v private %v sessions %d apps %d consents %d", x.Publicity, x.PrivateProfile, len(x.Sessions), len(x.ConnectedApps), len(x.Consents))
	}
	if _, out := api(t, b, http.MethodGet, "/me/export", "", nil); out["account"] == nil {
		t.Error("API export is empty")
	}
	resp, policy := b.get(srv.URL + "/policy?download=1")
	// In the account's language, sv.
	if resp.StatusCode != http.StatusOK || !strings.Contains(policy, "Policy för behandling av personuppgifter") || !strings.Contains(resp.Header.Get("Content-Disposition"), "attachment") {
		t.Errorf("policy: %d %.100s", resp.StatusCode, policy)
	}
}

// TestAccountAPIWithBearerToken: a first-party client with passport:account manages the
// account with an access token; a token without that scope is refused.
func TestAccountAPIWithBearerToken(t *testing.T) {
	srv := startServer(t, "")
	secret := setupClient(t, "first-party", "--scope", "passport:account")
	otherSecret := setupClient(t, "third-party")
	setupSelfUser(t, "grace2", "first-party-app-1")
	b := newBrowser(t, srv)
	rp := newRP(t, srv, "first-party", secret, "passport:account")
	v := oauth2.GenerateVerifier()
	tok, err := rp.exchange(rp.signIn(b, "fp", v, "grace2", "first-party-app-1"), v)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(tok.Extra("scope").(string), "passport:account") {
		t.Fatalf("scope not granted: %v", tok.Extra("scope"))
	}
	s, out := api(t, b, http.MethodPatch, "/me", tok.AccessToken, map[string]any{"nickname": "via-token"})
	if s != http.StatusOK || out["nickname"] != "via-token" {
		t.Fatalf("bearer PATCH: %d %v", s, out)
	}
	third := newRP(t, srv, "third-party", otherSecret, "passport:account") // not allowed: dropped
	v = oauth2.GenerateVerifier()
	tok3, err := third.exchange(third.signIn(b, "tp", v, "", ""), v)
	if err != nil {
		t.Fatal(err)
	}
	if s, _ := api(t, b, http.MethodGet, "/me", tok3.AccessToken, nil); s != http.StatusForbidden {
		t.Errorf("token without passport:account: got %d, want 403", s)
	}
	if s, _ := api(t, b, http.MethodGet, "/me", "garbage", nil); s != http.StatusUnauthorized {
		t.Errorf("garbage token: got %d, want 401", s)
	}
}

// TestRequiredFieldsAskedAtSignIn: an empty required field is asked for before the
// application gets the person back.
func TestRequiredFieldsAskedAtSignIn(t *testing.T) {
	srv := startServer(t, "", "PASSPORT_PROFILE_REQUIRED_FIELDS", "nickname,email")
	secret := setupClient(t, "req-web")
	setupSelfUser(t, "required", "fill-it-in-2024")
	rp := newRP(t, srv, "req-web", secret, "profile")
	b := newBrowser(t, srv)
	_, page := b.get(rp.authURL("r", oauth2.GenerateVerifier()))
	form := hidden(page)
	form.Set("login", "required")
	form.Set("password", "fill-it-in-2024")
	resp, page := b.post("/signin", form)
	if resp.Request.URL.Path != "/signin/complete" || !strings.Contains(page, `name="nickname"`) || strings.Contains(page, `name="email"`) {
		t.Fatalf("want the completion form for the nickname only, got %s: %.400s", resp.Request.URL, page)
	}
	resp, page = b.post("/signin/complete", hidden(page))
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(page, "is required") {
		t.Fatalf("empty submit: %d", resp.StatusCode)
	}
	form = hidden(page)
	form.Set("nickname", "filled")
	resp, page = b.post("/signin/complete", form)
	for step := 0; step < 3 && !strings.HasPrefix(resp.Header.Get("Location"), rpCallback); step++ {
		if !strings.Contains(page, `action="/consent"`) {
			t.Fatalf("after completion: %s %.300s", resp.Request.URL, page)
		}
		f := hidden(page)
		f.Set("decision", "allow")
		resp, page = b.post("/consent", f)
	}
	if q := redirectParams(t, resp, rpCallback); q.Get("code") == "" {
		t.Fatalf("no code: %v", q)
	}
	// Saving the profile with the field empty again is allowed, with a note.
	_, me := api(t, b, http.MethodPatch, "/me", "", map[string]any{"nickname": ""})
	if missing, _ := me["missing_required_fields"].([]any); len(missing) != 1 {
		t.Errorf("missing fields: %v", me["missing_required_fields"])
	}
	if _, page := b.get(srv.URL + "/profile"); !strings.Contains(page, "Your profile is missing: Public name") {
		t.Error("the profile page does not mention the missing field")
	}
}

// TestConnectedAppsPage: the cabinet lists what each app receives and disconnects it.
func TestConnectedAppsPage(t *testing.T) {
	srv := startServer(t, "")
	secret := setupClient(t, "apps-web")
	setupSelfUser(t, "annie", "harvard-computer-1")
	b := newBrowser(t, srv)
	rp := newRP(t, srv, "apps-web", secret, "profile", "email", "offline_access")
	v := oauth2.GenerateVerifier()
	tok, err := rp.exchange(rp.signIn(b, "a", v, "annie", "harvard-computer-1"), v)
	if err != nil {
		t.Fatal(err)
	}
	_, page := b.get(srv.URL + "/profile/apps")
	if !strings.Contains(page, "App apps-web") || !strings.Contains(page, "annie@example.com") {
		t.Fatalf("apps page: %.600s", page)
	}
	form := hidden(page)
	form.Set("confirm", "yes") // what the confirmation page sends
	resp, page := b.post("/profile/apps/revoke", form)
	if resp.Request.URL.Path != "/profile/apps" || !strings.Contains(page, "disconnected") || strings.Contains(page, "App apps-web") {
		t.Fatalf("after disconnect: %s %.400s", resp.Request.URL, page)
	}
	rp.grantRevoked(t, tok, secret, "disconnecting")
}

// TestDisconnectCutsEverything: after a disconnect, a code issued before it yields nothing,
// and the photo URL the app received stops working.
func TestDisconnectCutsEverything(t *testing.T) {
	srv := startServer(t, "")
	secret := setupClient(t, "cut-web")
	setupSelfUser(t, "cutter", "disconnect-me-now-1")
	b := newBrowser(t, srv)
	signInDirectly(t, b, "cutter", "disconnect-me-now-1")
	api(t, b, http.MethodPut, "/me/photo", "", pngImage(t, 20, 20))
	api(t, b, http.MethodPatch, "/me/publicity", "", map[string]any{"fields": map[string]string{"picture": "on_request"}})
	rp := newRP(t, srv, "cut-web", secret, "profile")
	v := oauth2.GenerateVerifier()
	tok, err := rp.exchange(rp.signIn(b, "c1", v, "", ""), v)
	if err != nil {
		t.Fatal(err)
	}
	photo, _ := userinfo(t, srv, tok)["picture"].(string)
	if photo == "" {
		t.Fatal("no picture released after consent")
	}
	v2 := oauth2.GenerateVerifier()
	code := rp.signIn(b, "c2", v2, "", "") // issued, not yet exchanged
	if s, _ := api(t, b, http.MethodDelete, "/me/apps/cut-web", "", nil); s != http.StatusNoContent {
		t.Fatal(s)
	}
	if _, err := rp.exchange(code, v2); oauthErrorCode(err) != "invalid_grant" {
		t.Errorf("code issued before the disconnect: got %v", err)
	}
	if resp, _ := http.Get(photo); resp.StatusCode != http.StatusNotFound {
		t.Errorf("photo URL after the disconnect: %d", resp.StatusCode)
	}
}

// TestConcurrentPhotoUploads: a double click (or two replicas) never gives a 500.
func TestConcurrentPhotoUploads(t *testing.T) {
	srv := startServer(t, "")
	setupSelfUser(t, "clicker", "double-click-22")
	b := newBrowser(t, srv)
	signInDirectly(t, b, "clicker", "double-click-22")
	img := pngImage(t, 30, 30)
	var wg sync.WaitGroup
	statuses := make([]int, 8)
	for i := range statuses {
		wg.Add(1)
		go func() { defer wg.Done(); statuses[i], _ = api(t, b, http.MethodPut, "/me/photo", "", img) }()
	}
	wg.Wait()
	for i, s := range statuses {
		if s != http.StatusOK {
			t.Errorf("upload %d: %d", i, s)
		}
	}
	var n int
	if err := openDB(t).Pool().QueryRow(context.Background(), `SELECT count(*) FROM photos p JOIN accounts a ON a.id = p.account_id WHERE a.login = 'clicker'`).Scan(&n); err != nil || n != 1 {
		t.Errorf("photos stored: %d (%v)", n, err)
	}
}

// TestOversizedBodiesAreRefusedUnread: a huge form post is refused from its length, before
// any check reads it.
func TestOversizedBodiesAreRefusedUnread(t *testing.T) {
	srv := startServer(t, "")
	for _, path := range []string{"/signin", "/profile/photo", "/oauth/token"} {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+path, strings.NewReader(strings.Repeat("x", 8<<20)))
		req.Header.Set("Content-Type", "multipart/form-data; boundary=zzz")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		readBody(t, resp)
		if resp.StatusCode != http.StatusRequestEntityTooLarge {
			t.Errorf("%s: got %d, want 413", path, resp.StatusCode)
		}
	}
}
