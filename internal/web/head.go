package web

import "net/http"

// headAsGet answers HEAD wherever GET is answered (RFC 9110 §9.3.2): the router sees a GET,
// and net/http, which still holds the original HEAD request, drops the body written.
func headAsGet(r *http.Request) *http.Request {
	if r.Method != http.MethodHead {
		return r
	}
	g := r.Clone(r.Context())
	g.Method = http.MethodGet
	return g
}
