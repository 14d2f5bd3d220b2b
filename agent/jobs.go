package agent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path"
	"sync"

	"github.com/duckfleet/duckfleet/agent/backup"
	"github.com/duckfleet/duckfleet/agent/storage"
	"github.com/duckfleet/duckfleet/internal/api"
	"gocloud.dev/blob"
)

// maxJobs is how many finished jobs a node keeps reporting.
const maxJobs = 50

// jobs runs the control plane's backup jobs one at a time and remembers
// how they went, for the heartbeats. They live in memory: a job cut short
// by a restart disappears from the reports, and the control plane marks it
// failed.
type jobs struct {
	queue chan api.BackupJob

	mu     sync.Mutex
	status map[string]*api.JobStatus
	order  []string
}

func newJobs() *jobs {
	return &jobs{queue: make(chan api.BackupJob, 16), status: map[string]*api.JobStatus{}}
}

func (j *jobs) set(id string, f func(*api.JobStatus)) {
	j.mu.Lock()
	defer j.mu.Unlock()
	st, ok := j.status[id]
	if !ok {
		st = &api.JobStatus{ID: id}
		j.status[id] = st
		j.order = append(j.order, id)
		for len(j.order) > maxJobs {
			delete(j.status, j.order[0])
			j.order = j.order[1:]
		}
	}
	f(st)
}

func (j *jobs) list() []api.JobStatus {
	j.mu.Lock()
	defer j.mu.Unlock()
	out := make([]api.JobStatus, 0, len(j.order))
	for _, id := range j.order {
		out = append(out, *j.status[id])
	}
	return out
}

// StartBackup queues a backup of the node's database.
func (a *Agent) StartBackup(job api.BackupJob) error {
	a.mu.Lock()
	cluster, role := a.running.Cluster, a.running.Role
	a.mu.Unlock()
	if job.Cluster != cluster || role != api.RolePrimary {
		return fmt.Errorf("this node is not the primary of cluster %q", job.Cluster)
	}
	if err := storage.Validate(job.StorageURL); err != nil {
		return err
	}
	a.jobs.mu.Lock()
	_, known := a.jobs.status[job.ID]
	a.jobs.mu.Unlock()
	if known {
		return nil // already queued or run: idempotent
	}
	select {
	case a.jobs.queue <- job:
		a.jobs.set(job.ID, func(s *api.JobStatus) { s.Phase = api.BackupRunning })
		a.Kick()
		return nil
	default:
		return errors.New("too many backups queued on this node; retry later")
	}
}

// runJobs takes backups until ctx ends.
func (a *Agent) runJobs(ctx context.Context, log *slog.Logger) {
	for {
		select {
		case <-ctx.Done():
			return
		case job := <-a.jobs.queue:
			a.runBackup(ctx, log, job)
			a.Kick()
		}
	}
}

func backupsPrefix(job api.BackupJob) string { return path.Join(job.StoragePrefix, "backups") }

func (a *Agent) runBackup(ctx context.Context, log *slog.Logger, job api.BackupJob) {
	fail := func(err error) {
		log.Error("backup failed", "backup", job.ID, "err", err)
		a.jobs.set(job.ID, func(s *api.JobStatus) { s.Phase, s.Error = api.BackupFailed, err.Error() })
	}
	b, err := storage.Open(ctx, job.StorageURL)
	if err != nil {
		fail(err)
		return
	}
	defer b.Close()
	spec := backup.Spec{Prefix: backupsPrefix(job), Cluster: job.Cluster, ID: job.ID, Format: job.Format, Compression: job.Compression, KeeperURL: job.EncryptionKeyURL}
	m, err := backup.Create(ctx, a.engine, b, spec, func(done, total int64) {
		a.jobs.set(job.ID, func(s *api.JobStatus) { s.BytesDone, s.BytesTotal = done, total })
		a.Kick()
	})
	if err != nil {
		fail(err)
		return
	}
	sum, err := manifestSHA256(ctx, b, backupsPrefix(job), job.ID)
	if err != nil {
		fail(err)
		return
	}
	log.Info("backup complete", "backup", job.ID, "format", m.Kind, "bytes", m.Size(), "tables", len(m.Tables))
	a.jobs.set(job.ID, func(s *api.JobStatus) {
		s.Phase, s.Size, s.Tables, s.ManifestSHA256 = api.BackupComplete, m.Size(), len(m.Tables), sum
		s.Location = storage.Redact(job.StorageURL) + " " + path.Join(backupsPrefix(job), job.ID)
	})
}

func manifestSHA256(ctx context.Context, b *blob.Bucket, prefix, id string) (string, error) {
	r, err := b.NewReader(ctx, path.Join(prefix, id, backup.ManifestName), nil)
	if err != nil {
		return "", err
	}
	defer r.Close()
	return backup.SHA256(r)
}

// DeleteBackup deletes a backup's objects, its manifest first so that a
// half-deleted backup is never listed.
func (a *Agent) DeleteBackup(ctx context.Context, job api.BackupJob) error {
	if err := storage.Validate(job.StorageURL); err != nil {
		return err
	}
	b, err := storage.Open(ctx, job.StorageURL)
	if err != nil {
		return err
	}
	defer b.Close()
	return backup.Delete(ctx, b, backupsPrefix(job), job.ID)
}

// restoreBackup loads a backup into the node's (new, empty) database: it
// verifies every object and the row counts before the database is swapped.
func (a *Agent) restoreBackup(ctx context.Context, job api.BackupJob) error {
	if job.StorageURL == "" {
		return fmt.Errorf("restore: backup %s no longer exists", job.ID)
	}
	b, err := storage.Open(ctx, job.StorageURL)
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	defer b.Close()
	m, err := backup.Restore(ctx, a.engine, b, backupsPrefix(job), job.ID, job.EncryptionKeyURL, nil)
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	a.cfg.Log.Info("restored backup", "backup", job.ID, "from_cluster", job.Cluster, "tables", len(m.Tables), "bytes", m.Size())
	return nil
}
