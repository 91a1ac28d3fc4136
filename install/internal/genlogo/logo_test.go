package main

import (
	"bytes"
	"image/png"
	"os"
	"path/filepath"
	"testing"
)

// TestCommittedLogosAreCurrent fails when the drawing changed but the files
// the install package embeds were not regenerated (go generate ./install).
func TestCommittedLogosAreCurrent(t *testing.T) {
	files, err := Render()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		got, err := os.ReadFile(filepath.Join("..", "..", f.Name))
		if err != nil {
			t.Fatalf("read committed logo: %v", err)
		}
		if !bytes.Equal(got, f.Data) {
			t.Errorf("%s differs from the generator's output; run go generate ./install", f.Name)
		}
	}
}

func TestRaster(t *testing.T) {
	tests := []struct {
		size int
		// Points in pixel coordinates and whether they must be opaque.
		x, y   int
		opaque bool
	}{
		{size: 32, x: 0, y: 31, opaque: false}, // bottom-left corner is outside the head
		{size: 32, x: 16, y: 16, opaque: true}, // centre of the face
		{size: 64, x: 63, y: 63, opaque: false},
		{size: 64, x: 32, y: 32, opaque: true},
	}
	for _, tt := range tests {
		img := Raster(tt.size)
		if b := img.Bounds(); b.Dx() != tt.size || b.Dy() != tt.size {
			t.Fatalf("Raster(%d) bounds = %v", tt.size, b)
		}
		a := img.NRGBAAt(tt.x, tt.y).A
		if (a == 255) != tt.opaque {
			t.Errorf("Raster(%d) alpha at (%d,%d) = %d, want opaque=%v", tt.size, tt.x, tt.y, a, tt.opaque)
		}
	}
}

func TestRenderDecodes(t *testing.T) {
	files, err := Render()
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 3 {
		t.Fatalf("Render returned %d files, want 3", len(files))
	}
	for _, f := range files[:2] {
		if _, err := png.Decode(bytes.NewReader(f.Data)); err != nil {
			t.Errorf("%s: %v", f.Name, err)
		}
	}
	if !bytes.HasPrefix(files[2].Data, []byte("<svg ")) {
		t.Errorf("%s does not start with <svg", files[2].Name)
	}
}
