package main

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// TestJSONDocumentsAnswerJSONErrors: an unknown person's profile.json is a JSON 404, not the
// HTML page, and the API refuses a missing CSRF token with words for a program.
func TestJSONDocumentsAnswerJSONErrors(t *testing.T) {
	srv := startServer(t, "")
	setupSelfUser(t, "walker", "first-walk-through-1")
	resp, err := http.Get(srv.URL + "/people/00000000-0000-0000-0000-000000000000/profile.json")
	if err != nil {
		t.Fatal(err)
	}
	var body map[string]any
	err = json.NewDecoder(resp.Body).Decode(&body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") || err != nil {
		t.Errorf("unknown profile.json: %d %s %v", resp.StatusCode, resp.Header.Get("Content-Type"), err)
	}

	b := newBrowser(t, srv)
	signInDirectly(t, b, "walker", "first-walk-through-1")
	req, _ := http.NewRequest(http.MethodPatch, srv.URL+"/api/v1/me", strings.NewReader(`{"nickname":"x"}`))
	req.Header.Set("Content-Type", "application/json")
	resp, err = b.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var refusal struct {
		Error struct{ Code, Message string }
	}
	err = json.NewDecoder(resp.Body).Decode(&refusal)
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden || err != nil || !strings.Contains(refusal.Error.Message, "X-CSRF-Token") ||
		strings.Contains(refusal.Error.Message, "form") {
		t.Errorf("API without its CSRF token: %d %+v %v", resp.StatusCode, refusal, err)
	}
}
