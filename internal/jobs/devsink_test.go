package jobs

import (
	"bytes"
	"context"
	"log/slog"
	"strconv"
	"strings"
	"testing"

	"github.com/passport-idp/passport/internal/passport"
	"github.com/passport-idp/passport/internal/pgtest"
)

// TestDevSinkLogsNoSecrets: the development sink keeps the message for /dev/messages and
// logs only that it is there: no text, code, link token, subject or recipient.
func TestDevSinkLogsNoSecrets(t *testing.T) {
	ctx := context.Background()
	db := pgtest.New(t)
	var out bytes.Buffer
	sink := &DevSink{DB: db, Log: slog.New(slog.NewJSONHandler(&out, nil))}
	const (
		id    = "0b6f9d52-6a43-4b8e-9d3e-3f1c2a7e5b1" // one more digit per channel
		code  = "834201"
		token = "lnk-Zq3xV9pT7wK2mR8s"
		to    = "secret-person@example.org"
	)
	for i, channel := range []string{passport.ChannelEmail, passport.ChannelSMS, passport.ChannelCall} {
		out.Reset()
		m := &passport.Message{ID: id + strconv.Itoa(i), Channel: channel, To: to, Kind: "email_change_code",
			Content: passport.Content{Subject: "Your code is " + code,
				Text: "Type " + code + " or open https://id.example.org/confirm?token=" + token, Code: code}}
		if err := sink.Send(ctx, m); err != nil {
			t.Fatal(err)
		}
		logged := out.String()
		for _, secret := range []string{code, token, "Your code", "Type ", to} {
			if strings.Contains(logged, secret) {
				t.Errorf("%s: the log holds %q: %s", channel, secret, logged)
			}
		}
		for _, want := range []string{m.ID, channel, "/dev/messages"} {
			if !strings.Contains(logged, want) {
				t.Errorf("%s: the log lacks %q: %s", channel, want, logged)
			}
		}
	}
	kept, err := db.DevMessages(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(kept) != 3 || !strings.Contains(kept[0].Body, code) {
		t.Errorf("kept %d messages for /dev/messages (%v); want 3, readable there", len(kept), kept)
	}
}
