package main

import (
	"io"
	"net/http"
	"testing"
)

// TestHeadWhereverGet: HEAD is answered wherever GET is, with GET's status and headers and
// no body (RFC 9110 §9.3.2); a path that has no GET still answers 404 or 405.
func TestHeadWhereverGet(t *testing.T) {
	srv := startServer(t, "")
	id := setupUser(t, "headhunter", "heads-and-tails-1")
	for path, want := range map[string]int{
		"/signin": http.StatusOK, "/policy": http.StatusOK, "/healthz": http.StatusOK,
		"/.well-known/openid-configuration": http.StatusOK, "/keys": http.StatusOK, "/static/style.css": http.StatusOK,
		"/people/" + id + "/contact.vcf": http.StatusOK, "/profile": http.StatusFound, "/no/such/page": http.StatusNotFound,
	} {
		get, err := noRedirect.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		get.Body.Close()
		req, _ := http.NewRequest(http.MethodHead, srv.URL+path, nil)
		head, err := noRedirect.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(head.Body)
		head.Body.Close()
		if head.StatusCode != want || get.StatusCode != want || len(body) != 0 ||
			head.Header.Get("Content-Type") != get.Header.Get("Content-Type") {
			t.Errorf("HEAD %s: %d %q (%d bytes), GET: %d %q; want %d and no body", path, head.StatusCode,
				head.Header.Get("Content-Type"), len(body), get.StatusCode, get.Header.Get("Content-Type"), want)
		}
	}
}

var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
