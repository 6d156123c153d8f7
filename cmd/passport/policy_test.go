package main

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPolicyIsAPage: the personal-data policy is a page in the site's layout and the
// reader's language (the Markdown rendered, no `#` showing), with a download of the
// Markdown; an operator's document may have translations beside it, and raw HTML in it
// never reaches the page.
func TestPolicyIsAPage(t *testing.T) {
	srv := startServer(t, "")
	b := newBrowser(t, srv)
	resp, page := b.get(srv.URL + "/policy")
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") ||
		!strings.Contains(page, "<h1>Personal-data processing policy (sample)</h1>") || strings.Contains(page, "\n# ") ||
		!strings.Contains(page, `href="/policy?download=1"`) || resp.Header.Get("Content-Security-Policy") == "" {
		t.Fatalf("policy page: %d %s %.600s", resp.StatusCode, resp.Header.Get("Content-Type"), page)
	}
	resp, md := b.get(srv.URL + "/policy?download=1")
	if !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/markdown") || !strings.HasPrefix(md, "# ") ||
		!strings.Contains(resp.Header.Get("Content-Disposition"), "attachment") {
		t.Errorf("download: %s %s %.100s", resp.Header.Get("Content-Type"), resp.Header.Get("Content-Disposition"), md)
	}
	b.Transport = langTransport{"ru"}
	if _, page := b.get(srv.URL + "/policy"); pageLang(t, page) != "ru" || !strings.Contains(page, "(образец)</h1>") {
		t.Errorf("the policy in Russian: %.400s", page)
	}

	// A signed-in person reads it in their account's language, whatever the browser says.
	reader := newBrowser(t, srv)
	setupSelfUser(t, "policy-reader", "read-the-policy-1")
	signInDirectly(t, reader, "policy-reader", "read-the-policy-1")
	api(t, reader, http.MethodPatch, "/me", "", map[string]any{"locale": "sv"})
	if _, page := reader.get(srv.URL + "/policy"); pageLang(t, page) != "sv" {
		t.Errorf("the policy for a person whose language is sv: lang %s", pageLang(t, page))
	}

	// An operator's document, with an Estonian translation beside it.
	dir := t.TempDir()
	own := filepath.Join(dir, "policy.md")
	os.WriteFile(own, []byte("# Our policy\n\n<script>alert(1)</script>\n\nWe keep little.\n"), 0o600)
	os.WriteFile(filepath.Join(dir, "policy.et.md"), []byte("# Meie põhimõtted\n"), 0o600)
	srv2 := startServer(t, "", "PASSPORT_PROFILE_POLICY_FILE", own)
	for lang, want := range map[string]string{"et": "<h1>Meie põhimõtted</h1>", "sv": "<h1>Our policy</h1>", "en": "<h1>Our policy</h1>"} {
		o := newBrowser(t, srv2)
		o.Transport = langTransport{lang}
		_, page := o.get(srv2.URL + "/policy")
		if !strings.Contains(page, want) || strings.Contains(page, "alert(1)") {
			t.Errorf("operator's policy in %s: want %s, no script: %.500s", lang, want, page)
		}
	}
}
