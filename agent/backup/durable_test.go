package backup

import (
	"bytes"
	"errors"
	"io"
	"testing"
)

// TestPutAbortsOnFailure: an object whose writing fails is not committed,
// and one that succeeds is on disk whole.
func TestPutAbortsOnFailure(t *testing.T) {
	t.Parallel()
	b := openBucket(t, "file://"+t.TempDir())
	boom := errors.New("boom")
	err := put(t.Context(), b, "x/failed", "application/octet-stream", func(w io.Writer, d *durableFile) error {
		dw := durableWriter{w, d}
		if _, err := dw.Write(bytes.Repeat([]byte("a"), 1<<20)); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("put = %v, want boom", err)
	}
	if ok, err := b.Exists(t.Context(), "x/failed"); ok || err != nil {
		t.Errorf("a failed put left an object (exists %v, %v)", ok, err)
	}
	err = put(t.Context(), b, "x/ok", "application/json", func(w io.Writer, d *durableFile) error {
		if d.f == nil {
			t.Error("no file behind a file:// object")
		}
		_, err := durableWriter{w, d}.Write([]byte(`{}`))
		return err
	})
	if got, rerr := b.ReadAll(t.Context(), "x/ok"); err != nil || rerr != nil || string(got) != "{}" {
		t.Errorf("put = %v; read back %q, %v", err, got, rerr)
	}
}
