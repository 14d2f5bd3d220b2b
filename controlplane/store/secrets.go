package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// PutSecretHash stores the hash of one of the control plane's own tokens
// (such as "admin" or "join"), replacing any earlier one.
func (s *Store) PutSecretHash(ctx context.Context, name, hash string) error {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT OR REPLACE INTO secrets (name, hash) VALUES (?, ?)`, name, hash)
		return err
	})
	if err != nil {
		return fmt.Errorf("put secret hash %q: %w", name, err)
	}
	return nil
}

// SecretHash returns a stored token hash, or ErrNotFound.
func (s *Store) SecretHash(ctx context.Context, name string) (string, error) {
	var h string
	err := s.db.QueryRowContext(ctx, `SELECT hash FROM secrets WHERE name = ?`, name).Scan(&h)
	if errors.Is(err, sql.ErrNoRows) {
		err = ErrNotFound
	}
	if err != nil {
		return "", fmt.Errorf("get secret hash %q: %w", name, err)
	}
	return h, nil
}
