package web

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
)

// signedToken carries a few values through a form for a short time, sealed with the server
// key and bound to the browser: "the password was right for this account" between the
// password and the second factor, or before restoring an account.
func (s *Server) signedToken(c echo.Context, purpose string, ttl time.Duration, parts ...string) string {
	exp := strconv.FormatInt(s.db.Now().Add(ttl).Unix(), 10)
	payload := strings.Join(append([]string{exp}, parts...), "|")
	return base64.RawURLEncoding.EncodeToString([]byte(payload)) + "." + s.tokenMAC(c, purpose, payload)
}

// openToken returns the parts of a token made by signedToken for the same purpose and
// browser, if it has not expired.
func (s *Server) openToken(c echo.Context, purpose, token string) ([]string, bool) {
	enc, mac, ok := strings.Cut(token, ".")
	if !ok {
		return nil, false
	}
	raw, err := base64.RawURLEncoding.DecodeString(enc)
	if err != nil || !hmac.Equal([]byte(mac), []byte(s.tokenMAC(c, purpose, string(raw)))) {
		return nil, false
	}
	parts := strings.Split(string(raw), "|")
	exp, err := strconv.ParseInt(parts[0], 10, 64)
	if err != nil || s.db.Now().Unix() > exp {
		return nil, false
	}
	return parts[1:], true
}

func (s *Server) tokenMAC(c echo.Context, purpose, payload string) string {
	m := hmac.New(sha256.New, s.cfg.Key[:])
	m.Write([]byte("signed-token\x00" + purpose + "\x00"))
	if b := browserOf(c); b != nil {
		m.Write([]byte(hex.EncodeToString(b.Hash)))
	}
	m.Write([]byte("\x00" + payload))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}
