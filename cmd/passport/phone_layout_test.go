package main

import (
	"context"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestEveryPageFitsAPhone: at 390 and 360 px wide no page scrolls sideways and no element
// sticks out of the screen or of its card (a file input used to overflow its card).
func TestEveryPageFitsAPhone(t *testing.T) {
	srv := startServer(t, "")
	setupSelfUser(t, "narrow", "narrow-screen-390")
	for _, width := range []int{390, 360} {
		ctx := newChrome(t, width, 800)
		if err := chromedp.Run(ctx,
			chromedp.Navigate(srv.URL+"/signin"),
			chromedp.WaitVisible(`#login`),
			chromedp.SendKeys(`#login`, "narrow"),
			chromedp.SendKeys(`#password`, "narrow-screen-390"),
			chromedp.Submit(`#password`),
			chromedp.WaitVisible(`#privacy`),
		); err != nil {
			t.Fatal(err)
		}
		for _, p := range []string{"/profile", "/profile/edit", "/profile/apps", "/profile/email", "/profile/phone",
			"/profile/password", "/profile/sessions", "/profile/2fa", "/profile/delete", "/policy"} {
			sticking := stickingOut(t, ctx, srv.URL+p)
			if len(sticking) > 0 {
				t.Errorf("%d px, %s: sticks out: %v", width, p, sticking)
			}
		}
	}
}

// stickingOut opens u and lists the elements that stick out of the screen or of their card,
// and whether the page scrolls sideways.
func stickingOut(t *testing.T, ctx context.Context, u string) []string {
	t.Helper()
	var sticking []string
	if err := chromedp.Run(ctx, chromedp.Navigate(u), chromedp.WaitReady(`footer`),
		chromedp.Evaluate(`(() => { const w = document.documentElement.clientWidth;
			const out = [...document.querySelectorAll('body *')].filter(e => {
				const r = e.getBoundingClientRect(); if (r.width === 0) return false;
				const card = e.parentElement && e.parentElement.closest('.card');
				const c = card ? card.getBoundingClientRect() : null;
				return r.right > w + 1 || r.left < -1 || (c && (r.right > c.right + 1 || r.left < c.left - 1)); })
				.map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + (e.className ? '.' + e.className : ''));
			if (document.documentElement.scrollWidth > window.innerWidth) out.push('the page scrolls sideways');
			return out; })()`, &sticking)); err != nil {
		t.Fatal(err)
	}
	return sticking
}
