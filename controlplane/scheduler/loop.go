package scheduler

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/duckfleet/duckfleet/controlplane/push"
	"github.com/duckfleet/duckfleet/controlplane/store"
)

// Store is what the loop reads and writes.
type Store interface {
	ListClusters(ctx context.Context) ([]store.Cluster, error)
	ListNodes(ctx context.Context) ([]store.Node, error)
	AssignNode(ctx context.Context, id, fromCluster, cluster, role string) error
	ListAccess(ctx context.Context, cluster, kind string) ([]store.Access, error)
	ListBackups(ctx context.Context, cluster string) ([]store.Backup, error)
}

// Health tells whether a node is healthy.
type Health interface {
	Healthy(id string) bool
}

// Unsealer opens sealed keeper URLs.
type Unsealer interface {
	Unseal(ctx context.Context, sealed string) (string, error)
}

// Publisher receives the config every node should run.
type Publisher interface {
	Publish(map[string]push.Target)
}

// Loop reconciles placement and desired configs, on every Kick and at
// least every interval (so that health changes are noticed).
type Loop struct {
	store    Store
	health   Health
	sealer   Unsealer
	pub      Publisher
	log      *slog.Logger
	interval time.Duration
	kick     chan struct{}

	mu      sync.RWMutex
	pending map[string]string
}

// NewLoop returns a loop; call Run to start it.
func NewLoop(s Store, h Health, u Unsealer, p Publisher, log *slog.Logger, interval time.Duration) *Loop {
	return &Loop{store: s, health: h, sealer: u, pub: p, log: log, interval: interval, kick: make(chan struct{}, 1), pending: map[string]string{}}
}

// Kick asks for a reconcile as soon as possible.
func (l *Loop) Kick() {
	select {
	case l.kick <- struct{}{}:
	default:
	}
}

// Pending returns why a cluster is short of nodes, or "".
func (l *Loop) Pending(cluster string) string {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.pending[cluster]
}

// Run reconciles until ctx ends.
func (l *Loop) Run(ctx context.Context) {
	t := time.NewTicker(l.interval)
	defer t.Stop()
	for {
		if err := l.Reconcile(ctx); err != nil && ctx.Err() == nil {
			l.log.Error("reconcile failed; will retry", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-l.kick:
		}
	}
}

// Reconcile makes one level-based pass: place, release, publish configs.
func (l *Loop) Reconcile(ctx context.Context) error {
	clusters, err := l.store.ListClusters(ctx)
	if err != nil {
		return err
	}
	nodes, err := l.store.ListNodes(ctx)
	if err != nil {
		return err
	}
	states := make([]NodeState, len(nodes))
	for i, n := range nodes {
		states[i] = NodeState{Node: n, Healthy: l.health.Healthy(n.ID)}
	}
	d := Decide(clusters, states)
	for _, m := range d.Moves {
		err := l.store.AssignNode(ctx, m.NodeID, m.From, m.To, m.Role)
		switch {
		case errors.Is(err, store.ErrNotFound):
			// The node moved meanwhile; the next pass sees the new state.
			l.Kick()
		case err != nil:
			return err
		default:
			l.log.Info("placed node", "node", m.NodeID, "from", m.From, "to", m.To, "role", m.Role)
		}
	}
	if len(d.Moves) > 0 {
		if nodes, err = l.store.ListNodes(ctx); err != nil {
			return err
		}
	}
	l.mu.Lock()
	l.pending = d.Pending
	l.mu.Unlock()

	access, err := l.store.ListAccess(ctx, "", "")
	if err != nil {
		return err
	}
	backups, err := l.store.ListBackups(ctx, "")
	if err != nil {
		return err
	}
	keys := map[string]string{}
	for _, c := range clusters {
		for _, b := range backups {
			if b.ID == c.Spec.RestoreFrom && b.Status.SealedKey != "" {
				k, err := l.sealer.Unseal(ctx, b.Status.SealedKey)
				if err != nil {
					l.log.Error("cannot open the encryption key of a backup to restore", "backup", b.ID, "err", err)
					continue
				}
				keys[b.ID] = k
			}
		}
	}
	configs, err := Configs(clusters, nodes, access, backups, keys)
	if err != nil {
		l.log.Error("some roles or users could not be decoded; they grant nothing", "err", err)
	}
	targets := make(map[string]push.Target, len(nodes))
	for _, n := range nodes {
		targets[n.ID] = push.Target{Endpoint: n.Endpoint, Config: configs[n.ID]}
	}
	l.pub.Publish(targets)
	return nil
}
