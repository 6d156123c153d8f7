package passport

import (
	"bytes"
	"compress/zlib"
	"context"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"math"
	"runtime/debug"
	"slices"
	"strconv"
	"time"

	"golang.org/x/image/draw"
	_ "golang.org/x/image/webp" // registers WebP with image.Decode
)

// PhotoLimits bound what an upload may be and what is stored.
type PhotoLimits struct {
	MaxBytes int // the upload
	MaxSide  int // the stored image's longer side, in pixels
}

// Limits on what is decoded, checked from the file's header before any pixel is read, so a
// small file cannot make the server allocate gigabytes or spend seconds of CPU.
const (
	// maxPixelSide and maxPixels bound any image: 40 megapixels is well above a phone's
	// 12–16 MP photo and a 24 MP camera's; decoding time grows with the pixel count.
	maxPixelSide = 20000
	maxPixels    = 40_000_000
	// maxDecodedBytes bounds what the standard decoders allocate for a JPEG, WebP or
	// interlaced PNG, estimated from the header (decodeCost). Non-interlaced PNGs are read
	// row by row and need no such buffer. 96 MiB admits a 4:2:0 JPEG up to the pixel limit,
	// and a progressive one (whose decoder keeps 4 more bytes per sample) up to 13 MP.
	maxDecodedBytes = 96 << 20
	// freeAfterBytes: after a decode that allocated at least this much, the memory is
	// handed back to the system at once instead of over the next minutes.
	freeAfterBytes = 16 << 20
	// maxPhotoWait bounds how long an upload waits for its turn to decode.
	maxPhotoWait = 20 * time.Second
)

// decoding lets one photo be decoded at a time in this process: a decode of a large JPEG
// may take up to maxDecodedBytes, and more of them at once would only share the CPU.
var decoding = make(chan struct{}, 1)

// errPhotoBusy is returned when an upload could not get its turn to decode.
var errPhotoBusy = &Error{Code: ELIMITED, Field: "photo", Message: "The server is busy processing photos. Try again in a moment."}

// NormalizePhoto checks an upload by its content (JPEG, PNG or WebP, whatever its name says),
// scales it down to fit lim.MaxSide and re-encodes it: JPEG, or PNG when it has
// transparency. Re-encoding drops every metadata block (EXIF with its location, ICC, XMP).
//
// One photo is decoded at a time per process; the others wait their turn. Memory stays
// small whatever the image's size: a non-interlaced PNG is decoded row by row, other
// images are decoded whole (refused from their header when that would take more than
// 96 MiB or they exceed 40 megapixels), and the pixels are reduced by averaging whole
// blocks to at most twice the final size, then scaled with the Catmull-Rom filter one row
// at a time.
//
// Returns EINVALID with a message for the person when the file is empty, too large, not
// an image of those formats, too many pixels or damaged; ELIMITED when ctx ends, or
// maxPhotoWait passes, before its turn to decode comes.
func NormalizePhoto(ctx context.Context, data []byte, lim PhotoLimits) (out []byte, contentType string, w, h int, err error) {
	if len(data) == 0 {
		return nil, "", 0, 0, FieldError("photo", "Choose a photo to upload.")
	}
	if len(data) > lim.MaxBytes {
		return nil, "", 0, 0, FieldError("photo", "The photo is too large: the limit is %s.", Bytes(lim.MaxBytes))
	}
	cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil || (format != "jpeg" && format != "png" && format != "webp") {
		return nil, "", 0, 0, FieldError("photo", "This file is not a JPEG, PNG or WebP image.")
	}
	sw, sh := cfg.Width, cfg.Height
	rowByRow, cost := format == "png" && !pngInterlaced(data), 0
	if !rowByRow {
		cost = decodeCost(data, format, cfg)
	}
	if sw <= 0 || sh <= 0 || sw > maxPixelSide || sh > maxPixelSide || sw*sh > maxPixels || cost > maxDecodedBytes {
		return nil, "", 0, 0, FieldError("photo", "The image is %d×%d pixels: too large to process.", sw, sh)
	}

	wait := time.NewTimer(maxPhotoWait)
	select {
	case decoding <- struct{}{}:
		wait.Stop()
	case <-ctx.Done():
		wait.Stop()
		return nil, "", 0, 0, errPhotoBusy
	case <-wait.C:
		return nil, "", 0, 0, errPhotoBusy
	}
	defer func() { <-decoding }()

	w, h = sw, sh
	if m := max(w, h); m > lim.MaxSide {
		w, h = max(1, w*lim.MaxSide/m), max(1, h*lim.MaxSide/m)
	}
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	// Averaging k×k blocks first makes the Catmull-Rom pass cheap (it then shrinks by at
	// most 2) without losing detail the final size could show.
	k := 1
	if m := max(sw, sh); m > 2*lim.MaxSide {
		k = (m + 2*lim.MaxSide - 1) / (2 * lim.MaxSide)
	}
	mw, mh := (sw+k-1)/k, (sh+k-1)/k
	var scaled func([]byte)
	if mw == w && mh == h {
		y := 0
		scaled = func(row []byte) { copy(dst.Pix[y*dst.Stride:], row); y++ }
	} else {
		scaled = newResampler(dst, mw, mh).row
	}
	sink := newShrinker(sw, k, scaled)
	if rowByRow {
		err = readPNGRows(data, sink.row)
	} else {
		err = decodeRows(data, sw, sh, sink.row)
		if cost >= freeAfterBytes {
			// The decoded image is garbage now. Without this the runtime keeps its pages
			// for minutes and the next decodes add theirs (a 4000×4000 PNG decoded whole 20
			// times left 217 MB resident instead of 29). Deferred after the turn's release,
			// it runs before it: the next decode starts with the memory returned.
			defer debug.FreeOSMemory()
		}
	}
	if err != nil {
		return nil, "", 0, 0, FieldError("photo", "This image is damaged and cannot be read.")
	}
	sink.flush()

	var buf bytes.Buffer
	if dst.Opaque() {
		err = jpeg.Encode(&buf, dst, &jpeg.Options{Quality: 88})
		contentType = "image/jpeg"
	} else {
		err = (&png.Encoder{CompressionLevel: png.BestCompression}).Encode(&buf, dst)
		contentType = "image/png"
	}
	if err != nil {
		return nil, "", 0, 0, err
	}
	return buf.Bytes(), contentType, w, h, nil
}

// decodeRows decodes the whole image with the standard decoders and passes it on one row
// at a time, as alpha-premultiplied RGBA.
func decodeRows(data []byte, w, h int, row func([]byte)) error {
	src, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		return err
	}
	b := src.Bounds()
	if b.Dx() != w || b.Dy() != h {
		return errors.New("photo: the decoded size differs from the header's")
	}
	line := image.NewRGBA(image.Rect(0, 0, w, 1))
	for y := b.Min.Y; y < b.Max.Y; y++ {
		draw.Draw(line, line.Rect, src, image.Pt(b.Min.X, y), draw.Src)
		row(line.Pix)
	}
	return nil
}

// decodeCost estimates from the header how many bytes the standard decoder allocates for
// the image.
func decodeCost(data []byte, format string, cfg image.Config) int {
	px := cfg.Width * cfg.Height
	switch format {
	case "jpeg":
		if n := jpegCost(data); n > 0 {
			return n
		}
		return 20 * px // no frame header found: assume the worst (progressive CMYK)
	case "webp":
		switch cfg.ColorModel {
		case color.YCbCrModel: // lossy: 4:2:0 planes
			return px * 3 / 2
		case color.NYCbCrAModel: // lossy with alpha, which may be decoded through a lossless RGBA image
			return px*3/2 + 5*px
		}
		return 8 * px // lossless: its pixels, then the RGBA image
	}
	// An interlaced PNG: the image plus the passes it is assembled from.
	return bytesPerPixel(cfg.ColorModel) * px * 3 / 2
}

// jpegCost reads a JPEG's frame header and returns what image/jpeg allocates for it: a
// plane per component, a CMYK image for four components, and a 64-coefficient block of
// int32s per 8×8 samples when the image is progressive. It returns 0 without a frame header.
func jpegCost(data []byte) int {
	for i := 2; i+4 <= len(data); {
		if data[i] != 0xff {
			return 0
		}
		marker := data[i+1]
		switch {
		case marker == 0xff: // fill byte
			i++
			continue
		case marker >= 0xd0 && marker <= 0xd8 || marker == 0x01: // no length follows
			i += 2
			continue
		}
		n := int(binary.BigEndian.Uint16(data[i+2:]))
		if marker == 0xda || n < 2 || i+2+n > len(data) {
			return 0 // start of scan: no frame header before it
		}
		seg := data[i+4 : i+2+n]
		if marker < 0xc0 || marker > 0xcf || marker == 0xc4 || marker == 0xc8 || marker == 0xcc {
			i += 2 + n
			continue
		}
		// SOFn: precision, height, width, components (id, sampling factors, table).
		if len(seg) < 6 || len(seg) < 6+3*int(seg[5]) || seg[5] == 0 {
			return 0
		}
		height, width, nc := int(binary.BigEndian.Uint16(seg[1:])), int(binary.BigEndian.Uint16(seg[3:])), int(seg[5])
		progressive := marker == 0xc2 || marker == 0xc6 || marker == 0xca || marker == 0xce
		h0, v0 := max(1, int(seg[7]>>4)), max(1, int(seg[7]&15))
		if nc == 1 {
			h0, v0 = 1, 1
		}
		mxx, myy := (width+8*h0-1)/(8*h0), (height+8*v0-1)/(8*v0)
		cost := 0
		for c := 0; c < nc; c++ {
			hc, vc := max(1, int(seg[7+3*c]>>4)), max(1, int(seg[7+3*c]&15))
			if nc == 1 {
				hc, vc = 1, 1
			}
			samples := 64 * mxx * myy * hc * vc
			cost += samples
			if progressive {
				cost += 4 * samples
			}
		}
		if nc == 4 {
			cost += 4 * width * height
		}
		return cost
	}
	return 0
}

// bytesPerPixel is what the decoder allocates per pixel for a colour model.
func bytesPerPixel(m color.Model) int {
	switch m {
	case color.RGBA64Model, color.NRGBA64Model:
		return 8
	case color.Gray16Model:
		return 2
	case color.GrayModel, color.AlphaModel:
		return 1
	}
	return 4
}

// shrinker averages k×k blocks of alpha-premultiplied RGBA rows (a box filter) and passes
// each averaged row on. It holds one row of sums, never the image.
type shrinker struct {
	k, srcW int
	sums    []uint32 // per output column: R, G, B, A
	out     []byte
	rows    int // source rows summed so far into the current output row
	emit    func([]byte)
}

func newShrinker(srcW, k int, emit func([]byte)) *shrinker {
	w := (srcW + k - 1) / k
	return &shrinker{k: k, srcW: srcW, sums: make([]uint32, 4*w), out: make([]byte, 4*w), emit: emit}
}

func (s *shrinker) row(pix []byte) {
	if s.k == 1 {
		s.emit(pix[:4*s.srcW])
		return
	}
	sums, j, c := s.sums, 0, 0
	for i := 0; i < 4*s.srcW; i += 4 {
		sums[j] += uint32(pix[i])
		sums[j+1] += uint32(pix[i+1])
		sums[j+2] += uint32(pix[i+2])
		sums[j+3] += uint32(pix[i+3])
		if c++; c == s.k {
			c, j = 0, j+4
		}
	}
	if s.rows++; s.rows == s.k {
		s.flush()
	}
}

// flush emits the current output row, averaged over the source pixels summed into it
// (fewer at the right and bottom edges).
func (s *shrinker) flush() {
	if s.rows == 0 {
		return
	}
	for j := 0; j < len(s.sums); j += 4 {
		cols := min(s.k, s.srcW-j/4*s.k)
		n := uint32(cols * s.rows)
		for c := j; c < j+4; c++ {
			s.out[c] = uint8((s.sums[c] + n/2) / n)
			s.sums[c] = 0
		}
	}
	s.rows = 0
	s.emit(s.out)
}

// resampler scales alpha-premultiplied RGBA rows into dst with the Catmull-Rom filter, fed
// one source row at a time. It computes what draw.CatmullRom.Scale does, but keeps only the
// few horizontally scaled rows the next output row needs, where Scale holds all of them
// (32 bytes × output width × source height).
type resampler struct {
	dst      *image.RGBA
	cols     []taps
	rows     []taps
	ring     [][]float64 // horizontally scaled source rows, by row number modulo len(ring)
	y, nextY int         // the next source row to arrive, the next output row to write
}

// taps are the source pixels one output pixel is made of, and their weights.
type taps struct {
	first int
	w     []float64
	inv   float64 // 1 / the sum of the weights
}

func newResampler(dst *image.RGBA, srcW, srcH int) *resampler {
	r := &resampler{dst: dst, cols: catmullRom(dst.Rect.Dx(), srcW), rows: catmullRom(dst.Rect.Dy(), srcH)}
	span := 1
	for _, t := range r.rows {
		span = max(span, len(t.w))
	}
	r.ring = make([][]float64, span)
	for i := range r.ring {
		r.ring[i] = make([]float64, 4*dst.Rect.Dx())
	}
	return r
}

// catmullRom computes, as golang.org/x/image/draw does, which of n source pixels each of
// d output pixels takes and with what weights, the kernel widened when shrinking.
func catmullRom(d, n int) []taps {
	kernel := func(t float64) float64 {
		if t < 1 {
			return (1.5*t-2.5)*t*t + 1
		}
		return ((-0.5*t+2.5)*t-4)*t + 2
	}
	scale := float64(n) / float64(d)
	half, argScale := 2.0, 1.0
	if scale > 1 {
		half, argScale = 2*scale, 1/scale
	}
	out := make([]taps, d)
	for x := range out {
		center := (float64(x)+0.5)*scale - 0.5
		lo, hi := max(0, int(math.Floor(center-half))), min(n, int(math.Ceil(center+half)))
		var t taps
		total := 0.0
		for c := lo; c < hi; c++ {
			a := math.Abs((center - float64(c)) * argScale)
			if a >= 2 {
				continue
			}
			wt := kernel(a)
			if wt == 0 && len(t.w) == 0 {
				continue // leading zero weights: start at the first pixel that counts
			}
			if len(t.w) == 0 {
				t.first = c
			}
			t.w = append(t.w, wt)
			total += wt
		}
		for len(t.w) > 0 && t.w[len(t.w)-1] == 0 {
			t.w = t.w[:len(t.w)-1]
		}
		t.inv = 1 / total
		out[x] = t
	}
	return out
}

func (r *resampler) row(pix []byte) {
	h := r.ring[r.y%len(r.ring)]
	for x, t := range r.cols {
		var pr, pg, pb, pa float64
		for i, wt := range t.w {
			p := 4 * (t.first + i)
			pr += float64(uint32(pix[p])*0x101) * wt
			pg += float64(uint32(pix[p+1])*0x101) * wt
			pb += float64(uint32(pix[p+2])*0x101) * wt
			pa += float64(uint32(pix[p+3])*0x101) * wt
		}
		f := t.inv / 0xffff
		h[4*x], h[4*x+1], h[4*x+2], h[4*x+3] = pr*f, pg*f, pb*f, pa*f
	}
	r.y++
	// Write every output row whose last source row has now arrived. The ring is as long as
	// the longest run of rows one output row takes, and the runs only move down, so a row
	// is overwritten only once no output row still needs it.
	for r.nextY < len(r.rows) && r.rows[r.nextY].first+len(r.rows[r.nextY].w) <= r.y {
		t := r.rows[r.nextY]
		d := r.nextY * r.dst.Stride
		for x := range r.cols {
			var pr, pg, pb, pa float64
			for i, wt := range t.w {
				p := r.ring[(t.first+i)%len(r.ring)][4*x:]
				pr += p[0] * wt
				pg += p[1] * wt
				pb += p[2] * wt
				pa += p[3] * wt
			}
			pr, pg, pb = min(pr, pa), min(pg, pa), min(pb, pa)
			r.dst.Pix[d], r.dst.Pix[d+1] = uint8(to16(pr*t.inv)>>8), uint8(to16(pg*t.inv)>>8)
			r.dst.Pix[d+2], r.dst.Pix[d+3] = uint8(to16(pb*t.inv)>>8), uint8(to16(pa*t.inv)>>8)
			d += 4
		}
		r.nextY++
	}
}

// to16 maps [0, 1] to [0, 0xffff], clamping.
func to16(f float64) uint16 {
	i := int32(0xffff*f + 0.5)
	return uint16(min(max(i, 0), 0xffff))
}

// pngInterlaced reports whether a PNG's header says Adam7 interlacing.
func pngInterlaced(data []byte) bool {
	return len(data) > 28 && data[28] != 0 // signature 8, length 4, "IHDR" 4, then byte 12 of IHDR
}

// readPNGRows decodes a non-interlaced PNG row by row and passes each row on as
// alpha-premultiplied RGBA, exactly as image/png followed by draw.Draw onto an RGBA image
// would make it, holding two rows of the image instead of all of them. Chunk checksums and
// the zlib checksum are verified.
func readPNGRows(data []byte, emit func([]byte)) error {
	if len(data) < 8 || string(data[:8]) != "\x89PNG\r\n\x1a\n" {
		return errors.New("png: not a PNG")
	}
	var (
		w, h, depth, ct int
		palette         [256][4]uint8 // premultiplied; entries past the PLTE's are opaque black
		trns            []byte
		idat            []io.Reader
	)
	for i := range palette {
		palette[i] = [4]uint8{0, 0, 0, 0xff}
	}
	seenIHDR, seenPLTE, seenIEND := false, false, false
	for pos := 8; !seenIEND; {
		if pos+12 > len(data) {
			return io.ErrUnexpectedEOF
		}
		n := int(binary.BigEndian.Uint32(data[pos:]))
		if n < 0 || n > len(data)-pos-12 {
			return io.ErrUnexpectedEOF
		}
		typ, body := string(data[pos+4:pos+8]), data[pos+8:pos+8+n]
		if crc32.ChecksumIEEE(data[pos+4:pos+8+n]) != binary.BigEndian.Uint32(data[pos+8+n:]) {
			return errors.New("png: bad chunk checksum")
		}
		pos += 12 + n
		if !seenIHDR && typ != "IHDR" {
			return errors.New("png: IHDR is not the first chunk")
		}
		switch typ {
		case "IHDR":
			if n != 13 || seenIHDR {
				return errors.New("png: bad IHDR")
			}
			seenIHDR = true
			w, h = int(binary.BigEndian.Uint32(body)), int(binary.BigEndian.Uint32(body[4:]))
			depth, ct = int(body[8]), int(body[9])
			if body[10] != 0 || body[11] != 0 || body[12] != 0 {
				return errors.New("png: unsupported compression, filter or interlacing")
			}
		case "PLTE":
			if n%3 != 0 || n == 0 || n > 3*256 {
				return errors.New("png: bad palette")
			}
			seenPLTE = true
			for i := 0; i < n/3; i++ {
				palette[i] = [4]uint8{body[3*i], body[3*i+1], body[3*i+2], 0xff}
			}
		case "tRNS":
			trns = body
		case "IDAT":
			idat = append(idat, bytes.NewReader(body))
		case "IEND":
			seenIEND = true
		}
	}
	channels := map[int]int{0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[ct]
	okDepth := map[int][]int{0: {1, 2, 4, 8, 16}, 2: {8, 16}, 3: {1, 2, 4, 8}, 4: {8, 16}, 6: {8, 16}}[ct]
	if channels == 0 || w <= 0 || h <= 0 || !slices.Contains(okDepth, depth) || ct == 3 && !seenPLTE {
		return errors.New("png: unsupported colour type or bit depth")
	}
	if ct == 3 && len(trns) > 256 || ct == 0 && trns != nil && len(trns) != 2 || ct == 2 && trns != nil && len(trns) != 6 {
		return errors.New("png: bad tRNS")
	}
	if ct == 3 {
		for i, a := range trns {
			p := palette[i]
			palette[i] = [4]uint8{premul8(p[0], a), premul8(p[1], a), premul8(p[2], a), a}
		}
	}

	z, err := zlib.NewReader(io.MultiReader(idat...))
	if err != nil {
		return err
	}
	bitsPP := channels * depth
	bpp := max(1, bitsPP/8)
	cur, prev := make([]byte, 1+(w*bitsPP+7)/8), make([]byte, 1+(w*bitsPP+7)/8)
	out := make([]byte, 4*w)
	for y := 0; y < h; y++ {
		if _, err := io.ReadFull(z, cur); err != nil {
			return err
		}
		if err := unfilter(cur[0], cur[1:], prev[1:], bpp); err != nil {
			return err
		}
		pngToRGBA(out, cur[1:], ct, depth, trns, &palette)
		emit(out)
		cur, prev = prev, cur
	}
	// Reading to the end checks the zlib checksum, and that no pixel data is left over.
	if n, err := io.ReadFull(z, cur[:1]); n != 0 || err != io.EOF {
		return errors.New("png: too much pixel data or a bad checksum")
	}
	return nil
}

// unfilter undoes a PNG row filter in place (PNG §9), prev being the previous row
// unfiltered (zeros for the first).
func unfilter(kind byte, cur, prev []byte, bpp int) error {
	switch kind {
	case 0:
	case 1: // Sub
		for i := bpp; i < len(cur); i++ {
			cur[i] += cur[i-bpp]
		}
	case 2: // Up
		for i, p := range prev {
			cur[i] += p
		}
	case 3: // Average
		for i := 0; i < bpp; i++ {
			cur[i] += prev[i] / 2
		}
		for i := bpp; i < len(cur); i++ {
			cur[i] += uint8((int(cur[i-bpp]) + int(prev[i])) / 2)
		}
	case 4: // Paeth
		for i := range cur {
			var a, c int
			if i >= bpp {
				a, c = int(cur[i-bpp]), int(prev[i-bpp])
			}
			b := int(prev[i])
			p := a + b - c
			pa, pb, pc := abs(p-a), abs(p-b), abs(p-c)
			switch {
			case pa <= pb && pa <= pc:
				cur[i] += uint8(a)
			case pb <= pc:
				cur[i] += uint8(b)
			default:
				cur[i] += uint8(c)
			}
		}
	default:
		return errors.New("png: bad filter type")
	}
	return nil
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// premul8 multiplies an 8-bit colour value by an 8-bit alpha the way image/draw does.
func premul8(v, a uint8) uint8 { return uint8(uint32(v) * uint32(a) * 0x101 / 0xff >> 8) }

// premul16 does it for 16-bit samples, returning the 8-bit result.
func premul16(v, a uint32) uint8 { return uint8(v * a / 0xffff >> 8) }

// pngToRGBA converts one unfiltered row of PNG samples to alpha-premultiplied RGBA.
// tRNS (a transparent colour for grey and truecolour images) compares like image/png.
func pngToRGBA(out, row []byte, ct, depth int, trns []byte, palette *[256][4]uint8) {
	w := len(out) / 4
	u16 := func(b []byte) uint32 { return uint32(b[0])<<8 | uint32(b[1]) }
	switch {
	case ct == 3 || (ct == 0 && depth < 16): // palette indexes or grey samples of 1 to 8 bits
		mask, perByte := byte(1<<depth-1), 8/depth
		scale := byte(0xff / (1<<depth - 1)) // grey: 1 → 255, 2 bits → ×85, 4 bits → ×17
		key := -1
		if ct == 0 && trns != nil {
			key = int(trns[1] * scale)
		}
		for x := 0; x < w; x++ {
			shift := 8 - depth*(x%perByte+1)
			v := row[x/perByte] >> shift & mask
			o := out[4*x : 4*x+4]
			if ct == 3 {
				p := palette[v]
				o[0], o[1], o[2], o[3] = p[0], p[1], p[2], p[3]
				continue
			}
			g := v * scale
			if int(g) == key {
				o[0], o[1], o[2], o[3] = 0, 0, 0, 0
			} else {
				o[0], o[1], o[2], o[3] = g, g, g, 0xff
			}
		}
	case ct == 0: // 16-bit grey
		for x := 0; x < w; x++ {
			g := u16(row[2*x:])
			o := out[4*x : 4*x+4]
			if trns != nil && g == u16(trns) {
				o[0], o[1], o[2], o[3] = 0, 0, 0, 0
			} else {
				o[0], o[1], o[2], o[3] = uint8(g>>8), uint8(g>>8), uint8(g>>8), 0xff
			}
		}
	case ct == 2 && depth == 8:
		for x := 0; x < w; x++ {
			s, o := row[3*x:3*x+3], out[4*x:4*x+4]
			if trns != nil && s[0] == trns[1] && s[1] == trns[3] && s[2] == trns[5] {
				o[0], o[1], o[2], o[3] = 0, 0, 0, 0
			} else {
				o[0], o[1], o[2], o[3] = s[0], s[1], s[2], 0xff
			}
		}
	case ct == 2: // 16-bit truecolour
		for x := 0; x < w; x++ {
			s, o := row[6*x:6*x+6], out[4*x:4*x+4]
			if trns != nil && u16(s) == u16(trns) && u16(s[2:]) == u16(trns[2:]) && u16(s[4:]) == u16(trns[4:]) {
				o[0], o[1], o[2], o[3] = 0, 0, 0, 0
			} else {
				o[0], o[1], o[2], o[3] = s[0], s[2], s[4], 0xff
			}
		}
	case ct == 4 && depth == 8:
		for x := 0; x < w; x++ {
			g, a := premul8(row[2*x], row[2*x+1]), row[2*x+1]
			out[4*x], out[4*x+1], out[4*x+2], out[4*x+3] = g, g, g, a
		}
	case ct == 4: // 16-bit grey and alpha
		for x := 0; x < w; x++ {
			g, a := u16(row[4*x:]), u16(row[4*x+2:])
			v := premul16(g, a)
			out[4*x], out[4*x+1], out[4*x+2], out[4*x+3] = v, v, v, uint8(a>>8)
		}
	case depth == 8: // truecolour and alpha
		for x := 0; x < w; x++ {
			s, o := row[4*x:4*x+4], out[4*x:4*x+4]
			o[0], o[1], o[2], o[3] = premul8(s[0], s[3]), premul8(s[1], s[3]), premul8(s[2], s[3]), s[3]
		}
	default: // 16-bit truecolour and alpha
		for x := 0; x < w; x++ {
			s := row[8*x : 8*x+8]
			a := u16(s[6:])
			out[4*x], out[4*x+1], out[4*x+2], out[4*x+3] = premul16(u16(s), a), premul16(u16(s[2:]), a), premul16(u16(s[4:]), a), uint8(a>>8)
		}
	}
}

// Bytes is a size argument of a message: the web layer shows it in the reader's language.
type Bytes int

// Unit returns the size as a number and the catalogue's format for its unit ("%d MiB").
func (b Bytes) Unit() (int, string) {
	n := int(b)
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return n >> 20, "%d MiB"
	case n >= 1<<10:
		return n >> 10, "%d KiB"
	}
	return n, "%d bytes"
}

func (b Bytes) String() string {
	n, format := b.Unit()
	return strconv.Itoa(n) + format[2:]
}
