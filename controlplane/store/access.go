package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Kinds of objects kept in the access table. Roles and users are what
// nodes enforce: writing them bumps the cluster's access generation.
// Backup policies are the control plane's own and bump nothing.
const (
	KindRole         = "role"
	KindUser         = "user"
	KindBackupPolicy = "backup-policy"
)

func bumpsAccess(kind string) bool { return kind == KindRole || kind == KindUser }

// Access is a role or a user of a cluster. Spec is the JSON of its API
// spec; SecretHash is a user's token hash.
type Access struct {
	Cluster    string
	Kind       string
	Name       string
	Spec       string
	SecretHash string
	Generation int64
	// AccessGeneration is the cluster's access generation after the last
	// write of this object.
	AccessGeneration int64
	CreatedAt        time.Time
	UpdatedAt        time.Time
	// Status is the JSON of what the control plane observed (policies).
	Status string
}

const accessColumns = `cluster, kind, name, spec, secret_hash, generation, access_generation, created_at, updated_at, status`

func scanAccess(r rowScanner) (Access, error) {
	var a Access
	err := r.Scan(&a.Cluster, &a.Kind, &a.Name, &a.Spec, &a.SecretHash, &a.Generation, &a.AccessGeneration, &a.CreatedAt, &a.UpdatedAt, &a.Status)
	return a, err
}

// bump bumps the cluster's access generation for kinds that need it, and
// checks that the cluster exists either way.
func bump(ctx context.Context, tx *sql.Tx, cluster, kind string) (int64, error) {
	if bumpsAccess(kind) {
		return bumpAccess(ctx, tx, cluster)
	}
	var gen int64
	err := tx.QueryRowContext(ctx, `SELECT access_generation FROM clusters WHERE name = ?`, cluster).Scan(&gen)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("cluster %q: %w", cluster, ErrNotFound)
	}
	return gen, err
}

// SetAccessStatus records an object's observed status (JSON).
func (s *Store) SetAccessStatus(ctx context.Context, cluster, kind, name, status string) error {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE access SET status = ? WHERE cluster = ? AND kind = ? AND name = ?`, status, cluster, kind, name)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNotFound
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("update status of %s %q: %w", kind, name, err)
	}
	return nil
}

// bumpAccess increments a cluster's access generation and returns it, or
// ErrNotFound when the cluster does not exist.
func bumpAccess(ctx context.Context, tx *sql.Tx, cluster string) (int64, error) {
	var gen int64
	err := tx.QueryRowContext(ctx, `UPDATE clusters SET access_generation = access_generation + 1 WHERE name = ? RETURNING access_generation`, cluster).Scan(&gen)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("cluster %q: %w", cluster, ErrNotFound)
	}
	return gen, err
}

func getAccessTx(ctx context.Context, q interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}, cluster, kind, name string) (Access, error) {
	a, err := scanAccess(q.QueryRowContext(ctx, `SELECT `+accessColumns+` FROM access WHERE cluster = ? AND kind = ? AND name = ?`, cluster, kind, name))
	if errors.Is(err, sql.ErrNoRows) {
		return Access{}, ErrNotFound
	}
	return a, err
}

// CreateAccess stores a new role or user of an existing cluster.
func (s *Store) CreateAccess(ctx context.Context, a Access) (Access, error) {
	now := s.now()
	a.Generation, a.CreatedAt, a.UpdatedAt = 1, now, now
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := getAccessTx(ctx, tx, a.Cluster, a.Kind, a.Name); err == nil {
			return ErrExists
		} else if !errors.Is(err, ErrNotFound) {
			return err
		}
		gen, err := bump(ctx, tx, a.Cluster, a.Kind)
		if err != nil {
			return err
		}
		a.AccessGeneration = gen
		if a.Status == "" {
			a.Status = "{}"
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO access (`+accessColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			a.Cluster, a.Kind, a.Name, a.Spec, a.SecretHash, a.Generation, a.AccessGeneration, a.CreatedAt, a.UpdatedAt, a.Status)
		return err
	})
	if err != nil {
		return Access{}, fmt.Errorf("create %s %q: %w", a.Kind, a.Name, err)
	}
	return a, nil
}

// GetAccess returns one role or user, or ErrNotFound.
func (s *Store) GetAccess(ctx context.Context, cluster, kind, name string) (Access, error) {
	a, err := getAccessTx(ctx, s.db, cluster, kind, name)
	if err != nil {
		return Access{}, fmt.Errorf("get %s %q: %w", kind, name, err)
	}
	return a, nil
}

// ListAccess returns the roles or users of a cluster (all clusters when
// cluster is empty, every kind when kind is empty), ordered by name.
func (s *Store) ListAccess(ctx context.Context, cluster, kind string) ([]Access, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+accessColumns+` FROM access
		WHERE (? = '' OR cluster = ?) AND (? = '' OR kind = ?) ORDER BY cluster, kind, name`, cluster, cluster, kind, kind)
	if err != nil {
		return nil, fmt.Errorf("list access: %w", err)
	}
	defer rows.Close()
	var out []Access
	for rows.Next() {
		a, err := scanAccess(rows)
		if err != nil {
			return nil, fmt.Errorf("list access: %w", err)
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// UpdateAccess changes a role's or user's spec and, when secretHash is not
// empty, its secret. The generation is bumped when the spec changes; the
// cluster's access generation whenever anything changes. A non-zero
// ifMatch that differs from the stored generation gives ErrStale.
func (s *Store) UpdateAccess(ctx context.Context, cluster, kind, name, spec, secretHash string, ifMatch int64) (Access, error) {
	var a Access
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		cur, err := getAccessTx(ctx, tx, cluster, kind, name)
		if err != nil {
			return err
		}
		if ifMatch != 0 && cur.Generation != ifMatch {
			return &StaleError{Stored: cur.Generation, Expected: ifMatch}
		}
		a = cur
		specChanged := cur.Spec != spec
		if !specChanged && (secretHash == "" || secretHash == cur.SecretHash) {
			return nil
		}
		if specChanged {
			a.Spec, a.Generation = spec, cur.Generation+1
		}
		if secretHash != "" {
			a.SecretHash = secretHash
		}
		if a.AccessGeneration, err = bump(ctx, tx, cluster, kind); err != nil {
			return err
		}
		a.UpdatedAt = s.now()
		_, err = tx.ExecContext(ctx, `UPDATE access SET spec = ?, secret_hash = ?, generation = ?, access_generation = ?, updated_at = ?
			WHERE cluster = ? AND kind = ? AND name = ?`, a.Spec, a.SecretHash, a.Generation, a.AccessGeneration, a.UpdatedAt, cluster, kind, name)
		return err
	})
	if err != nil {
		return Access{}, fmt.Errorf("update %s %q: %w", kind, name, err)
	}
	return a, nil
}

// DeleteAccess removes a role or user and returns the cluster's new access
// generation.
func (s *Store) DeleteAccess(ctx context.Context, cluster, kind, name string, ifMatch int64) (int64, error) {
	var gen int64
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		cur, err := getAccessTx(ctx, tx, cluster, kind, name)
		if err != nil {
			return err
		}
		if ifMatch != 0 && cur.Generation != ifMatch {
			return &StaleError{Stored: cur.Generation, Expected: ifMatch}
		}
		if gen, err = bump(ctx, tx, cluster, kind); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM access WHERE cluster = ? AND kind = ? AND name = ?`, cluster, kind, name)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("delete %s %q: %w", kind, name, err)
	}
	return gen, nil
}
