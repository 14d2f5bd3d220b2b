package backup

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/duckfleet/duckfleet/agent/engine"
	"github.com/duckfleet/duckfleet/agent/storage"
	"github.com/duckfleet/duckfleet/internal/api"
	"github.com/duckfleet/duckfleet/internal/fleettest"
	"github.com/google/go-cmp/cmp"
	"gocloud.dev/blob"
)

type rows struct{ data [][]any }

func (r *rows) Columns([]string, []string) error { return nil }
func (r *rows) Row(v []any) error                { r.data = append(r.data, v); return nil }

func anything(*engine.Statement) error { return nil }

func newEngine(t testing.TB) *engine.Engine {
	t.Helper()
	e, err := engine.New(filepath.Join(t.TempDir(), "db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	if err := e.Apply(t.Context(), "c", api.Settings{MemoryLimit: "256MiB", Threads: 2}); err != nil {
		t.Fatal(err)
	}
	return e
}

func run(t testing.TB, e *engine.Engine, sql string) [][]any {
	t.Helper()
	var r rows
	if _, err := e.Query(t.Context(), engine.Query{SQL: sql, Authorize: anything}, &r); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return r.data
}

// fill creates every kind of object a backup must carry.
func fill(t *testing.T, e *engine.Engine) {
	for _, q := range []string{
		"CREATE SCHEMA sales",
		"CREATE SEQUENCE sales.ids START 100",
		"CREATE TABLE sales.orders (id INTEGER PRIMARY KEY, amount DECIMAL(12,2), tags VARCHAR[], ts TIMESTAMP)",
		"INSERT INTO sales.orders SELECT i, i * 1.25, ['a', 'b' || i], TIMESTAMP '2026-01-01' + to_seconds(i) FROM range(5000) r(i)",
		"CREATE TABLE main.empty (x INTEGER)",
		"CREATE VIEW sales.big AS SELECT * FROM sales.orders WHERE amount > 100",
		"CREATE MACRO twice(x) AS x * 2",
	} {
		run(t, e, q)
	}
}

var checks = []string{
	"SELECT * FROM sales.orders ORDER BY id",
	"SELECT count(*) FROM sales.big",
	"SELECT twice(21)",
	"SELECT nextval('sales.ids')",
	"SELECT count(*) FROM main.empty",
}

func openBucket(t testing.TB, url string) *blob.Bucket {
	t.Helper()
	b, err := storage.Open(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

// formats are the backup formats, each with what proves an object of it
// is stored in the clear.
var formats = []struct {
	name  string
	plain func(object string, data []byte) bool
}{
	{api.FormatParquet, func(o string, data []byte) bool {
		return o == "schema.sql" && bytes.Contains(data, []byte("CREATE"))
	}},
	{api.FormatDuckDB, func(o string, data []byte) bool {
		return o == engine.DatabaseFile && len(data) > 12 && string(data[8:12]) == "DUCK"
	}},
}

func roundTrip(t *testing.T, url, format string) {
	src, dst := newEngine(t), newEngine(t)
	fill(t, src)
	b := openBucket(t, url)
	var last [2]int64
	m, err := Create(t.Context(), src, b, Spec{Prefix: "clusters/c/backups", Cluster: "c", ID: "b1", Format: format},
		func(done, total int64) { last = [2]int64{done, total} })
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	if m.Kind != format || m.Tables["sales.orders"] != 5000 || m.Tables["main.empty"] != 0 || len(m.Objects) < 1 || last[0] != last[1] || last[1] == 0 {
		t.Errorf("manifest %+v, progress %v", m, last)
	}
	want := map[string][][]any{}
	for _, q := range checks {
		want[q] = run(t, src, q)
	}
	run(t, dst, "CREATE TABLE main.doomed (x INTEGER)")
	last = [2]int64{}
	if _, err := Restore(t.Context(), dst, b, "clusters/c/backups", "b1", "", func(done, total int64) { last = [2]int64{done, total} }); err != nil {
		t.Fatalf("Restore: %v", err)
	}
	if last[0] != m.Size() || last[1] != m.Size() {
		t.Errorf("restore progress %v, want %d of %d", last, m.Size(), m.Size())
	}
	for _, q := range checks {
		if d := cmp.Diff(want[q], run(t, dst, q)); d != "" {
			t.Errorf("%s differs after restore (-source +restored):\n%s", q, d)
		}
	}
	var r rows
	if _, err := dst.Query(t.Context(), engine.Query{SQL: "SELECT * FROM main.doomed", Authorize: anything}, &r); err == nil {
		t.Error("the restored database still has a table the backup did not")
	}
}

func TestRoundTripFile(t *testing.T) {
	t.Parallel()
	for _, f := range formats {
		t.Run(f.name, func(t *testing.T) {
			t.Parallel()
			roundTrip(t, "file://"+t.TempDir()+"?create_dir=true", f.name)
		})
	}
}

// TestRoundTripS3 runs against a real S3-protocol server (moto) on loopback.
// Not parallel: the AWS credentials come from the environment.
func TestRoundTripS3(t *testing.T) {
	url := fleettest.StartMoto(t, "backups")
	t.Setenv("AWS_ACCESS_KEY_ID", "test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	for _, f := range formats {
		t.Run(f.name, func(t *testing.T) { roundTrip(t, url, f.name) })
	}
}

// largest returns the name of a manifest's largest object.
func largest(m Manifest) string {
	var o Object
	for _, x := range m.Objects {
		if x.Size > o.Size {
			o = x
		}
	}
	return o.Name
}

// backedUp is a filled source engine backed up into a file:// bucket in
// dir, and a destination engine holding a table that a failed restore
// must leave alone.
type backedUp struct {
	dir      string
	src, dst *engine.Engine
	b        *blob.Bucket
	m        Manifest
}

func backUp(t *testing.T, s Spec) backedUp {
	t.Helper()
	bu := backedUp{dir: t.TempDir(), src: newEngine(t), dst: newEngine(t)}
	fill(t, bu.src)
	keeper(t, bu.dst)
	bu.b = openBucket(t, "file://"+bu.dir)
	var err error
	if bu.m, err = Create(t.Context(), bu.src, bu.b, s, nil); err != nil {
		t.Fatal(err)
	}
	return bu
}

// keeper gives dst a table that a failed restore must leave alone.
func keeper(t *testing.T, dst *engine.Engine) {
	t.Helper()
	run(t, dst, "CREATE TABLE keep (x INTEGER)")
	run(t, dst, "INSERT INTO keep VALUES (42)")
}

func checkKept(t *testing.T, dst *engine.Engine) {
	t.Helper()
	if got := run(t, dst, "SELECT x FROM keep"); len(got) != 1 || fmt.Sprint(got[0][0]) != "42" {
		t.Errorf("the node's own data changed after a failed restore: %v", got)
	}
}

func TestCorruptObjectIsRefused(t *testing.T) {
	t.Parallel()
	for _, f := range formats {
		for _, encrypted := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/encrypted=%v", f.name, encrypted), func(t *testing.T) {
				t.Parallel()
				var k string
				if encrypted {
					k = testKey(t)
				}
				bu := backUp(t, Spec{Prefix: "p", Cluster: "c", ID: "b1", Format: f.name, KeeperURL: k})
				dir, dst, b, m := bu.dir, bu.dst, bu.b, bu.m
				victim := largest(m)
				file := filepath.Join(dir, "p", "b1", victim)
				data, err := os.ReadFile(file)
				if err != nil {
					t.Fatal(err)
				}
				data[len(data)/2] ^= 0xff
				if err := os.WriteFile(file, data, 0o600); err != nil {
					t.Fatal(err)
				}
				_, err = Restore(t.Context(), dst, b, "p", "b1", k, nil)
				var ce *ChecksumError
				if !errors.As(err, &ce) || ce.Object != victim {
					t.Fatalf("Restore of a corrupted backup = %v, want a checksum error naming %s", err, victim)
				}
				checkKept(t, dst)
				if staged := dst.Path("c") + ".restore"; fileExists(staged) {
					t.Errorf("a failed restore left %s behind", staged)
				}
			})
		}
	}
}

// TestRowCountsAreChecked restores a backup whose manifest claims other
// row counts: the restore fails and the node keeps its data.
func TestRowCountsAreChecked(t *testing.T) {
	t.Parallel()
	for _, f := range formats {
		t.Run(f.name, func(t *testing.T) {
			t.Parallel()
			bu := backUp(t, Spec{Prefix: "p", Cluster: "c", ID: "b1", Format: f.name})
			dir, dst, b, m := bu.dir, bu.dst, bu.b, bu.m
			m.Tables["sales.orders"]++
			body, _ := json.Marshal(m)
			if err := os.WriteFile(filepath.Join(dir, "p", "b1", ManifestName), body, 0o600); err != nil {
				t.Fatal(err)
			}
			if _, err := Restore(t.Context(), dst, b, "p", "b1", "", nil); !errors.Is(err, engine.ErrRowCounts) {
				t.Fatalf("Restore with wrong row counts = %v, want ErrRowCounts", err)
			}
			checkKept(t, dst)
		})
	}
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

func TestBackupWithoutManifestDoesNotExist(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	src := newEngine(t)
	fill(t, src)
	b := openBucket(t, "file://"+dir)
	if _, err := Create(t.Context(), src, b, Spec{Prefix: "p", Cluster: "c", ID: "b1"}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := Create(t.Context(), src, b, Spec{Prefix: "p", Cluster: "c", ID: "b2", Format: api.FormatDuckDB}, nil); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(dir, "p", "b2", ManifestName)); err != nil {
		t.Fatal(err)
	}
	list, err := List(t.Context(), b, "p")
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].ID != "b1" || list[0].Kind != api.FormatParquet {
		t.Errorf("List = %+v, want only b1 (parquet)", list)
	}
	if _, err := Restore(t.Context(), newEngine(t), b, "p", "b2", "", nil); !errors.Is(err, ErrNotFound) {
		t.Errorf("Restore of a backup without manifest = %v, want ErrNotFound", err)
	}
}

func benchEngine(b *testing.B) *engine.Engine           { return newEngine(b) }
func runB(b *testing.B, e *engine.Engine, sql string)   { run(b, e, sql) }
func openBucketB(b *testing.B, url string) *blob.Bucket { return openBucket(b, url) }

func testKey(t *testing.T) string {
	t.Helper()
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		t.Fatal(err)
	}
	return "base64key://" + base64.URLEncoding.EncodeToString(k)
}

// TestEncryptedRoundTrip backs up with a keeper: objects in storage are not
// the plain image, restore with the same keeper gives the data back, and
// a wrong or missing key fails with a clear error and leaves the node alone.
func TestEncryptedRoundTrip(t *testing.T) {
	t.Parallel()
	for _, f := range formats {
		t.Run(f.name, func(t *testing.T) {
			t.Parallel()
			key := testKey(t)
			bu := backUp(t, Spec{Prefix: "p", Cluster: "c", ID: "enc", Format: f.name, KeeperURL: key})
			dir, src, dst, b, m := bu.dir, bu.src, bu.dst, bu.b, bu.m
			if m.Encryption != EncryptionEnvelope || m.WrappedKey == "" {
				t.Fatalf("manifest: encryption %q, wrapped key %q", m.Encryption, m.WrappedKey)
			}
			for _, o := range m.Objects {
				data, err := os.ReadFile(filepath.Join(dir, "p", "enc", o.Name))
				if err != nil {
					t.Fatal(err)
				}
				if f.plain(o.Name, data) {
					t.Errorf("%s is stored in the clear", o.Name)
				}
			}
			for name, k := range map[string]string{"missing key": "", "wrong key": testKey(t)} {
				_, err := Restore(t.Context(), dst, b, "p", "enc", k, nil)
				if err == nil || strings.Contains(err.Error(), key) || strings.Contains(err.Error(), k+"x") {
					t.Errorf("%s: Restore = %v", name, err)
				}
				if name == "missing key" && !errors.Is(err, ErrNoKey) {
					t.Errorf("missing key: %v, want ErrNoKey", err)
				}
				if name == "wrong key" && !strings.Contains(err.Error(), "cannot decrypt") {
					t.Errorf("wrong key: %v, want it to say the key cannot decrypt", err)
				}
			}
			checkKept(t, dst)
			if _, err := Restore(t.Context(), dst, b, "p", "enc", key, nil); err != nil {
				t.Fatalf("Restore with the key: %v", err)
			}
			for _, q := range checks {
				if d := cmp.Diff(run(t, src, q), run(t, dst, q)); d != "" {
					t.Errorf("%s differs after an encrypted round trip:\n%s", q, d)
				}
			}
		})
	}
}

func TestEncryptStreamDetectsTampering(t *testing.T) {
	t.Parallel()
	key := make([]byte, 32)
	plain := bytes.Repeat([]byte("duckfleet"), 300000) // several chunks
	var enc bytes.Buffer
	if err := encryptStream(&enc, bytes.NewReader(plain), key, "obj"); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := decryptStream(&out, bytes.NewReader(enc.Bytes()), key, "obj"); err != nil || !bytes.Equal(out.Bytes(), plain) {
		t.Fatalf("decrypt: %v", err)
	}
	cut := enc.Bytes()[:enc.Len()-chunkSize/2]
	if err := decryptStream(io.Discard, bytes.NewReader(cut), key, "obj"); err == nil {
		t.Error("a truncated object decrypted")
	}
	if err := decryptStream(io.Discard, bytes.NewReader(enc.Bytes()), key, "other"); err == nil {
		t.Error("an object decrypted under another name")
	}
	var empty bytes.Buffer
	if err := encryptStream(&empty, bytes.NewReader(nil), key, "e"); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if err := decryptStream(&out, bytes.NewReader(empty.Bytes()), key, "e"); err != nil || out.Len() != 0 {
		t.Errorf("empty object: %v, %d bytes", err, out.Len())
	}
}
