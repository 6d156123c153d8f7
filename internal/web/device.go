package web

import (
	"strings"

	"github.com/mileusna/useragent"

	"github.com/passport-idp/passport/internal/i18n"
)

// describeDevice turns a User-Agent into "Firefox 128 on Windows", in l's language.
func describeDevice(l *i18n.Localizer, ua string) string {
	if strings.TrimSpace(ua) == "" {
		return l.Sprintf("Unknown device")
	}
	u := useragent.Parse(ua)
	name := u.Name
	if name == "" {
		name = l.Sprintf("Unknown browser")
	} else if v := strings.Split(u.Version, "."); v[0] != "" {
		name += " " + v[0]
	}
	switch {
	case u.OS != "":
		return l.Sprintf("%[1]s on %[2]s", name, u.OS)
	case u.Bot:
		return l.Sprintf("%s (bot)", name)
	}
	return name
}
