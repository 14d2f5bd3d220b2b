// Package backup writes consistent images of a node's database to cloud
// storage through gocloud.dev/blob and restores them. A backup is the
// objects of an image under <prefix>/<id>/, and manifest.json, uploaded
// last: format, sizes, SHA-256 of every object, DuckDB version, row counts.
// A backup without a manifest does not exist.
//
// Two formats: parquet (the schema, a load script and one ZSTD Parquet
// file per table, from EXPORT DATABASE) and duckdb (a consistent copy of
// the database file, from Engine.Snapshot). Restore verifies every object
// against the manifest before anything is opened, loads or opens the
// image in a staged database file beside the node's, and swaps it in only
// once its row counts match the manifest.
package backup

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/duckfleet/duckfleet/agent/engine"
	"github.com/duckfleet/duckfleet/internal/api"
	"gocloud.dev/blob"
	"gocloud.dev/gcerrors"
)

// ManifestName is the object that makes a backup exist.
const ManifestName = "manifest.json"

// Manifest describes one backup.
type Manifest struct {
	// Format 1 is this layout; Kind is parquet or duckdb (empty in
	// manifests written before there were two: parquet).
	Format        int              `json:"format"`
	Kind          string           `json:"kind,omitempty"`
	ID            string           `json:"id"`
	Cluster       string           `json:"cluster"`
	CreatedAt     time.Time        `json:"created_at"`
	DuckDBVersion string           `json:"duckdb_version"`
	Objects       []Object         `json:"objects"`
	Tables        map[string]int64 `json:"tables"`
	// Encryption is "none" or EncryptionEnvelope; WrappedKey is then the
	// backup's data key, encrypted by the keeper.
	Encryption string `json:"encryption"`
	WrappedKey string `json:"wrapped_key,omitempty"`
}

// Object is one file of a backup.
type Object struct {
	Name   string `json:"name"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// Size is the total size of the backup's objects.
func (m Manifest) Size() int64 {
	var n int64
	for _, o := range m.Objects {
		n += o.Size
	}
	return n
}

// Engine is the part of the node's engine backups use.
type Engine interface {
	SpoolDir(name string) (string, error)
	Export(ctx context.Context, dir, compression string) (engine.Image, error)
	Snapshot(ctx context.Context, dir string) (engine.Image, error)
	Stage(ctx context.Context, dir string, want map[string]int64) (string, error)
	RestorePath() (string, error)
	StageFile(ctx context.Context, staged string, want map[string]int64) error
	SwapIn(ctx context.Context, staged string) error
}

// Progress is told how many bytes are done of the total, as objects move.
type Progress func(done, total int64)

// Spec says which backup to take and where it goes.
type Spec struct {
	Prefix, Cluster, ID string
	// Format is api.FormatParquet (the default) or api.FormatDuckDB;
	// Compression is the Parquet codec of a parquet backup.
	Format, Compression string
	// KeeperURL, when set, encrypts every object (envelope encryption).
	KeeperURL string
}

func key(prefix, id, name string) string { return path.Join(prefix, id, name) }

// Create takes an image of the database and uploads it as backup s.ID
// under s.Prefix. The checksums are of what is stored (after encryption).
func Create(ctx context.Context, eng Engine, b *blob.Bucket, s Spec, progress Progress) (Manifest, error) {
	dir, err := eng.SpoolDir("backup-" + s.ID)
	if err != nil {
		return Manifest{}, err
	}
	defer os.RemoveAll(dir)
	var img engine.Image
	switch s.Format {
	case "", api.FormatParquet:
		s.Format = api.FormatParquet
		img, err = eng.Export(ctx, dir, s.Compression)
	case api.FormatDuckDB:
		img, err = eng.Snapshot(ctx, dir)
	default:
		err = fmt.Errorf("backup format %q is not one of %v", s.Format, api.Formats)
	}
	if err != nil {
		return Manifest{}, err
	}
	m := Manifest{Format: 1, Kind: s.Format, ID: s.ID, Cluster: s.Cluster, CreatedAt: time.Now().UTC(), DuckDBVersion: img.DuckDBVersion,
		Tables: img.Tables, Encryption: "none"}
	var dataKey []byte
	if s.KeeperURL != "" {
		k, err := keeperFor(ctx, s.KeeperURL)
		if err != nil {
			return m, err
		}
		dataKey, m.WrappedKey, err = newDataKey(ctx, k)
		k.Close()
		if err != nil {
			return m, err
		}
		m.Encryption = EncryptionEnvelope
	}
	files, err := os.ReadDir(dir)
	if err != nil {
		return m, err
	}
	var total int64
	for _, f := range files {
		if f.IsDir() {
			return m, fmt.Errorf("unexpected directory %s in the image", f.Name())
		}
		if info, err := f.Info(); err == nil {
			total += info.Size()
		}
	}
	meter := newMeter(total, progress)
	for _, f := range files {
		o, err := upload(ctx, b, filepath.Join(dir, f.Name()), key(s.Prefix, s.ID, f.Name()), dataKey, f.Name(), meter)
		if err != nil {
			return m, err
		}
		o.Name = f.Name()
		m.Objects = append(m.Objects, o)
	}
	meter.finish()
	sort.Slice(m.Objects, func(i, j int) bool { return m.Objects[i].Name < m.Objects[j].Name })
	body, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return m, err
	}
	err = put(ctx, b, key(s.Prefix, s.ID, ManifestName), "application/json", func(w io.Writer, d *durableFile) error {
		_, err := durableWriter{w, d}.Write(body)
		return err
	})
	if err != nil {
		return m, fmt.Errorf("upload the manifest: %w", err)
	}
	return m, nil
}

// upload writes file to the bucket at k (encrypted with dataKey, if any)
// and returns the size and SHA-256 of what is stored. A failed upload is
// aborted, never committed.
func upload(ctx context.Context, b *blob.Bucket, file, k string, dataKey []byte, name string, meter *meter) (Object, error) {
	f, err := os.Open(file)
	if err != nil {
		return Object{}, err
	}
	defer f.Close()
	var o Object
	err = put(ctx, b, k, "application/octet-stream", func(w io.Writer, d *durableFile) error {
		if dataKey == nil && d.f != nil {
			var err error
			o, err = kernelCopy(d.f, f, d.wrote, meter)
			return err
		}
		hw := hashingWriter{w: durableWriter{w, d}, asyncHash: newAsyncHash()}
		src := meter.reader(f)
		var err error
		if dataKey != nil {
			err = encryptStream(hw, src, dataKey, name)
		} else {
			_, err = io.CopyBuffer(hw, src, make([]byte, hashBufSize))
		}
		o = Object{Size: hw.n, SHA256: hw.Sum()} // Sum also ends the hashing goroutine
		return err
	})
	if err != nil {
		return Object{}, fmt.Errorf("upload %s: %w", k, err)
	}
	return o, nil
}

// kernelCopy copies src into dst with copy_file_range (io.Copy between
// files), so that the bytes never pass through Go, while a goroutine hashes
// src through reads of its own. wrote, if not nil, is told of every chunk
// copied.
func kernelCopy(dst, src *os.File, wrote func(int), meter *meter) (Object, error) {
	info, err := src.Stat()
	if err != nil {
		return Object{}, err
	}
	type hashed struct {
		n   int64
		sum string
		err error
	}
	done := make(chan hashed, 1)
	go func() {
		h := sha256.New()
		n, err := io.CopyBuffer(h, meter.reader(io.NewSectionReader(src, 0, info.Size())), make([]byte, hashBufSize))
		done <- hashed{n, hex.EncodeToString(h.Sum(nil)), err}
	}()
	var n int64
	for {
		var m int64
		m, err = io.CopyN(dst, src, writebackEvery)
		n += m
		if wrote != nil {
			wrote(int(m))
		}
		if err != nil {
			break
		}
	}
	h := <-done
	switch {
	case !errors.Is(err, io.EOF):
		return Object{}, err
	case h.err != nil:
		return Object{}, h.err
	case h.n != n:
		return Object{}, fmt.Errorf("%s changed while it was copied (%d bytes copied, %d hashed)", filepath.Base(src.Name()), n, h.n)
	}
	return Object{Size: n, SHA256: h.sum}, nil
}

// meter tells a Progress how many bytes of the images' files have moved,
// at most every progressEvery and once at the end.
type meter struct {
	done, total int64
	progress    Progress
	last        time.Time
}

const progressEvery = 250 * time.Millisecond

func newMeter(total int64, p Progress) *meter { return &meter{total: total, progress: p} }

func (m *meter) add(n int) {
	m.done += int64(n)
	if m.progress != nil && time.Since(m.last) >= progressEvery {
		m.last = time.Now()
		m.progress(m.done, m.total)
	}
}

func (m *meter) finish() {
	if m.progress != nil {
		m.progress(m.done, m.total)
	}
}

func (m *meter) reader(r io.Reader) io.Reader { return &meteredReader{r: r, m: m} }

type meteredReader struct {
	r io.Reader
	m *meter
}

func (r *meteredReader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	r.m.add(n)
	return n, err
}

// ErrNotFound is a backup without a manifest.
var ErrNotFound = errors.New("no such backup (no manifest)")

// ReadManifest reads backup id's manifest.
func ReadManifest(ctx context.Context, b *blob.Bucket, prefix, id string) (Manifest, error) {
	var m Manifest
	body, err := b.ReadAll(ctx, key(prefix, id, ManifestName))
	if gcerrors.Code(err) == gcerrors.NotFound {
		return m, fmt.Errorf("backup %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return m, fmt.Errorf("read the manifest of backup %s: %w", id, err)
	}
	if err := json.Unmarshal(body, &m); err != nil {
		return m, fmt.Errorf("the manifest of backup %s is corrupt: %w", id, err)
	}
	return m, nil
}

// List returns the backups under prefix that have a manifest, newest first.
func List(ctx context.Context, b *blob.Bucket, prefix string) ([]Manifest, error) {
	it := b.List(&blob.ListOptions{Prefix: strings.TrimSuffix(prefix, "/") + "/", Delimiter: "/"})
	var out []Manifest
	for {
		obj, err := it.Next(ctx)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("list backups: %w", err)
		}
		if !obj.IsDir {
			continue
		}
		id := path.Base(strings.TrimSuffix(obj.Key, "/"))
		m, err := ReadManifest(ctx, b, prefix, id)
		if errors.Is(err, ErrNotFound) {
			continue // unfinished or abandoned: not a backup
		}
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].CreatedAt.After(out[j].CreatedAt) })
	return out, nil
}

// ChecksumError is an object whose content does not match the manifest.
type ChecksumError struct {
	Object string
	Want   string
	Got    string
}

func (e *ChecksumError) Error() string {
	return fmt.Sprintf("object %s is corrupt: SHA-256 %s, the manifest says %s", e.Object, e.Got, e.Want)
}

// Restore downloads backup id, verifies every object, loads it into a
// staged database, checks its row counts and only then swaps it in. Any
// failure leaves the node's database as it was.
// An encrypted backup needs the keeper it was taken with.
func Restore(ctx context.Context, eng Engine, b *blob.Bucket, prefix, id, keeperURL string, progress Progress) (Manifest, error) {
	m, err := ReadManifest(ctx, b, prefix, id)
	if err != nil {
		return m, err
	}
	dataKey, err := m.dataKey(ctx, keeperURL)
	if err != nil {
		return m, err
	}
	for _, o := range m.Objects {
		if o.Name != filepath.Base(o.Name) || o.Name == ManifestName || o.Name == "." || o.Name == ".." {
			return m, fmt.Errorf("the manifest of backup %s names a bad object %q", id, o.Name)
		}
	}
	meter := newMeter(m.Size(), progress)
	var staged string
	switch m.Kind {
	case "", api.FormatParquet:
		dir, err := eng.SpoolDir("restore-" + id)
		if err != nil {
			return m, err
		}
		defer os.RemoveAll(dir)
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return m, err
		}
		for _, o := range m.Objects {
			if err := download(ctx, b, key(prefix, id, o.Name), filepath.Join(dir, o.Name), o, dataKey, meter, false); err != nil {
				return m, err
			}
		}
		if staged, err = eng.Stage(ctx, dir, m.Tables); err != nil {
			return m, fmt.Errorf("restore backup %s: %w", id, err)
		}
	case api.FormatDuckDB:
		if len(m.Objects) != 1 || m.Objects[0].Name != engine.DatabaseFile {
			return m, fmt.Errorf("the manifest of backup %s (format duckdb) must list exactly one object, %s", id, engine.DatabaseFile)
		}
		if staged, err = eng.RestorePath(); err != nil {
			return m, err
		}
		// Synced: the file becomes the node's database.
		if err := download(ctx, b, key(prefix, id, engine.DatabaseFile), staged, m.Objects[0], dataKey, meter, true); err != nil {
			return m, err
		}
		if err := eng.StageFile(ctx, staged, m.Tables); err != nil {
			return m, fmt.Errorf("restore backup %s (written by DuckDB %s): %w", id, m.DuckDBVersion, err)
		}
	default:
		return m, fmt.Errorf("backup %s has format %q, which this agent does not know (it knows %v)", id, m.Kind, api.Formats)
	}
	meter.finish()
	if err := eng.SwapIn(ctx, staged); err != nil {
		return m, fmt.Errorf("restore backup %s: %w", id, err)
	}
	return m, nil
}

// dataKey unwraps the backup's data key with the keeper; nil when the
// backup is not encrypted.
func (m Manifest) dataKey(ctx context.Context, keeperURL string) ([]byte, error) {
	switch m.Encryption {
	case "none", "":
		return nil, nil
	case EncryptionEnvelope:
		if keeperURL == "" {
			return nil, fmt.Errorf("restore backup %s: %w", m.ID, ErrNoKey)
		}
		k, err := keeperFor(ctx, keeperURL)
		if err != nil {
			return nil, err
		}
		defer k.Close()
		return unwrapKey(ctx, k, m.WrappedKey, m.ID)
	default:
		return nil, fmt.Errorf("backup %s uses encryption %q, which this agent does not know", m.ID, m.Encryption)
	}
}

// download streams an object into file, decrypting it with dataKey (if
// any) on the way, and checks the size and SHA-256 of what is stored. A
// corrupted object is a *ChecksumError (even when decryption noticed
// first); on any failure the file is removed. With sync the file is on
// disk when download returns.
func download(ctx context.Context, b *blob.Bucket, k, file string, want Object, dataKey []byte, meter *meter, sync bool) (err error) {
	var object *os.File // the file behind a file:// object
	r, err := b.NewReader(ctx, k, &blob.ReaderOptions{BeforeRead: func(as func(any) bool) error {
		as(&object)
		return nil
	}})
	if err != nil {
		return fmt.Errorf("download %s: %w", k, err)
	}
	defer r.Close()
	f, err := os.OpenFile(file, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			os.Remove(file)
		}
	}()
	d := &durableFile{}
	if sync {
		d.f = f
	}
	var got Object
	var werr, rerr error
	if dataKey == nil && object != nil {
		// A failed copy is a failed download (an I/O error), not corruption.
		got, rerr = kernelCopy(f, object, d.wrote, meter)
	} else {
		src := &sourceReader{r: meter.reader(r)}
		in := hashingReader{r: src, asyncHash: newAsyncHash()}
		if dataKey == nil {
			_, werr = io.CopyBuffer(durableWriter{f, d}, in, make([]byte, hashBufSize))
		} else if werr = decryptStream(durableWriter{f, d}, in, dataKey, want.Name); werr != nil {
			_, _ = io.Copy(io.Discard, in) // hash the rest: a corrupted object says so
		}
		got, rerr = Object{Size: src.n, SHA256: in.Sum()}, src.err
	}
	if werr == nil {
		werr = d.sync()
	}
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	switch {
	case rerr != nil:
		return fmt.Errorf("download %s: %w", k, rerr)
	case got.Size != want.Size || got.SHA256 != want.SHA256:
		return &ChecksumError{Object: want.Name, Want: want.SHA256, Got: got.SHA256}
	case werr != nil:
		return fmt.Errorf("download %s: %w", k, werr)
	}
	return nil
}

// sourceReader counts what it reads and keeps its first error other
// than io.EOF, to tell a failed download from a corrupted object.
type sourceReader struct {
	r   io.Reader
	n   int64
	err error
}

func (s *sourceReader) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	s.n += int64(n)
	if err != nil && !errors.Is(err, io.EOF) && s.err == nil {
		s.err = err
	}
	return n, err
}

// SHA256 returns the hex SHA-256 of what r holds.
func SHA256(r io.Reader) (string, error) {
	h := sha256.New()
	if _, err := io.Copy(h, r); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// Delete removes backup id: its manifest first, so that a half-deleted
// backup is never listed, then every other object under it. Deleting a
// backup that is already gone is not an error.
func Delete(ctx context.Context, b *blob.Bucket, prefix, id string) error {
	if err := b.Delete(ctx, key(prefix, id, ManifestName)); err != nil && gcerrors.Code(err) != gcerrors.NotFound {
		return fmt.Errorf("delete the manifest of backup %s: %w", id, err)
	}
	it := b.List(&blob.ListOptions{Prefix: key(prefix, id, "") + "/"})
	for {
		obj, err := it.Next(ctx)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("list backup %s: %w", id, err)
		}
		if err := b.Delete(ctx, obj.Key); err != nil && gcerrors.Code(err) != gcerrors.NotFound {
			return fmt.Errorf("delete %s: %w", obj.Key, err)
		}
	}
}
