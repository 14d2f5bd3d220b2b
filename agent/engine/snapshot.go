package engine

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// DatabaseFile is the name of the file a snapshot writes in its directory.
const DatabaseFile = "database.duckdb"

// writersMax is the weight of the writers gate: each statement that may
// write holds 1, a snapshot holds all of it.
const writersMax = 1 << 30

// maxSnapshotTries bounds the copies a snapshot makes when a checkpoint
// lands in the middle of one.
const maxSnapshotTries = 3

// Snapshot writes a consistent copy of the database file into the spool
// directory dir (as DatabaseFile) and counts every table's rows in the same
// state. Statements that may write wait while it runs; reads go on. The
// database is checkpointed first, so that the file holds every committed
// change (the write-ahead log is not copied); then the file is copied, and
// DuckDB's header is read before and after: a checkpoint that completed
// during the copy (which a read such as nextval() can cause) would have
// bumped its iteration, and the copy is made again.
func (e *Engine) Snapshot(ctx context.Context, dir string) (Image, error) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	if e.db == nil {
		return Image{}, ErrNoDatabase
	}
	if err := e.writers.Acquire(ctx, writersMax); err != nil {
		return Image{}, fmt.Errorf("wait for running writes: %w", err)
	}
	defer e.writers.Release(writersMax)

	img := Image{Dir: dir}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return img, err
	}
	conn, err := e.db.Conn(ctx)
	if err != nil {
		return img, err
	}
	defer conn.Close()
	path := e.Path(e.cluster)
	dst := filepath.Join(dir, DatabaseFile)
	for try := 1; ; try++ {
		// FORCE waits for running transactions (a read calling nextval()
		// writes) rather than failing; it does not abort them.
		if _, err := conn.ExecContext(ctx, "FORCE CHECKPOINT"); err != nil {
			return img, fmt.Errorf("checkpoint: %w", err)
		}
		if img.Tables, err = countRows(ctx, conn); err != nil {
			return img, err
		}
		same, err := copyStable(path, dst, nil)
		if err != nil {
			return img, err
		}
		if same {
			break
		}
		if try == maxSnapshotTries {
			return img, fmt.Errorf("the database was checkpointed during each of %d copies; try again when it is less busy", try)
		}
	}
	if err := conn.QueryRowContext(ctx, "SELECT library_version FROM pragma_version()").Scan(&img.DuckDBVersion); err != nil {
		return img, fmt.Errorf("read the DuckDB version: %w", err)
	}
	return img, nil
}

// copyStable copies the database file src to dst and reports whether no
// checkpoint completed meanwhile. DuckDB never overwrites a block that the
// current header refers to, so a copy made while the header stayed the
// same is the database as of that header. during, if not nil, runs while
// the copy is made (tests use it to checkpoint meanwhile).
func copyStable(src, dst string, during func()) (bool, error) {
	in, err := os.Open(src)
	if err != nil {
		return false, err
	}
	defer in.Close()
	before, err := headerIteration(in)
	if err != nil {
		return false, err
	}
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return false, err
	}
	// io.Copy between files uses copy_file_range where the kernel has it.
	_, err = io.Copy(out, in)
	if during != nil {
		during()
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return false, fmt.Errorf("copy the database file: %w", err)
	}
	after, err := headerIteration(in)
	if err != nil {
		return false, err
	}
	return before == after, nil
}

// DuckDB's file layout (storage version 64 and later): a 4 KiB main header
// whose bytes 8 to 12 are "DUCK", then two 4 KiB database headers, each a
// checksum and then the checkpoint iteration; the newer one is in effect.
const headerSize = 4096

var errNotDuckDB = errors.New("not a DuckDB database file")

func headerIteration(f *os.File) (uint64, error) {
	var buf [3 * headerSize]byte
	if _, err := f.ReadAt(buf[:], 0); err != nil {
		return 0, fmt.Errorf("read the database header: %w", err)
	}
	if string(buf[8:12]) != "DUCK" {
		return 0, errNotDuckDB
	}
	a := binary.LittleEndian.Uint64(buf[headerSize+8:])
	b := binary.LittleEndian.Uint64(buf[2*headerSize+8:])
	return max(a, b), nil
}
