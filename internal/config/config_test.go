package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const secret = "dGVzdC1zZWNyZXQta2V5LWZvci1wYXNzcG9ydC10ZXN0cyE="

func getenv(kv map[string]string) func(string) string { return func(k string) string { return kv[k] } }

func TestDefaultsNeedOnlyASecret(t *testing.T) {
	if _, err := Load("", getenv(nil)); err == nil || !strings.Contains(err.Error(), "secret_key") {
		t.Fatalf("without a secret: got %v, want a secret_key error", err)
	}
	c, err := Load("", getenv(map[string]string{"PASSPORT_SECRET_KEY": secret}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Listen != ":8080" || c.Issuer != "http://localhost:8080" || c.Tokens.CodeLifetime.Duration != time.Minute || c.Secure() {
		t.Errorf("defaults: %+v", c)
	}
}

func TestEnvironmentOverridesFile(t *testing.T) {
	file := filepath.Join(t.TempDir(), "p.toml")
	os.WriteFile(file, []byte("issuer = \"https://id.example\"\nlisten = \":9000\"\n[tokens]\naccess_token_lifetime = \"5m\"\n[http]\ntrusted_proxies = [\"10.0.0.0/8\"]\n"), 0o600)
	c, err := Load(file, getenv(map[string]string{"PASSPORT_SECRET_KEY": secret, "PASSPORT_LISTEN": ":9100",
		"PASSPORT_HTTP_TRUSTED_PROXIES": "192.168.0.0/16, 172.16.0.0/12", "PASSPORT_DEV_ALLOW_DEV_SINK_WITH_HTTPS": "true"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Issuer != "https://id.example" || c.Listen != ":9100" || c.Tokens.AccessTokenLifetime.Duration != 5*time.Minute || !c.Secure() {
		t.Errorf("got %+v", c)
	}
	if len(c.HTTP.TrustedProxies) != 2 || c.HTTP.TrustedProxies[1] != "172.16.0.0/12" {
		t.Errorf("list from env: %v", c.HTTP.TrustedProxies)
	}
}

func TestBadValuesNameTheKey(t *testing.T) {
	for key, value := range map[string]string{
		"PASSPORT_ISSUER":                     "http://example.com/",
		"PASSPORT_LISTEN":                     "nowhere",
		"PASSPORT_DATABASE_MAX_CONNS":         "1",
		"PASSPORT_HTTP_TRUSTED_PROXIES":       "10.0.0.1",
		"PASSPORT_TOKENS_CODE_LIFETIME":       "1h",
		"PASSPORT_SESSION_LIFETIME":           "-5m",
		"PASSPORT_PASSWORD_ARGON2_MEMORY_KIB": "8",
		"PASSPORT_LOG_FORMAT":                 "xml",
		"PASSPORT_DEV_ASSETS_DIR":             "/no/such/dir",
	} {
		_, err := Load("", getenv(map[string]string{"PASSPORT_SECRET_KEY": secret, key: value}))
		name := strings.ToLower(strings.TrimPrefix(key, "PASSPORT_"))
		if err == nil || !strings.Contains(strings.ReplaceAll(err.Error(), ".", "_"), name) {
			t.Errorf("%s=%q: got %v, want an error naming %s", key, value, err, name)
		}
	}
}

func TestDerivedKeysDiffer(t *testing.T) {
	c, err := Load("", getenv(map[string]string{"PASSPORT_SECRET_KEY": secret}))
	if err != nil {
		t.Fatal(err)
	}
	a1, a2 := c.Key("a"), c.Key("a")
	if a1 == c.Key("b") || a1 != a2 {
		t.Error("derived keys must be distinct per purpose and stable")
	}
}

func TestHTTPSIssuerRefusesTheDevelopmentSink(t *testing.T) {
	base := map[string]string{"PASSPORT_SECRET_KEY": secret, "PASSPORT_ISSUER": "https://id.example"}
	with := func(kv ...string) func(string) string {
		m := map[string]string{}
		for k, v := range base {
			m[k] = v
		}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return getenv(m)
	}
	// The defaults send email and SMS to the development sink: an https server refuses them.
	if _, err := Load("", with()); err == nil || !strings.Contains(err.Error(), "allow_dev_sink_with_https") {
		t.Errorf("https issuer with the default dev channels: got %v, want a refusal naming the setting", err)
	}
	// Only the SMS channel left on dev is enough to refuse (codes read from the sink).
	if _, err := Load("", with("PASSPORT_MESSAGES_EMAIL", "smtp", "PASSPORT_MESSAGES_SMTP_HOST", "smtp.example")); err == nil {
		t.Error("https issuer with sms = dev: started")
	}
	if _, err := Load("", with("PASSPORT_DEV_ALLOW_DEV_SINK_WITH_HTTPS", "true")); err != nil {
		t.Errorf("allowed in so many words: %v", err)
	}
	// The page that shows the sink is off unless asked for.
	c, err := Load("", getenv(map[string]string{"PASSPORT_SECRET_KEY": secret}))
	if err != nil || c.Dev.MessagesPage {
		t.Errorf("dev.messages_page by default: %v (err %v), want off", c.Dev.MessagesPage, err)
	}
}
