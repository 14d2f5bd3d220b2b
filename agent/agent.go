// Package agent wires a duckfleet node: its identity with the control plane,
// the DuckDB engine, the HTTP API, and the heartbeat loop that reports what
// the node runs and pulls the config it should run.
package agent

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/duckfleet/duckfleet/agent/access"
	"github.com/duckfleet/duckfleet/agent/engine"
	"github.com/duckfleet/duckfleet/agent/httpapi"
	"github.com/duckfleet/duckfleet/agent/querylog"
	"github.com/duckfleet/duckfleet/agent/storage"
	"github.com/duckfleet/duckfleet/internal/api"
	"github.com/duckfleet/duckfleet/internal/client"
	"github.com/duckfleet/duckfleet/internal/daemon"
)

// Config configures an Agent.
type Config struct {
	// ControlPlane is the control plane's URL.
	ControlPlane string
	// JoinTokenFile holds the join token, needed only for the first start.
	JoinTokenFile string
	Pool          string
	DataDir       string
	// Listen is the address to serve on (port 0 picks one).
	Listen string
	// AdvertiseURL is how others reach this agent; empty means http://<bound address>.
	AdvertiseURL string
	// StorageURL is the node's cloud storage (a gocloud.dev blob URL);
	// empty means file://<data dir>/storage.
	StorageURL string
	// HeartbeatInterval overrides the interval the control plane asks for.
	HeartbeatInterval time.Duration
	Log               *slog.Logger
}

// File names in the data directory.
const (
	IdentityFile = "node.json"
	AppliedFile  = "applied.json"
	AddrFile     = "agent.addr"
	DatabaseDir  = "db"
)

// identity is what registration gave this node; kept in IdentityFile (0600).
type identity struct {
	NodeID       string `json:"node_id"`
	Credential   string `json:"credential"`
	PushKey      string `json:"push_key"`
	ControlPlane string `json:"controlplane"`
}

// Agent is one node.
type Agent struct {
	cfg    Config
	engine *engine.Engine
	qlog   *querylog.Ring
	jobs   *jobs
	kick   chan struct{}

	applyMu sync.Mutex // serialises applies
	mu      sync.Mutex // guards the fields below
	running api.NodeConfig
	lastErr string

	policy  atomic.Pointer[access.Policy]
	pushKey ed25519.PublicKey // set once registered, before any apply
}

// New checks the config and opens the engine.
func New(cfg Config) (*Agent, error) {
	if cfg.ControlPlane == "" {
		return nil, errors.New("--controlplane is required")
	}
	if cfg.DataDir == "" {
		return nil, errors.New("--data-dir is required")
	}
	if cfg.Pool == "" {
		cfg.Pool = api.DefaultPool
	}
	if !api.ValidName(cfg.Pool) {
		return nil, fmt.Errorf("--pool %q: use %s", cfg.Pool, api.NameRule)
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("create data dir: %w", err)
	}
	eng, err := engine.New(filepath.Join(cfg.DataDir, DatabaseDir))
	if err != nil {
		return nil, err
	}
	return &Agent{cfg: cfg, engine: eng, qlog: querylog.New(querylog.DefaultSize), jobs: newJobs(), kick: make(chan struct{}, 1)}, nil
}

// Run registers (once), restores the last applied config, serves the API and
// heartbeats until ctx ends.
func (a *Agent) Run(ctx context.Context) error {
	defer a.engine.Close()
	ln, err := net.Listen("tcp", a.cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", a.cfg.Listen, err)
	}
	defer ln.Close()
	advertise := a.cfg.AdvertiseURL
	if advertise == "" {
		advertise = "http://" + ln.Addr().String()
	}
	id, err := a.identity(ctx, advertise)
	if err != nil {
		return err
	}
	log := a.cfg.Log.With("node", id.NodeID)
	pub, err := base64.StdEncoding.DecodeString(id.PushKey)
	if err != nil || len(pub) != ed25519.PublicKeySize {
		return fmt.Errorf("%s holds no valid push key; remove it to register again", filepath.Join(a.cfg.DataDir, IdentityFile))
	}
	a.pushKey = pub
	bucket, err := storage.Open(ctx, a.storageURL())
	if err != nil {
		return fmt.Errorf("--storage-url: %w", err)
	}
	defer bucket.Close()
	if err := storage.WritePresence(ctx, bucket, storage.Presence{NodeID: id.NodeID, Pool: a.cfg.Pool, Endpoint: advertise, StartedAt: time.Now().UTC()}); err != nil {
		return fmt.Errorf("storage %s is not writable: %w", storage.Redact(a.storageURL()), err)
	}
	if err := a.restore(ctx); err != nil {
		log.Error("could not restore the last applied config; waiting for the control plane", "err", err)
	}
	cp, err := client.New(a.cfg.ControlPlane, id.Credential, client.WithUserAgent("duckfleet-agent"))
	if err != nil {
		return err
	}
	h := httpapi.New(httpapi.Config{
		NodeID: id.NodeID, PushKey: pub, Applier: a, Querier: a, QueryLog: a.qlog, Jobs: a, Log: log,
		Healthy: a.engine.Ping,
	})
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	wg.Go(func() { a.heartbeatLoop(ctx, log, cp, advertise) })
	wg.Go(func() { a.runJobs(ctx, log) })
	err = daemon.ServeListener(ctx, log, ln, filepath.Join(a.cfg.DataDir, AddrFile), h.Router(), 10*time.Second)
	cancel()
	wg.Wait()
	return err
}

func (a *Agent) storageURL() string {
	if a.cfg.StorageURL != "" {
		return a.cfg.StorageURL
	}
	return "file://" + filepath.Join(a.cfg.DataDir, "storage") + "?create_dir=true"
}

// identity loads the node's identity, registering first if there is none.
func (a *Agent) identity(ctx context.Context, advertise string) (identity, error) {
	path := filepath.Join(a.cfg.DataDir, IdentityFile)
	var id identity
	b, err := os.ReadFile(path)
	if err == nil {
		if err := json.Unmarshal(b, &id); err != nil || id.NodeID == "" || id.Credential == "" {
			return identity{}, fmt.Errorf("%s is corrupt; remove it to register again", path)
		}
		a.cfg.Log.Info("resuming as registered node", "node", id.NodeID)
		return id, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return identity{}, fmt.Errorf("read identity: %w", err)
	}
	if a.cfg.JoinTokenFile == "" {
		return identity{}, errors.New("this agent is not registered yet: --join-token-file is required")
	}
	join, err := daemon.ReadSecretFile(a.cfg.JoinTokenFile)
	if err != nil {
		return identity{}, fmt.Errorf("read join token: %w", err)
	}
	cp, err := client.New(a.cfg.ControlPlane, join, client.WithUserAgent("duckfleet-agent"))
	if err != nil {
		return identity{}, err
	}
	for attempt := 1; ; attempt++ {
		resp, err := cp.Register(ctx, api.RegisterRequest{Pool: a.cfg.Pool, Endpoint: advertise})
		if err == nil {
			id = identity{NodeID: resp.NodeID, Credential: resp.Credential, PushKey: resp.PushKey, ControlPlane: a.cfg.ControlPlane}
			b, _ := json.MarshalIndent(id, "", "  ")
			if err := daemon.WriteSecretFile(path, b); err != nil {
				return identity{}, fmt.Errorf("save identity: %w", err)
			}
			a.cfg.Log.Info("registered", "node", id.NodeID, "pool", a.cfg.Pool, "endpoint", advertise)
			return id, nil
		}
		if code := client.StatusCode(err); code >= 400 && code < 500 {
			return identity{}, fmt.Errorf("register with the control plane: %w", err)
		}
		a.cfg.Log.Warn("control plane not reachable yet; retrying", "attempt", attempt, "err", err)
		select {
		case <-ctx.Done():
			return identity{}, ctx.Err()
		case <-time.After(time.Second):
		}
	}
}

// restore reopens the database of the last applied config after a restart.
func (a *Agent) restore(ctx context.Context) error {
	b, err := os.ReadFile(filepath.Join(a.cfg.DataDir, AppliedFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	var cfg api.NodeConfig
	if err := json.Unmarshal(b, &cfg); err != nil {
		return fmt.Errorf("%s is corrupt: %w", AppliedFile, err)
	}
	if err := a.engine.Apply(ctx, cfg.Cluster, cfg.Settings); err != nil {
		return err
	}
	a.mu.Lock()
	a.running = cfg
	a.mu.Unlock()
	a.setPolicy(cfg)
	return nil
}

func (a *Agent) setPolicy(cfg api.NodeConfig) {
	a.policy.Store(access.NewPolicy(cfg.Access, access.Node{Cluster: cfg.Cluster, Replica: cfg.Role == api.RoleReplica, TokenKey: a.pushKey}))
}

// Apply runs cfg if it is newer than the running config. It is called for
// pushes and for pulls; a failure is reported in the next heartbeat and
// retried when the control plane asks again.
func (a *Agent) Apply(ctx context.Context, cfg api.NodeConfig) error {
	// applyMu serialises applies; mu only guards the fields, so heartbeats
	// go on while a long apply (a restore) runs.
	a.applyMu.Lock()
	defer a.applyMu.Unlock()
	a.mu.Lock()
	running := a.running
	a.mu.Unlock()
	if !cfg.Revision.Newer(running.Revision) {
		return nil
	}
	defer a.Kick()
	fail := func(err error) error {
		a.mu.Lock()
		a.lastErr = err.Error()
		a.mu.Unlock()
		return err
	}
	if err := a.engine.Apply(ctx, cfg.Cluster, cfg.Settings); err != nil {
		return fail(err)
	}
	if cfg.Restore != nil && cfg.Cluster != "" && cfg.Revision.Assignment != running.Revision.Assignment {
		if err := a.restoreBackup(ctx, *cfg.Restore); err != nil {
			return fail(err)
		}
	}
	b, _ := json.Marshal(cfg)
	if err := daemon.WriteSecretFile(filepath.Join(a.cfg.DataDir, AppliedFile), b); err != nil {
		return fail(fmt.Errorf("save applied config: %w", err))
	}
	a.mu.Lock()
	a.running, a.lastErr = cfg, ""
	a.mu.Unlock()
	a.setPolicy(cfg)
	a.cfg.Log.Info("applied config", "cluster", cfg.Cluster, "role", cfg.Role, "revision", cfg.Revision,
		"memory_limit", cfg.Settings.MemoryLimit, "threads", cfg.Settings.Threads)
	return nil
}

// Query runs one user query: the token must be a user's of this node's
// cluster, and the statement must be one the user's roles allow.
func (a *Agent) Query(ctx context.Context, tok string, req api.QueryRequest, sink engine.Sink) (engine.Stats, error) {
	return a.policy.Load().Run(ctx, a.engine, tok, req, sink)
}

// Kick asks for a heartbeat now.
func (a *Agent) Kick() {
	select {
	case a.kick <- struct{}{}:
	default:
	}
}

func (a *Agent) observe(ctx context.Context, advertise string) api.Observed {
	a.mu.Lock()
	o := api.Observed{
		Endpoint: advertise, Cluster: a.running.Cluster, Role: a.running.Role,
		Running: a.running.Revision, Error: a.lastErr, Healthy: true, Jobs: a.jobs.list(),
	}
	a.mu.Unlock()
	if err := a.engine.Ping(ctx); err != nil {
		o.Healthy, o.Error = false, "database does not answer: "+err.Error()
	}
	if s, err := a.engine.Effective(ctx); err == nil {
		o.Settings = s
	}
	return o
}

func (a *Agent) heartbeatLoop(ctx context.Context, log *slog.Logger, cp *client.Client, advertise string) {
	interval := 2 * time.Second
	if a.cfg.HeartbeatInterval > 0 {
		interval = a.cfg.HeartbeatInterval
	}
	failures := 0
	for {
		hctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		resp, err := cp.Heartbeat(hctx, a.observe(hctx, advertise))
		cancel()
		switch {
		case err != nil && ctx.Err() == nil:
			failures++
			if client.StatusCode(err) == http.StatusUnauthorized {
				log.Error("the control plane does not know this node's credential; remove "+IdentityFile+" from the data dir to register again", "err", err)
			} else if failures == 1 || failures%30 == 0 {
				log.Warn("heartbeat failed", "failures", failures, "err", err)
			}
		case err == nil:
			failures = 0
			if a.cfg.HeartbeatInterval == 0 && resp.IntervalMillis > 0 {
				interval = time.Duration(resp.IntervalMillis) * time.Millisecond
			}
			a.mu.Lock()
			behind := resp.Desired != a.running.Revision
			a.mu.Unlock()
			if behind {
				a.pull(ctx, log, cp)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(interval):
		case <-a.kick:
		}
	}
}

func (a *Agent) pull(ctx context.Context, log *slog.Logger, cp *client.Client) {
	pctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	cfg, err := cp.AgentConfig(pctx)
	if err != nil {
		log.Warn("pull config failed", "err", err)
		return
	}
	if err := a.Apply(pctx, cfg); err != nil {
		log.Error("apply failed; will retry", "revision", cfg.Revision, "err", err)
	}
}
