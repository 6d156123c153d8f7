package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPhoneDefaultRegion: profile.phone_default_region takes a country libphonenumber knows;
// codes.phone_region, its earlier name, still sets it.
func TestPhoneDefaultRegion(t *testing.T) {
	load := func(kv map[string]string) (Config, error) {
		kv["PASSPORT_SECRET_KEY"] = secret
		return Load("", getenv(kv))
	}
	if c, err := load(map[string]string{}); err != nil || c.Profile.PhoneDefaultRegion != "" {
		t.Errorf("default: %q, %v; want empty (the page's language decides)", c.Profile.PhoneDefaultRegion, err)
	}
	if c, err := load(map[string]string{"PASSPORT_PROFILE_PHONE_DEFAULT_REGION": "RU"}); err != nil || c.Profile.PhoneDefaultRegion != "RU" {
		t.Errorf("RU: %q, %v", c.Profile.PhoneDefaultRegion, err)
	}
	for _, bad := range []string{"ru", "RUS", "XX", "7"} {
		if _, err := load(map[string]string{"PASSPORT_PROFILE_PHONE_DEFAULT_REGION": bad}); err == nil ||
			!strings.Contains(err.Error(), "profile.phone_default_region") {
			t.Errorf("%q: got %v, want an error naming profile.phone_default_region", bad, err)
		}
	}

	file := filepath.Join(t.TempDir(), "p.toml")
	if err := os.WriteFile(file, []byte("[codes]\nphone_region = \"EE\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load(file, getenv(map[string]string{"PASSPORT_SECRET_KEY": secret}))
	if err != nil || c.Profile.PhoneDefaultRegion != "EE" {
		t.Errorf("codes.phone_region = EE: %q, %v", c.Profile.PhoneDefaultRegion, err)
	}
	_, err = Load(file, getenv(map[string]string{"PASSPORT_SECRET_KEY": secret, "PASSPORT_PROFILE_PHONE_DEFAULT_REGION": "SE"}))
	if err == nil || !strings.Contains(err.Error(), "codes.phone_region") {
		t.Errorf("both names, different countries: got %v, want an error naming codes.phone_region", err)
	}
}
