package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"html"
	"image"
	"image/png"
	"math/rand"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/passport-idp/passport/internal/passport"
)

// photoScenario is issue 10's report: one person sends one 4000×4000 PNG of a few dozen KB
// 20 times at once (the per-person upload limit of a rate window), through the cabinet's
// form, to a freshly started server.
const (
	photoScenario = "photo upload (20 at once, 4000×4000 PNG)"
	photoUploads  = 20
	photoSide     = 4000
	photoSettle   = 20 * time.Second // how long after the last answer the RSS is read again
)

// benchPNG is an opaque side×side PNG that compresses like a screenshot or a flat
// illustration: a smooth gradient with a few hundred random dots (about 70 KB).
func benchPNG(side int) ([]byte, error) {
	img := image.NewRGBA(image.Rect(0, 0, side, side))
	for y := 0; y < side; y++ {
		for x := 0; x < side; x++ {
			i := img.PixOffset(x, y)
			img.Pix[i], img.Pix[i+1], img.Pix[i+2], img.Pix[i+3] = uint8(x*256/side), uint8(y*256/side), 128, 0xff
		}
	}
	r := rand.New(rand.NewSource(1))
	for n := 0; n < 600; n++ {
		i := img.PixOffset(r.Intn(side), r.Intn(side))
		img.Pix[i], img.Pix[i+1], img.Pix[i+2] = uint8(r.Intn(256)), uint8(r.Intn(256)), uint8(r.Intn(256))
	}
	var buf bytes.Buffer
	err := png.Encode(&buf, img)
	return buf.Bytes(), err
}

// photoUploadsRun starts its own server, so that its idle memory is a fresh process's, signs
// one person in to the cabinet, and posts the photo form photoUploads times at once. It
// reports the server's RSS idle, at peak (sampled every 50 ms), right after the last answer
// and photoSettle later.
func (f *fixtures) photoUploadsRun(ctx context.Context, o options, dsn string, argon passport.Argon2Params) (result, error) {
	data, err := benchPNG(photoSide)
	if err != nil {
		return result{}, err
	}
	srv, err := start(ctx, o, dsn, argon)
	if err != nil {
		return result{}, err
	}
	defer srv.Stop()
	c, csrf, err := cabinetSignIn(srv.URL, "bench-0")
	if err != nil {
		return result{}, fmt.Errorf("signing in to the cabinet: %w", err)
	}
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	_ = mw.WriteField("csrf", csrf)
	fw, _ := mw.CreateFormFile("photo", "big.png")
	_, _ = fw.Write(data)
	_ = mw.Close()

	time.Sleep(time.Second) // let start-up garbage settle before reading the idle RSS
	idle := srv.rss()
	srv.takePeak()
	began, cpu0 := time.Now(), srv.cpuTime()
	lat := make([]time.Duration, photoUploads)
	errs := make([]error, photoUploads)
	var wg sync.WaitGroup
	for i := range photoUploads {
		wg.Add(1)
		go func() {
			defer wg.Done()
			t := time.Now()
			errs[i] = postPhoto(ctx, c, srv.URL, body.Bytes(), mw.FormDataContentType())
			lat[i] = time.Since(t)
		}()
	}
	wg.Wait()
	elapsed, cpu := time.Since(began), srv.cpuTime()-cpu0
	after := srv.rss()
	time.Sleep(photoSettle)
	r := result{name: photoScenario, requests: photoUploads, elapsed: elapsed, lat: lat, peakRSS: srv.takePeak(), cpu: cpu}
	sort.Slice(r.lat, func(i, j int) bool { return r.lat[i] < r.lat[j] })
	for _, err := range errs {
		if err != nil {
			r.errors++
			if r.errors == 1 {
				fmt.Printf("  first error in %s: %s\n", photoScenario, err)
			}
		}
	}
	r.note = fmt.Sprintf("%d KB PNG; RSS idle %.1f MB, %.1f MB after the last answer, %.1f MB %s later; %s of server CPU per photo",
		len(data)>>10, mb(idle), mb(after), mb(srv.rss()), photoSettle, ms(cpu/photoUploads))
	fmt.Printf("  %s: RSS idle %.1f MB, peak %.1f MB, after %.1f MB, %s later %.1f MB\n",
		photoScenario, mb(idle), mb(r.peakRSS), mb(after), photoSettle, mb(srv.rss()))
	return r, nil
}

// cabinetSignIn signs in at /signin with no application involved, as a person opening the
// cabinet does, and returns the browser and the CSRF token of its forms.
func cabinetSignIn(base, login string) (*http.Client, string, error) {
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 2 * time.Minute}
	_, page, err := get(c, base+"/signin")
	if err != nil {
		return nil, "", err
	}
	m := csrfField.FindStringSubmatch(page)
	if m == nil {
		return nil, "", errors.New("sign-in page without a CSRF token")
	}
	resp, err := c.PostForm(base+"/signin", url.Values{"csrf": {html.UnescapeString(m[1])}, "authRequestID": {""},
		"login": {login}, "password": {userPassword}})
	if err != nil {
		return nil, "", err
	}
	drain(resp)
	if resp.Request.URL.Path != "/profile" {
		return nil, "", fmt.Errorf("sign-in ended at %s (%d)", resp.Request.URL, resp.StatusCode)
	}
	_, page, err = get(c, base+"/profile/edit")
	if err != nil {
		return nil, "", err
	}
	if m = csrfField.FindStringSubmatch(page); m == nil {
		return nil, "", errors.New("profile form without a CSRF token")
	}
	return c, html.UnescapeString(m[1]), nil
}

func get(c *http.Client, u string) (*http.Response, string, error) {
	resp, err := c.Get(u)
	if err != nil {
		return nil, "", err
	}
	body, err := readAll(resp)
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("%s: %d", u, resp.StatusCode)
	}
	return resp, body, err
}

// postPhoto sends the photo form; success is the redirect to the profile that says saved.
func postPhoto(ctx context.Context, c *http.Client, base string, body []byte, contentType string) error {
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, base+"/profile/photo", bytes.NewReader(body))
	req.Header.Set("Content-Type", contentType)
	// Not following the redirect keeps the count to one request per upload.
	resp, err := (&http.Client{Jar: c.Jar, Timeout: c.Timeout, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}).Do(req)
	if err != nil {
		return err
	}
	page, _ := readAll(resp)
	if resp.StatusCode != http.StatusSeeOther || !strings.Contains(resp.Header.Get("Location"), "saved=photo") {
		return fmt.Errorf("upload: %d %s %.200s", resp.StatusCode, resp.Header.Get("Location"), page)
	}
	return nil
}
