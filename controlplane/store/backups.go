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

// Backup is an on-demand backup's record. The backup itself lives in the
// cluster's storage; this is what the control plane knows of it.
type Backup struct {
	Cluster   string
	ID        string
	Labels    map[string]string
	Status    api.BackupStatus
	CreatedAt time.Time
	UpdatedAt time.Time
}

const backupColumns = `cluster, id, labels, status, created_at, updated_at`

func scanBackup(r rowScanner) (Backup, error) {
	var b Backup
	var labels, status string
	if err := r.Scan(&b.Cluster, &b.ID, &labels, &status, &b.CreatedAt, &b.UpdatedAt); err != nil {
		return b, err
	}
	if err := json.Unmarshal([]byte(labels), &b.Labels); err != nil {
		return b, fmt.Errorf("decode labels of backup %s: %w", b.ID, err)
	}
	if err := json.Unmarshal([]byte(status), &b.Status); err != nil {
		return b, fmt.Errorf("decode status of backup %s: %w", b.ID, err)
	}
	return b, nil
}

// CreateBackup records a new backup of an existing cluster.
func (s *Store) CreateBackup(ctx context.Context, b Backup) (Backup, error) {
	labels, _ := json.Marshal(b.Labels)
	status, _ := json.Marshal(b.Status)
	now := s.now()
	b.CreatedAt, b.UpdatedAt = now, now
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM clusters WHERE name = ?`, b.Cluster).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return fmt.Errorf("cluster %q: %w", b.Cluster, ErrNotFound)
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO backups (`+backupColumns+`) VALUES (?, ?, ?, ?, ?, ?)`,
			b.Cluster, b.ID, string(labels), string(status), now, now)
		return err
	})
	if err != nil {
		return Backup{}, fmt.Errorf("create backup %s: %w", b.ID, err)
	}
	return b, nil
}

// GetBackup returns one backup record, or ErrNotFound.
func (s *Store) GetBackup(ctx context.Context, cluster, id string) (Backup, error) {
	b, err := scanBackup(s.db.QueryRowContext(ctx, `SELECT `+backupColumns+` FROM backups WHERE cluster = ? AND id = ?`, cluster, id))
	if errors.Is(err, sql.ErrNoRows) {
		err = ErrNotFound
	}
	if err != nil {
		return Backup{}, fmt.Errorf("get backup %s: %w", id, err)
	}
	return b, nil
}

// ListBackups returns a cluster's backups (every cluster's when cluster is
// empty), newest first.
func (s *Store) ListBackups(ctx context.Context, cluster string) ([]Backup, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+backupColumns+` FROM backups WHERE ? = '' OR cluster = ? ORDER BY created_at DESC, id DESC`, cluster, cluster)
	if err != nil {
		return nil, fmt.Errorf("list backups: %w", err)
	}
	defer rows.Close()
	var out []Backup
	for rows.Next() {
		b, err := scanBackup(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, rows.Err()
}

// SetBackupStatus replaces a backup's status.
func (s *Store) SetBackupStatus(ctx context.Context, cluster, id string, st api.BackupStatus) error {
	status, _ := json.Marshal(st)
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE backups SET status = ?, updated_at = ? WHERE cluster = ? AND id = ?`, string(status), s.now(), cluster, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNotFound
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("update backup %s: %w", id, err)
	}
	return nil
}

// DeleteBackup removes a backup record.
func (s *Store) DeleteBackup(ctx context.Context, cluster, id string) error {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM backups WHERE cluster = ? AND id = ?`, cluster, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNotFound
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("delete backup %s: %w", id, err)
	}
	return nil
}
