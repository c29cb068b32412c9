package shard

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func writeShard(t *testing.T, h Header, ids []uint32) []byte {
	t.Helper()
	path := filepath.Join(t.TempDir(), "x.bin")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w, err := NewWriter(f, h)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(ids[:2]); err != nil {
		t.Fatal(err)
	}
	if err := w.Write(ids[2:]); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	b, _ := os.ReadFile(path)
	return b
}

func TestRoundTrip(t *testing.T) {
	for _, width := range []int{2, 4} {
		ids := []uint32{0, 1, 65535, 7, 50256}
		if width == 4 {
			ids = append(ids, 128255)
		}
		b := writeShard(t, Header{Width: width, Name: "bpe 4096", Digest: "sha256:abcd"}, ids)
		if len(b) != HeaderSize+width*len(ids) || binary.LittleEndian.Uint32(b[4:]) != uint32(width/2) {
			t.Fatalf("width %d: %d bytes, version %d", width, len(b), binary.LittleEndian.Uint32(b[4:]))
		}
		h, got, err := Decode(b)
		if err != nil || !slices.Equal(got, ids) {
			t.Fatalf("width %d: %v %v", width, got, err)
		}
		if h.Name != "bpe 4096" || h.Digest != "sha256:abcd" || h.Tokens != int64(len(ids)) {
			t.Fatalf("header %+v", h)
		}
	}
}

func TestBareAndErrors(t *testing.T) {
	h, ids, err := Decode([]byte{1, 0, 2, 1})
	if err != nil || h.Width != 2 || !slices.Equal(ids, []uint32{1, 258}) || h.Digest != "" {
		t.Fatalf("bare: %+v %v %v", h, ids, err)
	}
	if _, _, err := Decode([]byte{1, 0, 2}); err == nil || !strings.Contains(err.Error(), "odd number of bytes (3)") {
		t.Errorf("odd: %v", err)
	}
	b := writeShard(t, Header{Width: 2}, []uint32{1, 2, 3})
	if _, _, err := Decode(b[:len(b)-2]); err == nil || !strings.Contains(err.Error(), "promises 3 tokens") {
		t.Errorf("short: %v", err)
	}
	binary.LittleEndian.PutUint32(b[4:], 9)
	if _, _, err := Decode(b); err == nil || !strings.Contains(err.Error(), "version 9") {
		t.Errorf("version: %v", err)
	}
	f, _ := os.Create(filepath.Join(t.TempDir(), "y.bin"))
	defer f.Close()
	w, _ := NewWriter(f, Header{Width: 2})
	if err := w.Write([]uint32{70000}); err == nil || !strings.Contains(err.Error(), "id 70000") {
		t.Errorf("wide id: %v", err)
	}
}
