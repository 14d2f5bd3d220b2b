// Package sealer encrypts the secrets the control plane must be able to
// read back (backup encryption keeper URLs) with a key kept in its data
// dir, through gocloud.dev/secrets.
package sealer

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"os"

	"github.com/duckfleet/duckfleet/internal/daemon"
	"gocloud.dev/secrets"
	"gocloud.dev/secrets/localsecrets"
)

// Sealer is safe for concurrent use.
type Sealer struct {
	keeper *secrets.Keeper
}

// Open loads the key at path, making it on first use (mode 0600).
func Open(path string) (*Sealer, error) {
	key, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		key = make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			return nil, err
		}
		if err := daemon.WriteSecretFile(path, key); err != nil {
			return nil, fmt.Errorf("write sealing key: %w", err)
		}
	} else if err != nil {
		return nil, fmt.Errorf("read sealing key: %w", err)
	}
	if len(key) != 32 {
		return nil, fmt.Errorf("sealing key %s is corrupt: want 32 bytes, found %d", path, len(key))
	}
	var k [32]byte
	copy(k[:], key)
	return &Sealer{keeper: localsecrets.NewKeeper(k)}, nil
}

// Seal encrypts s; the result is base64.
func (s *Sealer) Seal(ctx context.Context, plain string) (string, error) {
	c, err := s.keeper.Encrypt(ctx, []byte(plain))
	if err != nil {
		return "", fmt.Errorf("seal: %w", err)
	}
	return base64.StdEncoding.EncodeToString(c), nil
}

// Unseal decrypts what Seal returned; "" stays "".
func (s *Sealer) Unseal(ctx context.Context, sealed string) (string, error) {
	if sealed == "" {
		return "", nil
	}
	c, err := base64.StdEncoding.DecodeString(sealed)
	if err != nil {
		return "", errors.New("unseal: not a sealed value")
	}
	p, err := s.keeper.Decrypt(ctx, c)
	if err != nil {
		return "", fmt.Errorf("unseal (was the data dir's sealing key replaced?): %w", err)
	}
	return string(p), nil
}

// Close releases the keeper.
func (s *Sealer) Close() error { return s.keeper.Close() }
