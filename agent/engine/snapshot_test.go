package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
)

type discard struct{}

func (discard) Columns([]string, []string) error { return nil }
func (discard) Row([]any) error                  { return nil }

func exec(ctx context.Context, e *Engine, sql string) error {
	_, err := e.Query(ctx, Query{SQL: sql, Authorize: func(*Statement) error { return nil }}, discard{})
	return err
}

// TestSnapshotUnderWrites takes snapshots while statements write and a
// sequence is read (nextval writes too): every snapshot opens, holds
// exactly the rows it counted, and writes go on after it.
func TestSnapshotUnderWrites(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	e := openTest(t)
	for _, q := range []string{
		"CREATE TABLE t (i BIGINT, s VARCHAR)",
		"INSERT INTO t SELECT i, 'x' || i FROM range(200000) r(i)",
		"CREATE TABLE u AS SELECT 1 AS one",
		"CREATE SEQUENCE seq",
	} {
		if err := exec(ctx, e, q); err != nil {
			t.Fatal(err)
		}
	}
	var inserted atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for _, q := range []string{"INSERT INTO t SELECT i, 'y' FROM range(1000) r(i)", "SELECT nextval('seq')"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if err := exec(ctx, e, q); err != nil {
					t.Errorf("%s: %v", q, err)
					return
				}
				inserted.Add(1)
			}
		}()
	}
	defer func() {
		close(stop)
		wg.Wait()
		if inserted.Load() == 0 {
			t.Error("no statement ran beside the snapshots")
		}
	}()

	for i := range 3 {
		dir := filepath.Join(t.TempDir(), fmt.Sprint(i))
		img, err := e.Snapshot(ctx, dir)
		if err != nil {
			t.Fatalf("Snapshot %d: %v", i, err)
		}
		if img.Tables["main.t"] < 200000 || img.Tables["main.u"] != 1 || img.DuckDBVersion == "" {
			t.Fatalf("snapshot %d counted %v (DuckDB %q)", i, img.Tables, img.DuckDBVersion)
		}
		restored := openTest(t)
		staged, err := restored.RestorePath()
		if err != nil {
			t.Fatal(err)
		}
		copyFile(t, filepath.Join(dir, DatabaseFile), staged)
		if err := restored.StageFile(ctx, staged, img.Tables); err != nil {
			t.Fatalf("snapshot %d does not hold what it counted: %v", i, err)
		}
		if err := restored.SwapIn(ctx, staged); err != nil {
			t.Fatal(err)
		}
		// Writes go on once the snapshot is done.
		if err := exec(ctx, e, "INSERT INTO u VALUES (2)"); err != nil {
			t.Fatal(err)
		}
		if err := exec(ctx, e, "DELETE FROM u WHERE one = 2"); err != nil {
			t.Fatal(err)
		}
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	in, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.Create(to)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestHeaderIteration reads DuckDB's checkpoint iteration: it grows with
// every checkpoint that writes, and a file that is not DuckDB's is refused.
func TestHeaderIteration(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	e := openTest(t)
	iteration := func() uint64 {
		f, err := os.Open(e.Path("c"))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		n, err := headerIteration(f)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	var seen []uint64
	for _, q := range []string{"CREATE TABLE t (i INTEGER)", "INSERT INTO t VALUES (1)"} {
		if err := exec(ctx, e, q); err != nil {
			t.Fatal(err)
		}
		if _, err := e.Snapshot(ctx, t.TempDir()); err != nil {
			t.Fatal(err)
		}
		seen = append(seen, iteration())
	}
	if seen[1] <= seen[0] {
		t.Errorf("iterations %v: a checkpoint did not advance the header", seen)
	}
	other := filepath.Join(t.TempDir(), "not.duckdb")
	if err := os.WriteFile(other, make([]byte, 3*headerSize), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(other)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := headerIteration(f); !errors.Is(err, errNotDuckDB) {
		t.Errorf("headerIteration of zeros = %v, want errNotDuckDB", err)
	}
}

// TestCopyNoticesCheckpoints: a copy during which a checkpoint completed
// is not taken for a consistent one.
func TestCopyNoticesCheckpoints(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	e := openTest(t)
	if err := exec(ctx, e, "CREATE TABLE t AS SELECT 1 AS i"); err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(t.TempDir(), "copy")
	for _, tt := range []struct {
		name   string
		during func()
		want   bool
	}{
		{"quiet", nil, true},
		{"checkpointed", func() {
			if err := exec(ctx, e, "INSERT INTO t VALUES (2)"); err != nil {
				t.Error(err)
			}
			e.mu.RLock()
			defer e.mu.RUnlock()
			if _, err := e.db.ExecContext(ctx, "CHECKPOINT"); err != nil {
				t.Error(err)
			}
		}, false},
	} {
		same, err := copyStable(e.Path("c"), dst, tt.during)
		if err != nil || same != tt.want {
			t.Errorf("%s: copyStable = %v, %v; want %v", tt.name, same, err, tt.want)
		}
	}
}

// TestStageFileRefusesOtherPaths keeps staged files beside the database.
func TestStageFileRefusesOtherPaths(t *testing.T) {
	t.Parallel()
	e := openTest(t)
	err := e.StageFile(t.Context(), filepath.Join(t.TempDir(), "x.duckdb"), nil)
	if err == nil {
		t.Fatal("StageFile accepted a file outside the restore path")
	}
	if !fileExists(e.Path("c")) {
		t.Error("the node's database is gone")
	}
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
