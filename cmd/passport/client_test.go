package main

import (
	"context"
	"net/http"
	"testing"

	openapi_types "github.com/oapi-codegen/runtime/types"
	"golang.org/x/oauth2"

	"github.com/passport-idp/passport/pkg/account"
)

// bearerClient is pkg/account's client with an access token.
func bearerClient(t *testing.T, srv *server, token string) *account.ClientWithResponses {
	t.Helper()
	c, err := account.NewClientWithResponses(srv.URL+"/api/v1", account.WithRequestEditorFn(
		func(_ context.Context, r *http.Request) error {
			r.Header.Set("Authorization", "Bearer "+token)
			return nil
		}))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestGoClientAgainstTheServer: the public Go client (pkg/account, generated from
// docs/openapi.yaml) reads and changes an account through the real server, and decodes
// every answer into the documented types, errors included.
func TestGoClientAgainstTheServer(t *testing.T) {
	srv := startServer(t, "")
	secret := setupClient(t, "go-client-app", "--scope", "passport:account")
	setupSelfUser(t, "gopher", "typed-client-1")
	b := newBrowser(t, srv)
	rp := newRP(t, srv, "go-client-app", secret, "passport:account")
	v := oauth2.GenerateVerifier()
	tok, err := rp.exchange(rp.signIn(b, "gc", v, "gopher", "typed-client-1"), v)
	if err != nil {
		t.Fatal(err)
	}
	c := bearerClient(t, srv, tok.AccessToken)
	ctx := context.Background()

	me, err := c.GetMeWithResponse(ctx)
	if err != nil || me.JSON200 == nil || *me.JSON200.Login != "gopher" || *me.JSON200.GivenName != "Ada" {
		t.Fatalf("GET /me: %v %s", err, me.Body)
	}
	nick, bd := "gopher-typed", openapi_types.Date{}
	if err := bd.UnmarshalText([]byte("1990-04-23")); err != nil {
		t.Fatal(err)
	}
	patched, err := c.PatchMeWithResponse(ctx, account.PatchMeJSONRequestBody{Nickname: &nick, Birthdate: &bd})
	if err != nil || patched.JSON200 == nil || *patched.JSON200.Nickname != nick || patched.JSON200.Birthdate.String() != "1990-04-23" {
		t.Fatalf("PATCH /me: %v %s", err, patched.Body)
	}
	bad := "<b>"
	refused, err := c.PatchMeWithResponse(ctx, account.PatchMeJSONRequestBody{GivenName: &bad})
	if err != nil || refused.JSON422 == nil || (*refused.JSON422.Error.Fields)["given_name"] == "" {
		t.Fatalf("PATCH /me with a bad name: %v %d %s", err, refused.StatusCode(), refused.Body)
	}

	level := account.Publicity("public")
	pub, err := c.PatchMePublicityWithResponse(ctx, account.PatchMePublicityJSONRequestBody{
		Fields: &map[string]account.Publicity{"birthdate": level}})
	if err != nil || pub.JSON200 == nil || (*pub.JSON200.Publicity)["birthdate"] != level {
		t.Fatalf("PATCH /me/publicity: %v %s", err, pub.Body)
	}

	sessions, err := c.GetMeSessionsWithResponse(ctx)
	if err != nil || sessions.JSON200 == nil || len(*sessions.JSON200.Sessions) == 0 {
		t.Fatalf("GET /me/sessions: %v %s", err, sessions.Body)
	}
	apps, err := c.GetMeAppsWithResponse(ctx)
	if err != nil || apps.JSON200 == nil || apps.StatusCode() != http.StatusOK {
		t.Fatalf("GET /me/apps: %v %s", err, apps.Body)
	}
	export, err := c.GetMeExportWithResponse(ctx)
	if err != nil || export.StatusCode() != http.StatusOK {
		t.Fatalf("GET /me/export: %v %s", err, export.Body)
	}

	// Refusals decode into the documented error type.
	anon := bearerClient(t, srv, "not-a-token")
	if r, err := anon.GetMeWithResponse(ctx); err != nil || r.JSON401 == nil || *r.JSON401.Error.Code == "" {
		t.Errorf("GET /me with a bad token: %v %d %s", err, r.StatusCode(), r.Body)
	}
}
