package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/duckfleet/duckfleet/internal/api"
)

// Cluster is a cluster's stored desired state.
type Cluster struct {
	Name       string
	Spec       api.ClusterSpec
	Generation int64
	// AccessGeneration counts changes of the cluster's roles and users.
	AccessGeneration int64
	CreatedAt        time.Time
	UpdatedAt        time.Time
}

const clusterColumns = `name, spec, generation, created_at, updated_at, access_generation`

type rowScanner interface{ Scan(dest ...any) error }

func scanCluster(r rowScanner) (Cluster, error) {
	var c Cluster
	var spec string
	if err := r.Scan(&c.Name, &spec, &c.Generation, &c.CreatedAt, &c.UpdatedAt, &c.AccessGeneration); err != nil {
		return Cluster{}, err
	}
	if err := json.Unmarshal([]byte(spec), &c.Spec); err != nil {
		return Cluster{}, fmt.Errorf("decode spec of cluster %q: %w", c.Name, err)
	}
	return c, nil
}

// CreateCluster stores a new cluster at generation 1.
func (s *Store) CreateCluster(ctx context.Context, name string, spec api.ClusterSpec) (Cluster, error) {
	b, err := json.Marshal(spec)
	if err != nil {
		return Cluster{}, err
	}
	now := s.now()
	c := Cluster{Name: name, Spec: spec, Generation: 1, CreatedAt: now, UpdatedAt: now}
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM clusters WHERE name = ?`, name).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return ErrExists
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO clusters (`+clusterColumns+`) VALUES (?, ?, ?, ?, ?, 0)`,
			name, string(b), c.Generation, now, now)
		return err
	})
	if err != nil {
		return Cluster{}, fmt.Errorf("create cluster %q: %w", name, err)
	}
	return c, nil
}

// GetCluster returns one cluster, or ErrNotFound.
func (s *Store) GetCluster(ctx context.Context, name string) (Cluster, error) {
	c, err := scanCluster(s.db.QueryRowContext(ctx, `SELECT `+clusterColumns+` FROM clusters WHERE name = ?`, name))
	if errors.Is(err, sql.ErrNoRows) {
		err = ErrNotFound
	}
	if err != nil {
		return Cluster{}, fmt.Errorf("get cluster %q: %w", name, err)
	}
	return c, nil
}

// ListClusters returns every cluster, ordered by name.
func (s *Store) ListClusters(ctx context.Context) ([]Cluster, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+clusterColumns+` FROM clusters ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("list clusters: %w", err)
	}
	defer rows.Close()
	var out []Cluster
	for rows.Next() {
		c, err := scanCluster(rows)
		if err != nil {
			return nil, fmt.Errorf("list clusters: %w", err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list clusters: %w", err)
	}
	return out, nil
}

// UpdateCluster replaces a cluster's spec. When ifMatch is not zero and the
// stored generation differs, it returns ErrStale and writes nothing. The
// generation is bumped only when the spec changes.
func (s *Store) UpdateCluster(ctx context.Context, name string, spec api.ClusterSpec, ifMatch int64) (Cluster, error) {
	b, err := json.Marshal(spec)
	if err != nil {
		return Cluster{}, err
	}
	var c Cluster
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		cur, err := scanCluster(tx.QueryRowContext(ctx, `SELECT `+clusterColumns+` FROM clusters WHERE name = ?`, name))
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		if ifMatch != 0 && cur.Generation != ifMatch {
			return &StaleError{Stored: cur.Generation, Expected: ifMatch}
		}
		c = cur
		if cur.Spec == spec {
			return nil
		}
		c.Spec, c.Generation, c.UpdatedAt = spec, cur.Generation+1, s.now()
		_, err = tx.ExecContext(ctx, `UPDATE clusters SET spec = ?, generation = ?, updated_at = ? WHERE name = ?`,
			string(b), c.Generation, c.UpdatedAt, name)
		return err
	})
	if err != nil {
		return Cluster{}, fmt.Errorf("update cluster %q: %w", name, err)
	}
	return c, nil
}

// DeleteCluster removes a cluster and releases its nodes (each released node's
// assignment is bumped so that it drops the cluster's config). With a
// non-zero ifMatch that differs from the stored generation it returns
// ErrStale and deletes nothing.
func (s *Store) DeleteCluster(ctx context.Context, name string, ifMatch int64) error {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var gen int64
		err := tx.QueryRowContext(ctx, `SELECT generation FROM clusters WHERE name = ?`, name).Scan(&gen)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		if ifMatch != 0 && gen != ifMatch {
			return &StaleError{Stored: gen, Expected: ifMatch}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE nodes SET cluster = '', role = '', assignment = assignment + 1 WHERE cluster = ?`, name); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM access WHERE cluster = ?`, name); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM clusters WHERE name = ?`, name)
		return err
	})
	if err != nil {
		return fmt.Errorf("delete cluster %q: %w", name, err)
	}
	return nil
}
