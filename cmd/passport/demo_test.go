package main

import (
	"net/http"
	"strings"
	"testing"
)

// TestDemoAccountCanEditEverything: `passport demo` creates a self-registered account, so a
// newcomer can try editing the names and birth date (they are locked on issued accounts),
// and running it again changes nothing.
func TestDemoAccountCanEditEverything(t *testing.T) {
	out := mustCLI(t, "demo")
	if !strings.Contains(out, demoLogin) {
		t.Fatalf("demo output does not name the login: %s", out)
	}
	mustCLI(t, "demo")
	srv := startServer(t, "")
	b := newBrowser(t, srv)
	signInDirectly(t, b, demoLogin, demoPassword)
	code, me := api(t, b, http.MethodPatch, "/me", "", map[string]any{"given_name": "Dana", "family_name": "Moss", "birthdate": "1990-04-23"})
	if code != http.StatusOK || me["given_name"] != "Dana" || me["birthdate"] != "1990-04-23" {
		t.Errorf("editing the demo account's names: %d %v", code, me)
	}
}
