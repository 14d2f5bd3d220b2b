package backup

import (
	"context"
	"io"
	"os"

	"gocloud.dev/blob"
)

// durableFile catches the file behind a file:// object (through the
// writer's BeforeWrite), starts its writeback as it grows, and syncs it
// before the writer closes: a backup's objects are on disk before its
// manifest says that the backup exists. Other stores are durable once an
// upload completes, and for them it does nothing.
type durableFile struct {
	f       *os.File
	pending int64
}

// writebackEvery is how many bytes are written between two requests to
// start writeback, so that the disk works while the upload goes on and the
// final sync has little left to wait for.
const writebackEvery = 16 << 20

func (d *durableFile) options() *blob.WriterOptions {
	return &blob.WriterOptions{BeforeWrite: func(as func(any) bool) error {
		as(&d.f)
		return nil
	}}
}

func (d *durableFile) wrote(n int) {
	if d.f == nil {
		return
	}
	if d.pending += int64(n); d.pending >= writebackEvery {
		startWriteback(d.f)
		d.pending = 0
	}
}

func (d *durableFile) sync() error {
	if d.f == nil {
		return nil
	}
	return d.f.Sync()
}

// durableWriter writes to a blob writer and tells d what it wrote.
type durableWriter struct {
	w io.Writer
	d *durableFile
}

func (w durableWriter) Write(p []byte) (int, error) {
	n, err := w.w.Write(p)
	w.d.wrote(n)
	return n, err
}

// put writes the object k through fill, which gets the store's writer and
// the object's durableFile. The object is synced (on file://) and
// committed when fill succeeds, and aborted, never committed, when it
// fails. A content type opens the store's writer at once, so that the file
// behind a file:// object is known before fill runs.
func put(ctx context.Context, b *blob.Bucket, k, contentType string, fill func(w io.Writer, d *durableFile) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	d := new(durableFile)
	opts := d.options()
	opts.ContentType = contentType
	w, err := b.NewWriter(ctx, k, opts)
	if err != nil {
		return err
	}
	err = fill(w, d)
	if err == nil {
		err = d.sync()
	}
	if err != nil {
		cancel()
		w.Close()
		return err
	}
	return w.Close()
}
