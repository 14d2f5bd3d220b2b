// Package backups drives on-demand backups: it hands pending backups to
// their cluster's primary, and records what nodes report of their jobs in
// heartbeats. Backups live in the cluster's storage; the store keeps their
// records and status.
package backups

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/duckfleet/duckfleet/controlplane/store"
	"github.com/duckfleet/duckfleet/internal/api"
)

// Store is what the dispatcher reads and writes.
type Store interface {
	ListBackups(ctx context.Context, cluster string) ([]store.Backup, error)
	GetBackup(ctx context.Context, cluster, id string) (store.Backup, error)
	SetBackupStatus(ctx context.Context, cluster, id string, st api.BackupStatus) error
	GetCluster(ctx context.Context, name string) (store.Cluster, error)
	ListNodes(ctx context.Context) ([]store.Node, error)
	ListAccess(ctx context.Context, cluster, kind string) ([]store.Access, error)
	SetAccessStatus(ctx context.Context, cluster, kind, name, status string) error
	CreateBackup(ctx context.Context, b store.Backup) (store.Backup, error)
	DeleteBackup(ctx context.Context, cluster, id string) error
}

// Caller starts backup jobs on agents and deletes backups' objects.
type Caller interface {
	StartBackup(ctx context.Context, endpoint, nodeID string, job api.BackupJob) error
	DeleteBackup(ctx context.Context, endpoint, nodeID string, job api.BackupJob) error
}

// Unsealer opens sealed keeper URLs.
type Unsealer interface {
	Unseal(ctx context.Context, sealed string) (string, error)
}

// Health tells whether a node is healthy.
type Health interface {
	Healthy(id string) bool
}

// Dispatcher is safe for concurrent use.
type Dispatcher struct {
	store    Store
	caller   Caller
	health   Health
	sealer   Unsealer
	log      *slog.Logger
	interval time.Duration
	// lostAfter is how long a running backup may be missing from its
	// node's heartbeats before it is deemed lost.
	lostAfter time.Duration
	kick      chan struct{}

	mu      sync.Mutex
	running map[string]string // running backup id -> node, so heartbeats need no store read
}

// New returns a dispatcher; call Run to start it.
func New(s Store, c Caller, h Health, u Unsealer, log *slog.Logger, heartbeat time.Duration) *Dispatcher {
	return &Dispatcher{store: s, caller: c, health: h, sealer: u, log: log, interval: time.Second, lostAfter: 3 * heartbeat,
		kick: make(chan struct{}, 1), running: map[string]string{}}
}

// Kick asks for a dispatch pass now.
func (d *Dispatcher) Kick() {
	select {
	case d.kick <- struct{}{}:
	default:
	}
}

// Run dispatches until ctx ends.
func (d *Dispatcher) Run(ctx context.Context) {
	t := time.NewTicker(d.interval)
	defer t.Stop()
	for {
		if err := d.dispatch(ctx); err != nil && ctx.Err() == nil {
			d.log.Error("dispatching backups failed; will retry", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-d.kick:
		}
	}
}

// dispatch runs the policies, then starts every pending backup whose
// cluster has a healthy primary.
func (d *Dispatcher) dispatch(ctx context.Context) error {
	all, err := d.store.ListBackups(ctx, "")
	if err != nil {
		return err
	}
	nodes, err := d.store.ListNodes(ctx)
	if err != nil {
		return err
	}
	if err := d.runPolicies(ctx, all, nodes, time.Now()); err != nil {
		return err
	}
	if all, err = d.store.ListBackups(ctx, ""); err != nil {
		return err
	}
	running := map[string]string{}
	defer func() {
		d.mu.Lock()
		d.running = running
		d.mu.Unlock()
	}()
	for _, b := range all {
		if b.Status.Phase == api.BackupRunning {
			running[b.ID] = b.Status.Node
		}
		if b.Status.Phase == api.BackupFailed && b.Status.StorageURL != "" && !b.Status.Cleaned {
			d.cleanUp(ctx, b, nodes)
		}
		if b.Status.Phase != api.BackupPending {
			continue
		}
		c, err := d.store.GetCluster(ctx, b.Cluster)
		if err != nil {
			d.fail(ctx, b, "the cluster no longer exists")
			continue
		}
		primary, ok := primaryOf(nodes, b.Cluster)
		if !ok || !d.health.Healthy(primary.ID) {
			continue // waits for a healthy primary
		}
		job := api.BackupJob{ID: b.ID, Cluster: b.Cluster, StorageURL: c.Spec.StorageURL, StoragePrefix: b.Status.StoragePrefix,
			Format: b.Status.Format, Compression: b.Status.Compression}
		if job.StoragePrefix == "" {
			job.StoragePrefix = "clusters/" + b.Cluster
		}
		if job.EncryptionKeyURL, err = d.sealer.Unseal(ctx, b.Status.SealedKey); err != nil {
			d.fail(ctx, b, "cannot open the policy's encryption key: "+err.Error())
			continue
		}
		if err := d.caller.StartBackup(ctx, primary.Endpoint, primary.ID, job); err != nil {
			d.log.Warn("could not start a backup; will retry", "backup", b.ID, "node", primary.ID, "err", err)
			continue
		}
		st := b.Status
		st.Phase, st.Node, st.StorageURL, st.StoragePrefix = api.BackupRunning, primary.ID, c.Spec.StorageURL, job.StoragePrefix
		if err := d.store.SetBackupStatus(ctx, b.Cluster, b.ID, st); err != nil {
			return err
		}
		running[b.ID] = primary.ID
	}
	return nil
}

func primaryOf(nodes []store.Node, cluster string) (store.Node, bool) {
	for _, n := range nodes {
		if n.Cluster == cluster && n.Role == api.RolePrimary {
			return n, true
		}
	}
	return store.Node{}, false
}

func (d *Dispatcher) fail(ctx context.Context, b store.Backup, why string) {
	st := b.Status
	st.Phase, st.Error = api.BackupFailed, why
	now := time.Now().UTC()
	st.CompletedAt = &now
	if err := d.store.SetBackupStatus(ctx, b.Cluster, b.ID, st); err != nil {
		d.log.Error("could not record a failed backup", "backup", b.ID, "err", err)
	}
}

// Observe records what a node reports of its jobs. A running backup of
// that node missing from the report for a while is failed: the node lost
// it (a restart).
func (d *Dispatcher) Observe(ctx context.Context, node string, jobs []api.JobStatus) error {
	d.mu.Lock()
	mine := 0
	for _, n := range d.running {
		if n == node {
			mine++
		}
	}
	d.mu.Unlock()
	if mine == 0 {
		return nil // the hot path: nothing of this node's is running
	}
	all, err := d.store.ListBackups(ctx, "")
	if err != nil {
		return err
	}
	reported := map[string]api.JobStatus{}
	for _, j := range jobs {
		reported[j.ID] = j
	}
	for _, b := range all {
		if b.Status.Node != node || b.Status.Phase != api.BackupRunning {
			continue
		}
		j, ok := reported[b.ID]
		if !ok {
			if time.Since(b.UpdatedAt) > d.lostAfter {
				d.fail(ctx, b, fmt.Sprintf("node %s stopped reporting the backup (it restarted?); take a new one", node))
			}
			continue
		}
		st := b.Status
		st.BytesDone, st.BytesTotal = j.BytesDone, j.BytesTotal
		switch j.Phase {
		case api.BackupComplete:
			now := time.Now().UTC()
			st.Phase, st.Size, st.Tables, st.Location, st.ManifestSHA256, st.CompletedAt = api.BackupComplete, j.Size, j.Tables, j.Location, j.ManifestSHA256, &now
		case api.BackupFailed:
			now := time.Now().UTC()
			st.Phase, st.Error, st.CompletedAt = api.BackupFailed, j.Error, &now
		}
		if st != b.Status {
			if err := d.store.SetBackupStatus(ctx, b.Cluster, b.ID, st); err != nil {
				return err
			}
			if st.Phase != api.BackupRunning {
				d.mu.Lock()
				delete(d.running, b.ID)
				d.mu.Unlock()
			}
		}
	}
	return nil
}

// deleteObjects deletes a backup's objects through a healthy node (nodes
// hold the storage credentials): one of its cluster's if there is one,
// otherwise any, so that the backups of a destroyed cluster can still be
// deleted. A backup that never started has none.
func (d *Dispatcher) deleteObjects(ctx context.Context, b store.Backup, nodes []store.Node) error {
	if b.Status.StorageURL == "" {
		return nil
	}
	job := api.BackupJob{ID: b.ID, Cluster: b.Cluster, StorageURL: b.Status.StorageURL, StoragePrefix: b.Status.StoragePrefix}
	for _, own := range []bool{true, false} {
		for _, n := range nodes {
			if (n.Cluster == b.Cluster) == own && d.health.Healthy(n.ID) {
				return d.caller.DeleteBackup(ctx, n.Endpoint, n.ID, job)
			}
		}
	}
	return fmt.Errorf("no healthy node can delete the objects of backup %s (nodes hold the storage credentials); retry when one is up", b.ID)
}

// ErrRunning is a backup that cannot be deleted yet.
var ErrRunning = errors.New("the backup is still running; delete it once it completes or fails")

// Delete deletes a backup's objects and then its record.
func (d *Dispatcher) Delete(ctx context.Context, b store.Backup) error {
	if b.Status.Phase == api.BackupRunning {
		return ErrRunning
	}
	nodes, err := d.store.ListNodes(ctx)
	if err != nil {
		return err
	}
	return d.deleteBackup(ctx, d.store, b, nodes)
}

// cleanUp deletes what a failed backup left in storage (it has no
// manifest, so it was never listed) and keeps the record, so its error
// stays visible.
func (d *Dispatcher) cleanUp(ctx context.Context, b store.Backup, nodes []store.Node) {
	if err := d.deleteObjects(ctx, b, nodes); err != nil {
		d.log.Warn("could not clean up a failed backup; will retry", "backup", b.ID, "err", err)
		return
	}
	st := b.Status
	st.Cleaned = true
	if err := d.store.SetBackupStatus(ctx, b.Cluster, b.ID, st); err != nil {
		d.log.Error("could not record a cleaned-up backup", "backup", b.ID, "err", err)
	}
}
