package config

import (
	"slices"
	"strings"
	"testing"

	"github.com/passport-idp/passport/internal/i18n"
)

// TestLanguagesAreTheCatalogues: the languages configuration accepts are exactly the ones
// the catalogue supports.
func TestLanguagesAreTheCatalogues(t *testing.T) {
	var tags []string
	for _, l := range i18n.Languages {
		tags = append(tags, l.Tag)
	}
	if !slices.Equal(Languages, tags) {
		t.Errorf("config.Languages = %v; internal/i18n.Languages = %v", Languages, tags)
	}
}

// TestDefaultLocaleIsASupportedLanguage: every supported language is a valid
// messages.default_locale; anything else is refused, naming the key.
func TestDefaultLocaleIsASupportedLanguage(t *testing.T) {
	for _, l := range i18n.Languages {
		c, err := Load("", getenv(map[string]string{"PASSPORT_SECRET_KEY": secret, "PASSPORT_MESSAGES_DEFAULT_LOCALE": l.Tag}))
		if err != nil || c.Messages.DefaultLocale != l.Tag {
			t.Errorf("default_locale %q: %v", l.Tag, err)
		}
	}
	for _, bad := range []string{"de", "EN", "ru-RU", "english"} {
		_, err := Load("", getenv(map[string]string{"PASSPORT_SECRET_KEY": secret, "PASSPORT_MESSAGES_DEFAULT_LOCALE": bad}))
		if err == nil || !strings.Contains(err.Error(), "default_locale") {
			t.Errorf("default_locale %q: got %v, want an error naming default_locale", bad, err)
		}
	}
}
