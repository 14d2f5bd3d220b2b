// Package controlplane wires the control plane: the store, the HTTP API, the
// scheduler loop and the pusher, run together by Server.Run.
package controlplane

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/duckfleet/duckfleet/controlplane/backups"
	"github.com/duckfleet/duckfleet/controlplane/httpapi"
	"github.com/duckfleet/duckfleet/controlplane/observe"
	"github.com/duckfleet/duckfleet/controlplane/push"
	"github.com/duckfleet/duckfleet/controlplane/scheduler"
	"github.com/duckfleet/duckfleet/controlplane/sealer"
	"github.com/duckfleet/duckfleet/controlplane/store"
	"github.com/duckfleet/duckfleet/internal/client"
	"github.com/duckfleet/duckfleet/internal/daemon"
	"github.com/duckfleet/duckfleet/internal/token"
)

// Config configures a Server.
type Config struct {
	// Listen is the address to serve on, such as 127.0.0.1:8470 (port 0 picks one).
	Listen string
	// DataDir holds the store, the token files and the push key.
	DataDir string
	// Store is where desired state lives: empty for a DuckDB file in
	// DataDir, a path, or duckdb:///path.
	Store string
	// AdminToken and JoinToken, when set, replace the stored tokens;
	// otherwise they are made on first start and written to the data dir.
	AdminToken, JoinToken string
	// HeartbeatInterval is what agents are told; a node is unhealthy after
	// HeartbeatTimeout without a heartbeat.
	HeartbeatInterval, HeartbeatTimeout time.Duration
	// DefaultStorageURL is the storage of clusters that name none; empty
	// means a directory in DataDir (usable by agents on the same machine).
	DefaultStorageURL string
	Log               *slog.Logger
}

// File names in the data directory.
const (
	AdminTokenFile = "admin.token"
	JoinTokenFile  = "join.token"
	PushKeyFile    = "push.key"
	SealingKeyFile = "secrets.key"
	AddrFile       = "controlplane.addr"
	StoreFile      = "controlplane.duckdb"
)

// Server is a control plane.
type Server struct {
	cfg     Config
	store   *store.Store
	handler *httpapi.Handler
	loop    *scheduler.Loop
	pusher  *push.Pusher
	backups *backups.Dispatcher
}

// New opens the store, bootstraps tokens and keys, and builds the parts.
func New(ctx context.Context, cfg Config) (*Server, error) {
	if cfg.DataDir == "" {
		return nil, errors.New("--data-dir is required")
	}
	if cfg.HeartbeatInterval <= 0 {
		cfg.HeartbeatInterval = 2 * time.Second
	}
	if cfg.HeartbeatTimeout <= 0 {
		cfg.HeartbeatTimeout = 5 * cfg.HeartbeatInterval
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("create data dir: %w", err)
	}
	if cfg.DefaultStorageURL == "" {
		abs, err := filepath.Abs(filepath.Join(cfg.DataDir, "storage"))
		if err != nil {
			return nil, err
		}
		cfg.DefaultStorageURL = "file://" + abs + "?create_dir=true"
	}
	path, err := storePath(cfg)
	if err != nil {
		return nil, err
	}
	st, err := store.Open(ctx, path)
	if err != nil {
		return nil, err
	}
	ok := false
	defer func() {
		if !ok {
			st.Close()
		}
	}()
	adminHash, err := bootstrapToken(ctx, st, cfg, "admin", cfg.AdminToken, AdminTokenFile, token.PrefixAdmin)
	if err != nil {
		return nil, err
	}
	joinHash, err := bootstrapToken(ctx, st, cfg, "join", cfg.JoinToken, JoinTokenFile, token.PrefixJoin)
	if err != nil {
		return nil, err
	}
	key, err := loadPushKey(filepath.Join(cfg.DataDir, PushKeyFile))
	if err != nil {
		return nil, err
	}
	tracker := observe.NewTracker(cfg.HeartbeatTimeout)
	caller := client.NewAgentCaller(key, nil)
	pusher := push.New(caller, cfg.Log.With("part", "push"), 32,
		push.Backoff{Initial: 200 * time.Millisecond, Max: 30 * time.Second})
	seal, err := sealer.Open(filepath.Join(cfg.DataDir, SealingKeyFile))
	if err != nil {
		return nil, err
	}
	loop := scheduler.NewLoop(st, tracker, seal, pusher, cfg.Log.With("part", "scheduler"), time.Second)
	dispatcher := backups.New(st, caller, tracker, seal, cfg.Log.With("part", "backups"), cfg.HeartbeatInterval)
	h, err := httpapi.New(ctx, httpapi.Config{
		Store: st, Tracker: tracker, Scheduler: loop, Desired: pusher, Log: cfg.Log.With("part", "api"),
		AdminTokenHash: adminHash, JoinTokenHash: joinHash, PushKey: key.Public().(ed25519.PublicKey), TokenKey: key, Agents: caller, Backups: dispatcher, Sealer: seal,
		HeartbeatInterval: cfg.HeartbeatInterval, DefaultStorageURL: cfg.DefaultStorageURL,
		Ready: func(ctx context.Context) error {
			_, err := st.SecretHash(ctx, "admin")
			return err
		},
	})
	if err != nil {
		return nil, err
	}
	ok = true
	return &Server{cfg: cfg, store: st, handler: h, loop: loop, pusher: pusher, backups: dispatcher}, nil
}

func storePath(cfg Config) (string, error) {
	s := cfg.Store
	switch {
	case s == "":
		return filepath.Join(cfg.DataDir, StoreFile), nil
	case strings.HasPrefix(s, "duckdb://"):
		return strings.TrimPrefix(s, "duckdb://"), nil
	case strings.Contains(s, "://"):
		return "", fmt.Errorf("--store %q: only DuckDB stores (a path or duckdb:///path) are supported so far", redactURL(s))
	default:
		return s, nil
	}
}

// redactURL drops user info from a store URL before it reaches a message.
func redactURL(s string) string {
	scheme, rest, ok := strings.Cut(s, "://")
	if !ok {
		return s
	}
	if at := strings.LastIndex(rest, "@"); at >= 0 {
		rest = "REDACTED@" + rest[at+1:]
	}
	return scheme + "://" + rest
}

// bootstrapToken returns the hash of the named token: from the explicit
// value when given, else the stored one, else a new token written to file.
func bootstrapToken(ctx context.Context, st *store.Store, cfg Config, name, explicit, file, prefix string) (string, error) {
	if explicit != "" {
		h := token.Hash(explicit)
		return h, st.PutSecretHash(ctx, name, h)
	}
	h, err := st.SecretHash(ctx, name)
	if err == nil {
		return h, nil
	}
	if !errors.Is(err, store.ErrNotFound) {
		return "", err
	}
	tok := token.New(prefix)
	path := filepath.Join(cfg.DataDir, file)
	if err := daemon.WriteSecretFile(path, []byte(tok+"\n")); err != nil {
		return "", fmt.Errorf("write %s token: %w", name, err)
	}
	h = token.Hash(tok)
	if err := st.PutSecretHash(ctx, name, h); err != nil {
		return "", err
	}
	cfg.Log.Info("created token", "token", name, "file", path)
	return h, nil
}

func loadPushKey(path string) (ed25519.PrivateKey, error) {
	b, err := os.ReadFile(path)
	if err == nil {
		if len(b) != ed25519.SeedSize {
			return nil, fmt.Errorf("push key %s is corrupt: want %d bytes, found %d", path, ed25519.SeedSize, len(b))
		}
		return ed25519.NewKeyFromSeed(b), nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("read push key: %w", err)
	}
	seed := make([]byte, ed25519.SeedSize)
	if _, err := rand.Read(seed); err != nil {
		return nil, err
	}
	if err := daemon.WriteSecretFile(path, seed); err != nil {
		return nil, fmt.Errorf("write push key: %w", err)
	}
	return ed25519.NewKeyFromSeed(seed), nil
}

// Run serves until ctx ends, then stops every part and closes the store.
func (s *Server) Run(ctx context.Context) error {
	ln, err := net.Listen("tcp", s.cfg.Listen)
	if err != nil {
		s.store.Close()
		return fmt.Errorf("listen on %s: %w", s.cfg.Listen, err)
	}
	return s.Serve(ctx, ln)
}

// Serve is Run on an existing listener.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	defer s.store.Close()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	wg.Go(func() { s.pusher.Run(ctx) })
	wg.Go(func() { s.loop.Run(ctx) })
	wg.Go(func() { s.backups.Run(ctx) })
	err := daemon.ServeListener(ctx, s.cfg.Log, ln, filepath.Join(s.cfg.DataDir, AddrFile), s.handler.Router(), 10*time.Second)
	cancel()
	wg.Wait()
	return err
}
