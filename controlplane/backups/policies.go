package backups

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"github.com/duckfleet/duckfleet/controlplane/store"
	"github.com/duckfleet/duckfleet/internal/api"
	"github.com/robfig/cron/v3"
)

// PolicyLabel marks the backups a policy took.
const PolicyLabel = "policy"

// StoredPolicy is a policy's spec as the store keeps it: the keeper URL
// sealed, never in the clear.
type StoredPolicy struct {
	api.BackupPolicySpec
	SealedKey string `json:"sealed_key,omitempty"`
}

// ParseSchedule parses a policy's cron expression (5 fields or a
// descriptor such as @daily or @every 1h), in UTC.
func ParseSchedule(s string) (cron.Schedule, error) {
	sched, err := cron.ParseStandard(s)
	if err != nil {
		return nil, fmt.Errorf("%q is not a cron expression (minute hour day-of-month month day-of-week, or @daily, @every 1h, ...): %w", s, err)
	}
	return sched, nil
}

// NewBackupID returns a new backup id, ordered by time.
func NewBackupID(now time.Time) string {
	suffix := make([]byte, 3)
	_, _ = rand.Read(suffix)
	return "bk-" + now.UTC().Format("20060102t150405") + "-" + hex.EncodeToString(suffix)
}

// NewBackup is the record of a backup to take: for a policy, or on demand
// (spec then holds only a format).
func NewBackup(cluster string, labels map[string]string, spec StoredPolicy, now time.Time) store.Backup {
	st := api.BackupStatus{Phase: api.BackupPending, Format: spec.Format, Compression: spec.Compression,
		SealedKey: spec.SealedKey, Encrypted: spec.SealedKey != ""}
	if st.Format == "" {
		st.Format = api.FormatParquet
	}
	if st.Format == api.FormatParquet && st.Compression == "" {
		st.Compression = api.DefaultCompression
	}
	if spec.Prefix != "" {
		st.StoragePrefix = "clusters/" + cluster + "/" + spec.Prefix
	}
	return store.Backup{Cluster: cluster, ID: NewBackupID(now), Labels: labels, Status: st}
}

// runPolicies takes the backups that are due and prunes what the policies
// no longer keep.
func (d *Dispatcher) runPolicies(ctx context.Context, all []store.Backup, nodes []store.Node, now time.Time) error {
	ps := d.store
	policies, err := ps.ListAccess(ctx, "", store.KindBackupPolicy)
	if err != nil {
		return err
	}
	for _, p := range policies {
		var spec StoredPolicy
		var st api.BackupPolicyStatus
		if err := json.Unmarshal([]byte(p.Spec), &spec); err != nil {
			continue
		}
		_ = json.Unmarshal([]byte(p.Status), &st)
		sched, err := ParseSchedule(spec.Schedule)
		if err != nil {
			continue
		}
		last := p.CreatedAt
		if st.LastRun != nil {
			last = *st.LastRun
		}
		if !sched.Next(last.UTC()).After(now) {
			if _, err := ps.CreateBackup(ctx, NewBackup(p.Cluster, map[string]string{PolicyLabel: p.Name}, spec, now)); err != nil {
				return err
			}
			t := now.UTC()
			st.LastRun = &t
			d.Kick()
		}
		st = d.prune(ctx, ps, p, spec.BackupPolicySpec, st, all, nodes, now)
		b, _ := json.Marshal(st)
		if string(b) != p.Status {
			if err := ps.SetAccessStatus(ctx, p.Cluster, store.KindBackupPolicy, p.Name, string(b)); err != nil {
				return err
			}
		}
	}
	return nil
}

// prune deletes the policy's complete backups that keep_last and
// keep_within no longer keep, never the newest, and updates the status.
func (d *Dispatcher) prune(ctx context.Context, ps Store, p store.Access, spec api.BackupPolicySpec, st api.BackupPolicyStatus,
	all []store.Backup, nodes []store.Node, now time.Time) api.BackupPolicyStatus {
	within, _ := time.ParseDuration(spec.KeepWithin)
	var complete []store.Backup
	st.LastError = ""
	for _, b := range all { // newest first
		if b.Cluster != p.Cluster || b.Labels[PolicyLabel] != p.Name {
			continue
		}
		switch b.Status.Phase {
		case api.BackupComplete:
			if len(complete) == 0 {
				st.LastSuccess, st.LastBackup = b.Status.CompletedAt, b.ID
			}
			complete = append(complete, b)
		case api.BackupFailed:
			if len(complete) == 0 && st.LastError == "" {
				st.LastError = b.Status.Error
			}
		}
	}
	kept := 0
	for i, b := range complete {
		keep := i == 0 || i < spec.KeepLast || (within > 0 && now.Sub(b.CreatedAt) < within)
		if keep {
			kept++
			continue
		}
		if err := d.deleteBackup(ctx, ps, b, nodes); err != nil {
			d.log.Warn("could not prune a backup; will retry", "backup", b.ID, "policy", p.Name, "err", err)
			kept++
		}
	}
	st.Kept = kept
	return st
}

// deleteBackup deletes a backup's objects, then its record.
func (d *Dispatcher) deleteBackup(ctx context.Context, ps Store, b store.Backup, nodes []store.Node) error {
	if err := d.deleteObjects(ctx, b, nodes); err != nil {
		return err
	}
	return ps.DeleteBackup(ctx, b.Cluster, b.ID)
}
