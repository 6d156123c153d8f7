package web

import (
	"strings"

	"github.com/mileusna/useragent"
)

// describeDevice turns a User-Agent into "Firefox 128 on Windows".
func describeDevice(ua string) string {
	if strings.TrimSpace(ua) == "" {
		return "Unknown device"
	}
	u := useragent.Parse(ua)
	name := u.Name
	if name == "" {
		name = "Unknown browser"
	} else if v := strings.Split(u.Version, "."); v[0] != "" {
		name += " " + v[0]
	}
	switch {
	case u.OS != "":
		name += " on " + u.OS
	case u.Bot:
		name += " (bot)"
	}
	return name
}
