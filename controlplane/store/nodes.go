package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Node is a registered agent and its assignment.
type Node struct {
	ID             string
	Pool           string
	Endpoint       string
	CredentialHash string
	// Cluster and Role are empty for a free node.
	Cluster string
	Role    string
	// Assignment grows each time the node is given to a cluster or released.
	Assignment   int64
	RegisteredAt time.Time
}

const nodeColumns = `id, pool, endpoint, credential_hash, cluster, role, assignment, registered_at`

func scanNode(r rowScanner) (Node, error) {
	var n Node
	err := r.Scan(&n.ID, &n.Pool, &n.Endpoint, &n.CredentialHash, &n.Cluster, &n.Role, &n.Assignment, &n.RegisteredAt)
	return n, err
}

// CreateNode registers a node. RegisteredAt is set by the store.
func (s *Store) CreateNode(ctx context.Context, n Node) (Node, error) {
	n.RegisteredAt = s.now()
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO nodes (`+nodeColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			n.ID, n.Pool, n.Endpoint, n.CredentialHash, n.Cluster, n.Role, n.Assignment, n.RegisteredAt)
		return err
	})
	if err != nil {
		return Node{}, fmt.Errorf("create node %q: %w", n.ID, err)
	}
	return n, nil
}

// GetNode returns one node, or ErrNotFound.
func (s *Store) GetNode(ctx context.Context, id string) (Node, error) {
	n, err := scanNode(s.db.QueryRowContext(ctx, `SELECT `+nodeColumns+` FROM nodes WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		err = ErrNotFound
	}
	if err != nil {
		return Node{}, fmt.Errorf("get node %q: %w", id, err)
	}
	return n, nil
}

// ListNodes returns every node ordered by id.
func (s *Store) ListNodes(ctx context.Context) ([]Node, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+nodeColumns+` FROM nodes ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("list nodes: %w", err)
	}
	defer rows.Close()
	var out []Node
	for rows.Next() {
		n, err := scanNode(rows)
		if err != nil {
			return nil, fmt.Errorf("list nodes: %w", err)
		}
		out = append(out, n)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list nodes: %w", err)
	}
	return out, nil
}

// SetNodeEndpoint records the URL a node advertises.
func (s *Store) SetNodeEndpoint(ctx context.Context, id, endpoint string) error {
	return s.updateNode(ctx, id, `UPDATE nodes SET endpoint = ? WHERE id = ?`, endpoint, id)
}

// AssignNode gives a node to a cluster with a role, or releases it when
// cluster is empty, and bumps its assignment. The assignment happens only if
// the node is still on fromCluster, so that two decisions never race.
func (s *Store) AssignNode(ctx context.Context, id, fromCluster, cluster, role string) error {
	return s.updateNode(ctx, id,
		`UPDATE nodes SET cluster = ?, role = ?, assignment = assignment + 1 WHERE id = ? AND cluster = ?`,
		cluster, role, id, fromCluster)
}

func (s *Store) updateNode(ctx context.Context, id, query string, args ...any) error {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, query, args...)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return ErrNotFound
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("update node %q: %w", id, err)
	}
	return nil
}
