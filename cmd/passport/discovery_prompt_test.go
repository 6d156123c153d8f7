package main

import (
	"encoding/json"
	"net/http"
	"slices"
	"testing"
)

// TestDiscoveryListsPromptValues: discovery says which prompt values Passport honours, with
// "create" only while self sign-up is on (OpenID Connect Prompt Create 1.0 §4).
func TestDiscoveryListsPromptValues(t *testing.T) {
	for _, c := range []struct {
		env  []string
		want []string
	}{
		{nil, []string{"none", "login", "consent"}},
		{[]string{"PASSPORT_SIGNUP_ENABLED", "true"}, []string{"none", "login", "consent", "create"}},
	} {
		srv := startServer(t, "", c.env...)
		resp, err := http.Get(srv.URL + "/.well-known/openid-configuration")
		if err != nil {
			t.Fatal(err)
		}
		var d struct {
			Issuer  string   `json:"issuer"`
			Prompts []string `json:"prompt_values_supported"`
		}
		err = json.NewDecoder(resp.Body).Decode(&d)
		resp.Body.Close()
		if err != nil || d.Issuer != srv.Issuer || !slices.Equal(d.Prompts, c.want) {
			t.Errorf("%v: issuer %q prompts %v (%v), want %v", c.env, d.Issuer, d.Prompts, err, c.want)
		}
	}
}
