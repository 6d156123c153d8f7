package passport

import (
	"bytes"
	"compress/zlib"
	"context"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math/rand"
	"runtime"
	"strings"
	"testing"
	"time"

	"golang.org/x/image/draw"
)

var avatar = PhotoLimits{MaxBytes: 5 << 20, MaxSide: 512}

// gradientPNG is a w×h opaque PNG like the one of the report (46 KB for 4000×4000): a
// smooth gradient with a few random dots, so it compresses well and decodes big.
func gradientPNG(t testing.TB, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			i := img.PixOffset(x, y)
			img.Pix[i], img.Pix[i+1], img.Pix[i+2], img.Pix[i+3] = uint8(x*256/w), uint8(y*256/h), 128, 0xff
		}
	}
	r := rand.New(rand.NewSource(1))
	for n := 0; n < 600; n++ {
		i := img.PixOffset(r.Intn(w), r.Intn(h))
		img.Pix[i], img.Pix[i+1], img.Pix[i+2] = uint8(r.Intn(256)), uint8(r.Intn(256)), uint8(r.Intn(256))
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// allocated returns the bytes f allocates, in every goroutine.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestPhotoMemory: a 4000×4000 PNG of 70 KB used to take 125 MiB to normalise (the decoded
// image, 64 MiB, then the scaler's float buffer of 512 × 4000 × 32 bytes); read row by row
// and scaled one row at a time it takes a few MiB. A JPEG is still decoded whole (18 MiB
// for 4000×3000 in 4:2:0), but the scaler's 47 MiB buffer is gone.
func TestPhotoMemory(t *testing.T) {
	var rgbJPEG bytes.Buffer // a colour JPEG: 4:2:0 YCbCr
	if err := jpeg.Encode(&rgbJPEG, image.NewRGBA(image.Rect(0, 0, 4000, 3000)), nil); err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct {
		data  []byte
		w, h  int
		limit uint64
	}{
		"PNG 4000×4000":  {gradientPNG(t, 4000, 4000), 512, 512, 16 << 20},
		"JPEG 4000×3000": {rgbJPEG.Bytes(), 512, 384, 18<<20 + 8<<20},
	} {
		var w, h int
		var err error
		n := allocated(func() { _, _, w, h, err = NormalizePhoto(context.Background(), tc.data, avatar) })
		if err != nil || w != tc.w || h != tc.h {
			t.Fatalf("%s: got %d×%d, %v", name, w, h, err)
		}
		t.Logf("%s, %d KB: %.1f MiB allocated", name, len(tc.data)>>10, float64(n)/(1<<20))
		if n > tc.limit {
			t.Errorf("%s: normalising allocated %.1f MiB, want under %.0f MiB", name, float64(n)/(1<<20), float64(tc.limit)/(1<<20))
		}
	}
}

// TestPhotoWaitsForItsTurn: one photo is decoded at a time; a waiting upload gives up with
// ELIMITED when its request ends, and goes ahead when the turn comes.
func TestPhotoWaitsForItsTurn(t *testing.T) {
	data := gradientPNG(t, 64, 64)
	decoding <- struct{}{} // another upload is being decoded

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	began := time.Now()
	_, _, _, _, err := NormalizePhoto(ctx, data, avatar)
	if ErrorCode(err) != ELIMITED || !strings.Contains(ErrorMessage(err), "busy") {
		t.Fatalf("got %v, want ELIMITED", err)
	}
	if d := time.Since(began); d > 2*time.Second {
		t.Errorf("the cancelled upload returned after %s", d)
	}

	done := make(chan error, 1)
	go func() { _, _, _, _, err := NormalizePhoto(context.Background(), data, avatar); done <- err }()
	select {
	case err := <-done:
		t.Fatalf("decoded while another decode held the turn: %v", err)
	case <-time.After(50 * time.Millisecond):
	}
	<-decoding
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestPhotoSizeAndColour(t *testing.T) {
	red := func(w, h int, a uint8) *image.NRGBA {
		img := image.NewNRGBA(image.Rect(0, 0, w, h))
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				img.SetNRGBA(x, y, color.NRGBA{220, uint8(x % 40), uint8(y % 30), a})
			}
		}
		return img
	}
	encode := func(img image.Image, format string) []byte {
		var buf bytes.Buffer
		var err error
		if format == "jpeg" {
			err = jpeg.Encode(&buf, img, &jpeg.Options{Quality: 90})
		} else {
			err = png.Encode(&buf, img)
		}
		if err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	for name, tc := range map[string]struct {
		data         []byte
		w, h         int
		contentType  string
		opaque       bool
		wantR, wantA uint64 // the mean, 8 bits
	}{
		"PNG 4000×3000 becomes 512×384":  {encode(red(4000, 3000, 0xff), "png"), 512, 384, "image/jpeg", true, 220, 255},
		"JPEG 3000×4000 becomes 384×512": {encode(red(3000, 4000, 0xff), "jpeg"), 384, 512, "image/jpeg", true, 220, 255},
		"small PNG keeps its size":       {encode(red(300, 200, 0xff), "png"), 300, 200, "image/jpeg", true, 220, 255},
		"2000 px: one box pass":          {encode(red(2000, 1100, 0xff), "png"), 512, 281, "image/jpeg", true, 220, 255},
		"transparency stays PNG":         {encode(red(1500, 1500, 0x80), "png"), 512, 512, "image/png", false, 110, 128},
	} {
		t.Run(name, func(t *testing.T) {
			out, ct, w, h, err := NormalizePhoto(context.Background(), tc.data, avatar)
			if err != nil {
				t.Fatal(err)
			}
			if w != tc.w || h != tc.h || ct != tc.contentType {
				t.Fatalf("got %d×%d %s, want %d×%d %s", w, h, ct, tc.w, tc.h, tc.contentType)
			}
			img, format, err := image.Decode(bytes.NewReader(out))
			if err != nil || "image/"+format != ct || img.Bounds().Dx() != w || img.Bounds().Dy() != h {
				t.Fatalf("stored image: %v %s %v", err, format, img.Bounds())
			}
			var r, g, a, n uint64
			for y := 0; y < h; y++ {
				for x := 0; x < w; x++ {
					pr, pg, _, pa := img.At(x, y).RGBA()
					r, g, a, n = r+uint64(pr>>8), g+uint64(pg>>8), a+uint64(pa>>8), n+1
				}
			}
			r, g, a = r/n, g/n, a/n
			// Premultiplied means: colour scales with alpha; 220 at half alpha is about 110.
			if diff(r, tc.wantR) > 4 || diff(a, tc.wantA) > 1 || g > 25 {
				t.Errorf("mean R=%d G=%d A=%d, want R≈%d A≈%d and little green", r, g, a, tc.wantR, tc.wantA)
			}
		})
	}
}

func diff(a, b uint64) uint64 {
	if a > b {
		return a - b
	}
	return b - a
}

// TestPhotoTooLarge: images whose header promises too many pixels, or a decode too large,
// are refused before anything is decoded; a phone's photo is not.
func TestPhotoTooLarge(t *testing.T) {
	small := rawPNG(t, 1, 1, 8, 2, nil, nil, 0, func(int, int) []byte { return []byte{1, 2, 3} })
	setSize := func(data []byte, w, h int) []byte {
		data = bytes.Clone(data)
		binary.BigEndian.PutUint32(data[16:], uint32(w))
		binary.BigEndian.PutUint32(data[20:], uint32(h))
		binary.BigEndian.PutUint32(data[29:], crc32.ChecksumIEEE(data[12:29]))
		return data
	}
	var jbuf bytes.Buffer
	if err := jpeg.Encode(&jbuf, image.NewRGBA(image.Rect(0, 0, 64, 48)), nil); err != nil {
		t.Fatal(err)
	}
	jpegSized := func(w, h int, progressive bool) []byte {
		data := bytes.Clone(jbuf.Bytes())
		i := bytes.Index(data, []byte{0xff, 0xc0})
		if progressive {
			data[i+1] = 0xc2
		}
		binary.BigEndian.PutUint16(data[i+5:], uint16(h))
		binary.BigEndian.PutUint16(data[i+7:], uint16(w))
		return data
	}
	for name, tc := range map[string]struct {
		data     []byte
		tooLarge bool
	}{
		"PNG bomb 20000×20000":                {setSize(small, 20000, 20000), true},
		"PNG 1×30000":                         {setSize(small, 1, 30000), true},
		"JPEG 12000×9000":                     {jpegSized(12000, 9000, false), true},
		"JPEG 4000×3000, progressive":         {jpegSized(4000, 3000, true), false},
		"JPEG 4624×3468 (16 MP), progressive": {jpegSized(4624, 3468, true), true},
		"JPEG 4624×3468 (16 MP)":              {jpegSized(4624, 3468, false), false},
		"JPEG 8000×5000 (40 MP)":              {jpegSized(8000, 5000, false), false},
		"PNG 4624×3468 (16 MP)":               {setSize(small, 4624, 3468), false},
	} {
		t.Run(name, func(t *testing.T) {
			_, _, _, _, err := NormalizePhoto(context.Background(), tc.data, avatar)
			refused := err != nil && strings.Contains(err.Error(), "too large to process")
			if refused != tc.tooLarge {
				t.Errorf("got %v, want refused %v", err, tc.tooLarge)
			}
			if !tc.tooLarge && (ErrorCode(err) != EINVALID || !strings.Contains(err.Error(), "damaged")) {
				// The header was made up, the pixels are missing: it must fail as damaged.
				t.Errorf("got %v, want a damaged image", err)
			}
		})
	}
}

func TestJPEGCost(t *testing.T) {
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, image.NewRGBA(image.Rect(0, 0, 64, 48)), nil); err != nil {
		t.Fatal(err)
	}
	// 4:2:0: a 64×48 luma plane and two 32×24 chroma planes.
	if got, want := jpegCost(buf.Bytes()), 64*48+2*32*24; got != want {
		t.Errorf("baseline: got %d, want %d", got, want)
	}
	data := buf.Bytes()
	data[bytes.Index(data, []byte{0xff, 0xc0})+1] = 0xc2
	if got, want := jpegCost(data), 5*(64*48+2*32*24); got != want {
		t.Errorf("progressive: got %d, want %d", got, want)
	}
	buf.Reset()
	if err := jpeg.Encode(&buf, image.NewGray(image.Rect(0, 0, 60, 40)), nil); err != nil {
		t.Fatal(err)
	}
	if got, want := jpegCost(buf.Bytes()), 64*40; got != want {
		t.Errorf("grey: got %d, want %d", got, want)
	}
}

// rawPNG writes a non-interlaced PNG by hand, so the test reaches colour types, bit depths,
// tRNS chunks and filters that image/png never writes. sample returns pixel (x, y)'s bytes
// (for depths under 8, the sample value in one byte). Row y uses filter (y+filterBase) % 5.
func rawPNG(t testing.TB, w, h, depth, ct int, plte, trns []byte, filterBase int, sample func(x, y int) []byte) []byte {
	t.Helper()
	var out bytes.Buffer
	out.WriteString("\x89PNG\r\n\x1a\n")
	chunk := func(typ string, body []byte) {
		var n [4]byte
		binary.BigEndian.PutUint32(n[:], uint32(len(body)))
		out.Write(n[:])
		c := crc32.NewIEEE()
		c.Write([]byte(typ))
		c.Write(body)
		out.WriteString(typ)
		out.Write(body)
		binary.BigEndian.PutUint32(n[:], c.Sum32())
		out.Write(n[:])
	}
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr, uint32(w))
	binary.BigEndian.PutUint32(ihdr[4:], uint32(h))
	ihdr[8], ihdr[9] = byte(depth), byte(ct)
	chunk("IHDR", ihdr)
	if plte != nil {
		chunk("PLTE", plte)
	}
	if trns != nil {
		chunk("tRNS", trns)
	}
	channels := map[int]int{0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[ct]
	bitsPP := channels * depth
	bpp := max(1, bitsPP/8)
	stride := (w*bitsPP + 7) / 8
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	prev := make([]byte, stride)
	for y := 0; y < h; y++ {
		row := make([]byte, stride)
		for x := 0; x < w; x++ {
			s := sample(x, y)
			if depth < 8 {
				row[x*depth/8] |= s[0] << (8 - depth - x*depth%8)
			} else {
				copy(row[x*bitsPP/8:], s)
			}
		}
		kind := byte((y + filterBase) % 5)
		filtered := make([]byte, stride)
		for i := range row {
			var a, c int
			if i >= bpp {
				a, c = int(row[i-bpp]), int(prev[i-bpp])
			}
			b := int(prev[i])
			var pred int
			switch kind {
			case 1:
				pred = a
			case 2:
				pred = b
			case 3:
				pred = (a + b) / 2
			case 4:
				p := a + b - c
				pa, pb, pc := abs(p-a), abs(p-b), abs(p-c)
				switch {
				case pa <= pb && pa <= pc:
					pred = a
				case pb <= pc:
					pred = b
				default:
					pred = c
				}
			}
			filtered[i] = row[i] - byte(pred)
		}
		zw.Write([]byte{kind})
		zw.Write(filtered)
		prev = row
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	chunk("IDAT", z.Bytes())
	chunk("IEND", nil)
	return out.Bytes()
}

// TestPNGRows: the row-by-row decoder gives, byte for byte, what image/png then
// draw.Draw onto an RGBA image give, for every colour type, bit depth, tRNS and filter.
func TestPNGRows(t *testing.T) {
	r := rand.New(rand.NewSource(2))
	rnd := func(n int) []byte { b := make([]byte, n); r.Read(b); return b }
	const w, h = 37, 23
	plte := rnd(3 * 200)
	cases := map[string]struct {
		depth, ct  int
		plte, trns []byte
	}{
		"grey 1":                {1, 0, nil, nil},
		"grey 2":                {2, 0, nil, nil},
		"grey 4":                {4, 0, nil, nil},
		"grey 8":                {8, 0, nil, nil},
		"grey 16":               {16, 0, nil, nil},
		"grey 1, tRNS":          {1, 0, nil, []byte{0, 1}},
		"grey 2, tRNS":          {2, 0, nil, []byte{0, 2}},
		"grey 4, tRNS":          {4, 0, nil, []byte{0, 7}},
		"grey 8, tRNS":          {8, 0, nil, []byte{0, 3}},
		"grey 16, tRNS":         {16, 0, nil, []byte{1, 2}},
		"truecolour 8":          {8, 2, nil, nil},
		"truecolour 16":         {16, 2, nil, nil},
		"truecolour 8, tRNS":    {8, 2, nil, []byte{0, 1, 0, 2, 0, 3}},
		"truecolour 16, tRNS":   {16, 2, nil, []byte{1, 2, 3, 4, 5, 6}},
		"palette 1":             {1, 3, plte[:6], nil},
		"palette 2, tRNS":       {2, 3, plte[:12], []byte{0, 128}},
		"palette 4, short PLTE": {4, 3, plte[:3*9], []byte{10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110, 120}},
		"palette 8, tRNS":       {8, 3, plte, rnd(150)},
		"grey and alpha 8":      {8, 4, nil, nil},
		"grey and alpha 16":     {16, 4, nil, nil},
		"RGBA 8":                {8, 6, nil, nil},
		"RGBA 16":               {16, 6, nil, nil},
	}
	for name, tc := range cases {
		for filterBase := 0; filterBase < 5; filterBase++ {
			channels := map[int]int{0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[tc.ct]
			data := rawPNG(t, w, h, tc.depth, tc.ct, tc.plte, tc.trns, filterBase, func(x, y int) []byte {
				if tc.depth < 8 {
					// Mostly small values, so tRNS keys and short palettes are hit.
					return []byte{byte(r.Intn(1 << tc.depth))}
				}
				s := rnd(channels * tc.depth / 8)
				if tc.trns != nil && r.Intn(4) == 0 {
					copy(s, tc.trns) // the transparent colour
				}
				if tc.ct == 3 {
					s[0] %= 210 // a few indexes past the palette's end
				}
				return s
			})
			want, err := png.Decode(bytes.NewReader(data))
			if err != nil {
				t.Fatalf("%s: image/png: %v", name, err)
			}
			wantRGBA := image.NewRGBA(want.Bounds())
			draw.Draw(wantRGBA, wantRGBA.Rect, want, image.Point{}, draw.Src)
			got := image.NewRGBA(image.Rect(0, 0, w, h))
			y := 0
			if err := readPNGRows(data, func(row []byte) { copy(got.Pix[y*got.Stride:], row); y++ }); err != nil || y != h {
				t.Fatalf("%s: %d rows, %v", name, y, err)
			}
			if !bytes.Equal(got.Pix, wantRGBA.Pix) {
				i := 0
				for got.Pix[i] == wantRGBA.Pix[i] {
					i++
				}
				t.Errorf("%s, filters from %d: pixel (%d, %d): got %v, want %v", name, filterBase, i/4%w, i/4/w,
					got.Pix[i/4*4:i/4*4+4], wantRGBA.Pix[i/4*4:i/4*4+4])
			}
		}
	}
}

func TestPNGRowsDamaged(t *testing.T) {
	good := rawPNG(t, 20, 10, 8, 6, nil, nil, 0, func(x, y int) []byte { return []byte{byte(x), byte(y), 0, 255} })
	for name, data := range map[string][]byte{
		"truncated":  good[:len(good)-30],
		"bad CRC":    append(bytes.Clone(good[:len(good)-13]), 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0),
		"no IEND":    good[:len(good)-12],
		"bad filter": corruptFirstFilter(t, good),
	} {
		if err := readPNGRows(data, func([]byte) {}); err == nil {
			t.Errorf("%s: no error", name)
		}
		if _, _, _, _, err := NormalizePhoto(context.Background(), data, avatar); ErrorCode(err) != EINVALID {
			t.Errorf("%s: NormalizePhoto: %v, want EINVALID", name, err)
		}
	}
}

// corruptFirstFilter rewrites a PNG with one IDAT so that its first row's filter byte is 9.
func corruptFirstFilter(t *testing.T, data []byte) []byte {
	t.Helper()
	i := bytes.Index(data, []byte("IDAT"))
	n := int(binary.BigEndian.Uint32(data[i-4:]))
	zr, err := zlib.NewReader(bytes.NewReader(data[i+4 : i+4+n]))
	if err != nil {
		t.Fatal(err)
	}
	var raw bytes.Buffer
	if _, err := raw.ReadFrom(zr); err != nil {
		t.Fatal(err)
	}
	raw.Bytes()[0] = 9
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	zw.Write(raw.Bytes())
	zw.Close()
	var out bytes.Buffer
	out.Write(data[:i-4])
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], uint32(z.Len()))
	out.Write(b[:])
	out.WriteString("IDAT")
	out.Write(z.Bytes())
	binary.BigEndian.PutUint32(b[:], crc32.ChecksumIEEE(append([]byte("IDAT"), z.Bytes()...)))
	out.Write(b[:])
	out.Write(data[i+8+n:])
	return out.Bytes()
}

// TestResamplerIsCatmullRom: scaling one row at a time gives what draw.CatmullRom.Scale
// gives with its whole-image buffer.
func TestResamplerIsCatmullRom(t *testing.T) {
	r := rand.New(rand.NewSource(3))
	for _, tc := range []struct{ sw, sh, dw, dh int }{{1000, 700, 512, 358}, {700, 1000, 358, 512}, {530, 515, 512, 497}, {97, 13, 40, 5}, {50, 50, 50, 50}, {1000, 3, 512, 1}} {
		src := image.NewRGBA(image.Rect(0, 0, tc.sw, tc.sh))
		for i := 0; i < len(src.Pix); i += 4 {
			a := uint8(r.Intn(256))
			if r.Intn(2) == 0 {
				a = 255
			}
			src.Pix[i], src.Pix[i+1], src.Pix[i+2], src.Pix[i+3] = uint8(r.Intn(int(a)+1)), uint8(r.Intn(int(a)+1)), uint8(r.Intn(int(a)+1)), a
		}
		want := image.NewRGBA(image.Rect(0, 0, tc.dw, tc.dh))
		draw.CatmullRom.Scale(want, want.Rect, src, src.Rect, draw.Src, nil)
		got := image.NewRGBA(want.Rect)
		rs := newResampler(got, tc.sw, tc.sh)
		for y := 0; y < tc.sh; y++ {
			rs.row(src.Pix[y*src.Stride : (y+1)*src.Stride])
		}
		worst := 0
		for i := range got.Pix {
			worst = max(worst, abs(int(got.Pix[i])-int(want.Pix[i])))
		}
		if worst > 1 {
			t.Errorf("%d×%d → %d×%d: differs from draw.CatmullRom by up to %d", tc.sw, tc.sh, tc.dw, tc.dh, worst)
		}
	}
}

func TestShrinker(t *testing.T) {
	// 5×3 in blocks of 2: the last column and row average fewer pixels.
	src := [][]byte{}
	for y := 0; y < 3; y++ {
		var row []byte
		for x := 0; x < 5; x++ {
			v := byte(10*y + x)
			row = append(row, v, v, v, 255)
		}
		src = append(src, row)
	}
	var got [][]byte
	s := newShrinker(5, 2, func(row []byte) { got = append(got, bytes.Clone(row)) })
	for _, row := range src {
		s.row(row)
	}
	s.flush()
	want := [][]byte{{6, 6, 6, 255, 8, 8, 8, 255, 9, 9, 9, 255}, {21, 21, 21, 255, 23, 23, 23, 255, 24, 24, 24, 255}}
	if len(got) != len(want) {
		t.Fatalf("got %d rows, want %d", len(got), len(want))
	}
	for i := range want {
		if !bytes.Equal(got[i], want[i]) {
			t.Errorf("row %d: got %v, want %v", i, got[i], want[i])
		}
	}
}

// BenchmarkNormalizePhoto4000PNG: the 4000×4000 PNG of the report.
func BenchmarkNormalizePhoto4000PNG(b *testing.B) {
	data := gradientPNG(b, 4000, 4000)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, _, _, _, err := NormalizePhoto(context.Background(), data, avatar); err != nil {
			b.Fatal(err)
		}
	}
}
