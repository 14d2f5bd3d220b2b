// Package backup writes consistent images of a node's database to cloud
// storage through gocloud.dev/blob and restores them. A backup is the
// objects of an export (schema, load script, one ZSTD Parquet file per
// table) under <prefix>/<id>/, and manifest.json, uploaded last: sizes,
// SHA-256 of every object, DuckDB version, row counts. A backup without a
// manifest does not exist. Restore verifies every object against the
// manifest before anything is imported, and swaps the database in only
// once the imported row counts match.
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
	"gocloud.dev/blob"
	"gocloud.dev/gcerrors"
)

// ManifestName is the object that makes a backup exist.
const ManifestName = "manifest.json"

// Manifest describes one backup.
type Manifest struct {
	Format        int              `json:"format"`
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
	Stage(ctx context.Context, dir string, want map[string]int64) (string, error)
	SwapIn(ctx context.Context, staged string) error
}

// Progress is told how many bytes are done of the total, as objects move.
type Progress func(done, total int64)

func key(prefix, id, name string) string { return path.Join(prefix, id, name) }

// Create exports the database and uploads it as backup id under prefix.
// With a keeper URL every object is encrypted before upload (envelope
// encryption); the checksums are of what is stored.
func Create(ctx context.Context, eng Engine, b *blob.Bucket, prefix, cluster, id, compression, keeperURL string, progress Progress) (Manifest, error) {
	dir, err := eng.SpoolDir("backup-" + id)
	if err != nil {
		return Manifest{}, err
	}
	defer os.RemoveAll(dir)
	img, err := eng.Export(ctx, dir, compression)
	if err != nil {
		return Manifest{}, err
	}
	m := Manifest{Format: 1, ID: id, Cluster: cluster, CreatedAt: time.Now().UTC(), DuckDBVersion: img.DuckDBVersion, Tables: img.Tables, Encryption: "none"}
	var dataKey []byte
	if keeperURL != "" {
		k, err := keeperFor(ctx, keeperURL)
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
	var total, done int64
	for _, f := range files {
		if info, err := f.Info(); err == nil {
			total += info.Size()
		}
	}
	for _, f := range files {
		if f.IsDir() {
			return m, fmt.Errorf("unexpected directory %s in the export", f.Name())
		}
		o, err := upload(ctx, b, filepath.Join(dir, f.Name()), key(prefix, id, f.Name()), dataKey, f.Name())
		if err != nil {
			return m, err
		}
		o.Name = f.Name()
		m.Objects = append(m.Objects, o)
		done += o.Size
		if progress != nil {
			progress(done, total)
		}
	}
	sort.Slice(m.Objects, func(i, j int) bool { return m.Objects[i].Name < m.Objects[j].Name })
	body, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return m, err
	}
	if err := b.WriteAll(ctx, key(prefix, id, ManifestName), body, &blob.WriterOptions{ContentType: "application/json"}); err != nil {
		return m, fmt.Errorf("upload the manifest: %w", err)
	}
	return m, nil
}

func upload(ctx context.Context, b *blob.Bucket, file, k string, dataKey []byte, name string) (Object, error) {
	f, err := os.Open(file)
	if err != nil {
		return Object{}, err
	}
	defer f.Close()
	w, err := b.NewWriter(ctx, k, nil)
	if err != nil {
		return Object{}, fmt.Errorf("upload %s: %w", k, err)
	}
	h := sha256.New()
	cw := &countingWriter{w: io.MultiWriter(w, h)}
	if dataKey != nil {
		err = encryptStream(cw, f, dataKey, name)
	} else {
		_, err = io.Copy(cw, f)
	}
	if err != nil {
		w.Close()
		return Object{}, fmt.Errorf("upload %s: %w", k, err)
	}
	if err := w.Close(); err != nil {
		return Object{}, fmt.Errorf("upload %s: %w", k, err)
	}
	return Object{Size: cw.n, SHA256: hex.EncodeToString(h.Sum(nil))}, nil
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
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

// Restore downloads backup id, verifies every object, imports it into a
// staged database, checks its row counts and only then swaps it in. Any
// failure leaves the node's database as it was.
// An encrypted backup needs the keeper it was taken with.
func Restore(ctx context.Context, eng Engine, b *blob.Bucket, prefix, id, keeperURL string, progress Progress) (Manifest, error) {
	m, err := ReadManifest(ctx, b, prefix, id)
	if err != nil {
		return m, err
	}
	var dataKey []byte
	switch m.Encryption {
	case "none", "":
	case EncryptionEnvelope:
		if keeperURL == "" {
			return m, fmt.Errorf("restore backup %s: %w", id, ErrNoKey)
		}
		k, err := keeperFor(ctx, keeperURL)
		if err != nil {
			return m, err
		}
		dataKey, err = unwrapKey(ctx, k, m.WrappedKey, id)
		k.Close()
		if err != nil {
			return m, err
		}
	default:
		return m, fmt.Errorf("backup %s uses encryption %q, which this agent does not know", id, m.Encryption)
	}
	dir, err := eng.SpoolDir("restore-" + id)
	if err != nil {
		return m, err
	}
	defer os.RemoveAll(dir)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return m, err
	}
	var done int64
	for _, o := range m.Objects {
		if o.Name != filepath.Base(o.Name) || o.Name == ManifestName {
			return m, fmt.Errorf("the manifest of backup %s names a bad object %q", id, o.Name)
		}
		if err := download(ctx, b, key(prefix, id, o.Name), filepath.Join(dir, o.Name), o, dataKey); err != nil {
			return m, err
		}
		done += o.Size
		if progress != nil {
			progress(done, m.Size())
		}
	}
	staged, err := eng.Stage(ctx, dir, m.Tables)
	if err != nil {
		return m, fmt.Errorf("restore backup %s: %w", id, err)
	}
	if err := eng.SwapIn(ctx, staged); err != nil {
		return m, fmt.Errorf("restore backup %s: %w", id, err)
	}
	return m, nil
}

// download fetches an object, checks its checksum and, with a data key,
// decrypts it into file.
func download(ctx context.Context, b *blob.Bucket, k, file string, want Object, dataKey []byte) error {
	if dataKey != nil {
		enc := file + ".enc"
		defer os.Remove(enc)
		if err := download(ctx, b, k, enc, want, nil); err != nil {
			return err
		}
		in, err := os.Open(enc)
		if err != nil {
			return err
		}
		defer in.Close()
		out, err := os.OpenFile(file, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
		if err != nil {
			return err
		}
		err = decryptStream(out, in, dataKey, want.Name)
		if cerr := out.Close(); err == nil {
			err = cerr
		}
		return err
	}
	r, err := b.NewReader(ctx, k, nil)
	if err != nil {
		return fmt.Errorf("download %s: %w", k, err)
	}
	defer r.Close()
	f, err := os.OpenFile(file, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(f, h), r)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("download %s: %w", k, err)
	}
	got := hex.EncodeToString(h.Sum(nil))
	if n != want.Size || got != want.SHA256 {
		return &ChecksumError{Object: want.Name, Want: want.SHA256, Got: got}
	}
	return nil
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
