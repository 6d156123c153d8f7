package passport

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"strconv"

	"golang.org/x/image/draw"
	_ "golang.org/x/image/webp" // registers WebP with image.Decode
)

// PhotoLimits bound what an upload may be and what is stored.
type PhotoLimits struct {
	MaxBytes int // the upload
	MaxSide  int // the stored image's longer side, in pixels
}

// maxDecodedBytes refuses images whose header promises a decoded size above this (width ×
// height × bytes per pixel) before they are decoded, so a small file cannot make the server
// allocate gigabytes. 64 MiB is a 16-megapixel photo at 8 bits per channel.
const maxDecodedBytes = 64 << 20

// decoding bounds how many photos one process decodes at once: each may take tens of MiB.
var decoding = make(chan struct{}, 2)

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

// NormalizePhoto checks an upload by its content (JPEG, PNG or WebP, whatever its name says),
// scales it down to fit lim.MaxSide and re-encodes it: JPEG, or PNG when it has
// transparency. Re-encoding drops every metadata block (EXIF with its location, ICC, XMP).
// Returns EINVALID with a message for the person otherwise.
func NormalizePhoto(data []byte, lim PhotoLimits) (out []byte, contentType string, w, h int, err error) {
	if len(data) == 0 {
		return nil, "", 0, 0, FieldError("photo", "Choose a photo to upload.")
	}
	if len(data) > lim.MaxBytes {
		return nil, "", 0, 0, FieldError("photo", "The photo is too large: the limit is %s.", HumanBytes(lim.MaxBytes))
	}
	cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil || (format != "jpeg" && format != "png" && format != "webp") {
		return nil, "", 0, 0, FieldError("photo", "This file is not a JPEG, PNG or WebP image.")
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || cfg.Width > 20000 || cfg.Height > 20000 ||
		cfg.Width*cfg.Height*bytesPerPixel(cfg.ColorModel) > maxDecodedBytes {
		return nil, "", 0, 0, FieldError("photo", "The image is %d×%d pixels: too large to process.", cfg.Width, cfg.Height)
	}
	decoding <- struct{}{}
	defer func() { <-decoding }()
	src, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, "", 0, 0, FieldError("photo", "This image is damaged and cannot be read.")
	}
	b := src.Bounds()
	w, h = b.Dx(), b.Dy()
	if m := max(w, h); m > lim.MaxSide {
		w, h = max(1, w*lim.MaxSide/m), max(1, h*lim.MaxSide/m)
	}
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.CatmullRom.Scale(dst, dst.Bounds(), src, b, draw.Src, nil)

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

// HumanBytes writes a size for people: 5 MiB, 300 KiB.
func HumanBytes(n int) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return strconv.Itoa(n>>20) + " MiB"
	case n >= 1<<10:
		return strconv.Itoa(n>>10) + " KiB"
	}
	return strconv.Itoa(n) + " bytes"
}
