package engine

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/duckfleet/duckfleet/internal/api"
)

// Image is a consistent export of the node's database in the spool.
type Image struct {
	// Dir holds schema.sql, load.sql and one Parquet file (ZSTD) per table.
	Dir string
	// Tables maps "schema.table" to its row count in the exported snapshot.
	Tables map[string]int64
	// DuckDBVersion is the version that wrote the image.
	DuckDBVersion string
}

// SpoolDir returns a new directory in the spool, for an image to be read
// into or written from; the caller removes it.
func (e *Engine) SpoolDir(name string) (string, error) {
	if name == "" || strings.ContainsAny(name, `/\'"`) || name == "." || name == ".." {
		return "", fmt.Errorf("bad spool name %q", name)
	}
	dir := filepath.Join(e.spool, name)
	if err := os.RemoveAll(dir); err != nil {
		return "", err
	}
	return dir, nil
}

// Export writes a consistent image of the database (schemas, tables,
// views, macros, sequences) into the spool directory dir, counting every
// table's rows in the same transaction.
func (e *Engine) Export(ctx context.Context, dir, compression string) (Image, error) {
	if compression == "" {
		compression = "zstd"
	}
	if !slices.Contains(api.Compressions, compression) {
		return Image{}, fmt.Errorf("compression %q is not one of %v", compression, api.Compressions)
	}
	e.mu.RLock()
	defer e.mu.RUnlock()
	if e.db == nil {
		return Image{}, ErrNoDatabase
	}
	img := Image{Dir: dir, Tables: map[string]int64{}}
	conn, err := e.db.Conn(ctx)
	if err != nil {
		return img, err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "BEGIN TRANSACTION"); err != nil {
		return img, fmt.Errorf("begin export: %w", err)
	}
	committed := false
	defer func() {
		if !committed {
			_, _ = conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK")
		}
	}()
	if _, err := conn.ExecContext(ctx, "EXPORT DATABASE "+quote(dir)+" (FORMAT parquet, COMPRESSION "+compression+")"); err != nil {
		return img, fmt.Errorf("export database: %w", err)
	}
	if img.Tables, err = countRows(ctx, conn); err != nil {
		return img, err
	}
	if err := conn.QueryRowContext(ctx, "SELECT library_version FROM pragma_version()").Scan(&img.DuckDBVersion); err != nil {
		return img, fmt.Errorf("read the DuckDB version: %w", err)
	}
	if _, err := conn.ExecContext(ctx, "COMMIT"); err != nil {
		return img, fmt.Errorf("commit export: %w", err)
	}
	committed = true
	return img, nil
}

type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// countRows counts every user table's rows.
func countRows(ctx context.Context, q querier) (map[string]int64, error) {
	rows, err := q.QueryContext(ctx, "SELECT schema_name, table_name FROM duckdb_tables() WHERE NOT internal ORDER BY ALL")
	if err != nil {
		return nil, fmt.Errorf("list tables: %w", err)
	}
	var names [][2]string
	for rows.Next() {
		var n [2]string
		if err := rows.Scan(&n[0], &n[1]); err != nil {
			rows.Close()
			return nil, err
		}
		names = append(names, n)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	counts := make(map[string]int64, len(names))
	for _, n := range names {
		var c int64
		if err := q.QueryRowContext(ctx, "SELECT count(*) FROM "+quoteIdent(n[0])+"."+quoteIdent(n[1])).Scan(&c); err != nil {
			return nil, fmt.Errorf("count %s.%s: %w", n[0], n[1], err)
		}
		counts[n[0]+"."+n[1]] = c
	}
	return counts, nil
}

// ErrRowCounts is an import whose tables do not hold the rows the image says.
var ErrRowCounts = errors.New("the imported tables do not match the image's row counts")

// RestorePath returns where a database file to restore is written: beside
// the node's own, so that SwapIn is a rename. Whatever an earlier restore
// left there is removed.
func (e *Engine) RestorePath() (string, error) {
	staged, err := e.restorePath()
	if err != nil {
		return "", err
	}
	os.Remove(staged)
	os.Remove(staged + ".wal")
	return staged, nil
}

func (e *Engine) restorePath() (string, error) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	if e.cluster == "" {
		return "", ErrNoDatabase
	}
	return e.Path(e.cluster) + ".restore", nil
}

// Stage imports an image from the spool into a new database file at
// RestorePath, and checks every table's row count against want. The node's
// own database is not touched; SwapIn makes the staged file the node's.
func (e *Engine) Stage(ctx context.Context, dir string, want map[string]int64) (string, error) {
	staged, err := e.RestorePath()
	if err != nil {
		return "", err
	}
	return staged, e.stage(ctx, staged, want, func(db *sql.DB) error {
		if _, err := db.ExecContext(ctx, "IMPORT DATABASE "+quote(dir)); err != nil {
			return fmt.Errorf("import database: %w", err)
		}
		return nil
	})
}

// StageFile checks a database file written at RestorePath (a copy of a
// snapshot): it opens it with the node's settings and checks every
// table's row count against want. The node's own database is not touched.
func (e *Engine) StageFile(ctx context.Context, staged string, want map[string]int64) error {
	path, err := e.restorePath()
	if err != nil {
		return err
	}
	if staged != path {
		return fmt.Errorf("stage %s: a database to restore must be written at %s", staged, path)
	}
	return e.stage(ctx, staged, want, nil)
}

// stage opens the staged database, loads it (when load is not nil) and
// checks its row counts; on any failure the staged file is removed.
func (e *Engine) stage(ctx context.Context, staged string, want map[string]int64, load func(*sql.DB) error) (err error) {
	e.mu.RLock()
	settings := e.settings
	e.mu.RUnlock()
	defer func() {
		if err != nil {
			os.Remove(staged)
			os.Remove(staged + ".wal")
		}
	}()
	db, err := e.open(ctx, staged, settings)
	if err != nil {
		return err
	}
	defer db.Close()
	if load != nil {
		if err := load(db); err != nil {
			return err
		}
	}
	got, err := countRows(ctx, db)
	if err != nil {
		return err
	}
	for t, n := range want {
		if got[t] != n {
			return fmt.Errorf("%w: %s holds %d rows, the image says %d", ErrRowCounts, t, got[t], n)
		}
	}
	if len(got) != len(want) {
		return fmt.Errorf("%w: %d tables in the database, the image has %d", ErrRowCounts, len(got), len(want))
	}
	if _, err := db.ExecContext(ctx, "CHECKPOINT"); err != nil {
		return fmt.Errorf("checkpoint the staged database: %w", err)
	}
	return nil
}

// SwapIn replaces the node's database with a staged file: it waits for
// running queries, closes the database, moves the staged file in place and
// opens it with the same settings.
func (e *Engine) SwapIn(ctx context.Context, staged string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	cluster, settings := e.cluster, e.settings
	if cluster == "" {
		return ErrNoDatabase
	}
	if err := e.closeLocked(); err != nil {
		return err
	}
	path := e.Path(cluster)
	os.Remove(path + ".wal")
	if err := os.Rename(staged, path); err != nil {
		// Keep serving the old database.
		if db, rerr := e.open(ctx, path, settings); rerr == nil {
			e.db, e.cluster, e.settings = db, cluster, settings
		}
		return fmt.Errorf("swap in the restored database: %w", err)
	}
	syncDir(filepath.Dir(path)) // the rename survives a crash
	db, err := e.open(ctx, path, settings)
	if err != nil {
		return err
	}
	e.db, e.cluster, e.settings = db, cluster, settings
	e.parser.forget()
	e.catalogChanged()
	return nil
}

// syncDir syncs a directory, so that a rename in it is on disk; where
// that cannot be done, the rename is as durable as the file system makes it.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
}
