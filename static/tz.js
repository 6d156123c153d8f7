// Reports the browser's time zone in a cookie, so the server shows times in it.
(function () {
  try {
    var tz = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (tz && document.cookie.indexOf("passport-tz=" + tz) < 0) {
      document.cookie = "passport-tz=" + tz + "; path=/; max-age=31536000; samesite=lax" +
        (location.protocol === "https:" ? "; secure" : "");
    }
  } catch (e) { /* no Intl: times stay in UTC */ }
})();
