// Package store keeps the control plane's durable state: the desired state of
// clusters, the registered nodes and their assignments, and the hashes of the
// control plane's own tokens. The default engine is a DuckDB file.
//
// Writes that depend on a generation are conditional: an update or delete
// with an expected generation fails with ErrStale when the stored one
// differs, and nothing is written.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"time"

	_ "github.com/duckdb/duckdb-go/v2" // registers the "duckdb" driver
)

// Errors returned by the store; check them with errors.Is.
var (
	ErrNotFound = errors.New("not found")
	ErrExists   = errors.New("already exists")
	ErrStale    = errors.New("generation does not match")
)

// StaleError is a conditional write whose expected generation is not the
// stored one. It matches ErrStale with errors.Is.
type StaleError struct {
	Stored, Expected int64
}

func (e *StaleError) Error() string {
	return fmt.Sprintf("%v: stored generation is %d, expected %d", ErrStale, e.Stored, e.Expected)
}

// Is makes errors.Is(err, ErrStale) true.
func (e *StaleError) Is(target error) bool { return target == ErrStale }

// Store is the DuckDB-backed store. Its methods are safe for concurrent use.
type Store struct {
	db *sql.DB
	// mu serialises writes: DuckDB aborts concurrent transactions that touch
	// the same rows, and one control plane owns its file anyway.
	mu  sync.Mutex
	now func() time.Time
}

// Open opens (creating if needed) the DuckDB store at path and migrates it.
func Open(ctx context.Context, path string) (*Store, error) {
	db, err := sql.Open("duckdb", path)
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	s := &Store{db: db, now: func() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }}
	if err := s.migrate(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("migrate store %s: %w", path, err)
	}
	return s, nil
}

// Close closes the store.
func (s *Store) Close() error { return s.db.Close() }

var migrations = []string{
	`CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)`,
	`CREATE TABLE IF NOT EXISTS clusters (
		name VARCHAR PRIMARY KEY,
		spec VARCHAR NOT NULL,
		generation BIGINT NOT NULL,
		created_at TIMESTAMP NOT NULL,
		updated_at TIMESTAMP NOT NULL,
		access_generation BIGINT NOT NULL DEFAULT 0
	)`,
	`CREATE TABLE IF NOT EXISTS nodes (
		id VARCHAR PRIMARY KEY,
		pool VARCHAR NOT NULL,
		endpoint VARCHAR NOT NULL,
		credential_hash VARCHAR NOT NULL,
		cluster VARCHAR NOT NULL DEFAULT '',
		role VARCHAR NOT NULL DEFAULT '',
		assignment BIGINT NOT NULL DEFAULT 0,
		registered_at TIMESTAMP NOT NULL
	)`,
	`CREATE TABLE IF NOT EXISTS access (
		cluster VARCHAR NOT NULL,
		kind VARCHAR NOT NULL,
		name VARCHAR NOT NULL,
		spec VARCHAR NOT NULL,
		secret_hash VARCHAR NOT NULL DEFAULT '',
		generation BIGINT NOT NULL,
		access_generation BIGINT NOT NULL,
		created_at TIMESTAMP NOT NULL,
		updated_at TIMESTAMP NOT NULL,
		status VARCHAR NOT NULL DEFAULT '{}',
		PRIMARY KEY (cluster, kind, name)
	)`,
	`CREATE TABLE IF NOT EXISTS backups (
		cluster VARCHAR NOT NULL,
		id VARCHAR NOT NULL,
		labels VARCHAR NOT NULL,
		status VARCHAR NOT NULL,
		created_at TIMESTAMP NOT NULL,
		updated_at TIMESTAMP NOT NULL,
		PRIMARY KEY (cluster, id)
	)`,
	`CREATE TABLE IF NOT EXISTS secrets (
		name VARCHAR PRIMARY KEY,
		hash VARCHAR NOT NULL
	)`,
}

func (s *Store) migrate(ctx context.Context) error {
	for _, m := range migrations {
		if _, err := s.db.ExecContext(ctx, m); err != nil {
			return err
		}
	}
	return nil
}

// inTx runs fn in a write transaction under the store's write lock.
func (s *Store) inTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}
