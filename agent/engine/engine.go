// Package engine is the sole owner of a node's DuckDB database: it opens the
// database with the cluster's settings, reopens it when settings change
// (the configuration is locked once open, so a change means draining
// in-flight work, closing and opening again), reads back the settings in
// effect, and removes the database when the node is released.
package engine

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	_ "github.com/duckdb/duckdb-go/v2" // registers the "duckdb" driver
	"golang.org/x/sync/semaphore"

	"github.com/duckfleet/duckfleet/internal/api"
)

// Engine is safe for concurrent use: work on the database holds a read
// lock, reopening holds the write lock.
type Engine struct {
	dir     string
	private string // outside the data dir: DuckDB's spill and spool dirs
	spill   string // DuckDB's temp_directory
	spool   string // the only directory DuckDB may read and write files in
	parser  *parser
	// writers is held (weight 1) by every statement that may write, and
	// wholly by a snapshot, which so waits for running writes and holds
	// off new ones while reads go on.
	writers *semaphore.Weighted

	mu       sync.RWMutex
	db       *sql.DB
	dbName   string // the catalog name of db
	objects  atomic.Pointer[userObjects]
	cluster  string
	settings api.Settings // desired settings the database was opened with
}

// New returns an engine keeping its database files under dir.
func New(dir string) (*Engine, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create database dir: %w", err)
	}
	p, err := newParser()
	if err != nil {
		return nil, err
	}
	// Users can read settings (current_setting), so DuckDB's spill and
	// spool directories live outside the data dir, whose path they must
	// not learn. The spool is where exports and imports happen; users
	// cannot read it (file-reading functions are refused by the gateway).
	// One engine per data dir runs at a time (DuckDB locks the database
	// file), so a private dir named after the data dir and left by an
	// engine that was killed is stale: remove it.
	sum := sha256.Sum256([]byte(dir))
	tag := "duckfleet-" + hex.EncodeToString(sum[:6]) + "-"
	if stale, err := filepath.Glob(filepath.Join(os.TempDir(), tag+"*")); err == nil {
		for _, d := range stale {
			os.RemoveAll(d)
		}
	}
	private, err := os.MkdirTemp("", tag)
	if err != nil {
		p.close()
		return nil, fmt.Errorf("create private dir: %w", err)
	}
	e := &Engine{dir: dir, private: private, spill: filepath.Join(private, "spill"), spool: filepath.Join(private, "spool"), parser: p,
		writers: semaphore.NewWeighted(writersMax)}
	for _, d := range []string{e.spill, e.spool} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			p.close()
			os.RemoveAll(private)
			return nil, fmt.Errorf("create %s: %w", d, err)
		}
	}
	return e, nil
}

// Path returns the database file of a cluster.
func (e *Engine) Path(cluster string) string {
	return filepath.Join(e.dir, cluster+".duckdb")
}

// Apply makes the database match: the cluster's database file open with
// the given settings, or no database at all when cluster is empty. A node
// that moves to another cluster starts from an empty database.
func (e *Engine) Apply(ctx context.Context, cluster string, s api.Settings) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.db != nil && e.cluster == cluster && e.settings == s {
		return nil
	}
	if err := e.closeLocked(); err != nil {
		return err
	}
	if cluster == "" {
		return e.removeOthers("")
	}
	if err := e.removeOthers(cluster); err != nil {
		return err
	}
	db, err := e.open(ctx, e.Path(cluster), s)
	if err != nil {
		return err
	}
	if err := db.QueryRowContext(ctx, "SELECT current_database()").Scan(&e.dbName); err != nil {
		db.Close()
		return fmt.Errorf("read the database name: %w", err)
	}
	e.parser.forget()
	e.catalogChanged()
	e.db, e.cluster, e.settings = db, cluster, s
	return nil
}

// removeOthers deletes every database file but keep's.
func (e *Engine) removeOthers(keep string) error {
	entries, err := os.ReadDir(e.dir)
	if err != nil {
		return fmt.Errorf("list database dir: %w", err)
	}
	for _, ent := range entries {
		name := ent.Name()
		if keep != "" && (name == keep+".duckdb" || name == keep+".duckdb.wal") {
			continue
		}
		if err := os.RemoveAll(filepath.Join(e.dir, name)); err != nil {
			return fmt.Errorf("remove old database %s: %w", name, err)
		}
	}
	return nil
}

func (e *Engine) open(ctx context.Context, path string, s api.Settings) (*sql.DB, error) {
	mem, err := api.ParseSize(s.MemoryLimit)
	if err != nil {
		return nil, fmt.Errorf("memory_limit: %w", err)
	}
	if s.Threads < 1 {
		return nil, fmt.Errorf("threads: %d is not a thread count", s.Threads)
	}
	// Applied in this order: the spill directory can only be set while
	// external access is on, and nothing can be set once locked. (duckdb-go
	// applies DSN options in map order, so they are not given there.)
	settings := []string{
		"SET memory_limit = '" + strconv.FormatInt(mem, 10) + "B'",
		"SET threads = " + strconv.Itoa(s.Threads),
		"SET temp_directory = " + quote(e.spill),
		"SET allowed_directories = [" + quote(e.spool+string(filepath.Separator)) + "]",
		// User SQL will run here: no files, no extension downloads, and
		// no setting changes once open.
		"SET autoinstall_known_extensions = false",
		"SET autoload_known_extensions = false",
		"SET enable_external_access = false",
		"SET lock_configuration = true",
	}
	db, err := sql.Open("duckdb", path)
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	for _, set := range settings {
		if _, err := db.ExecContext(ctx, set); err != nil {
			db.Close()
			return nil, fmt.Errorf("open database %s: %s: %w", path, set, err)
		}
	}
	return db, nil
}

func (e *Engine) closeLocked() error {
	if e.db == nil {
		return nil
	}
	err := e.db.Close()
	e.db, e.cluster, e.settings = nil, "", api.Settings{}
	if err != nil {
		return fmt.Errorf("close database: %w", err)
	}
	return nil
}

// ErrNoDatabase is returned while the node runs no cluster.
var ErrNoDatabase = errors.New("no database: the node runs no cluster")

// Effective reads back the settings DuckDB has in effect.
func (e *Engine) Effective(ctx context.Context) (api.Settings, error) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	if e.db == nil {
		return api.Settings{}, ErrNoDatabase
	}
	var s api.Settings
	var threads int64
	err := e.db.QueryRowContext(ctx, `SELECT current_setting('memory_limit'), current_setting('threads')`).Scan(&s.MemoryLimit, &threads)
	if err != nil {
		return api.Settings{}, fmt.Errorf("read settings: %w", err)
	}
	s.Threads = int(threads)
	return s, nil
}

// Ping checks that the open database answers.
func (e *Engine) Ping(ctx context.Context) error {
	e.mu.RLock()
	defer e.mu.RUnlock()
	if e.db == nil {
		return nil
	}
	return e.db.PingContext(ctx)
}

// Close closes the database, if open, and the parser.
func (e *Engine) Close() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.parser != nil {
		e.parser.close()
		e.parser = nil
	}
	err := e.closeLocked()
	if e.private != "" {
		os.RemoveAll(e.private)
		e.private = ""
	}
	return err
}

// quote writes s as a SQL string literal.
func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// quoteIdent writes s as a SQL identifier.
func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }
