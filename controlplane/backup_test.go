package controlplane_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/duckfleet/duckfleet/internal/api"
	"github.com/duckfleet/duckfleet/internal/client"
	"github.com/duckfleet/duckfleet/internal/fleettest"
)

// TestBackupLifecycle takes an on-demand backup through the API on a real
// agent with file:// storage, in each format, checks its objects and
// manifest, and deletes it.
func TestBackupLifecycle(t *testing.T) {
	t.Parallel()
	f := fleettest.Start(t, fleettest.Options{Agents: 1})
	ctx := t.Context()
	c := f.Client(t)
	storageDir := t.TempDir()
	queryableCluster(t, f, api.ClusterCreate{Name: "kept", Spec: api.ClusterSpec{MemoryLimit: "256MiB", Threads: 1, StorageURL: "file://" + storageDir}},
		"CREATE TABLE t (id INTEGER, v VARCHAR)", "INSERT INTO t SELECT i, 'v' || i FROM range(1000) r(i)")
	for _, tt := range []struct {
		format      string
		objects     []string
		compression string
	}{
		{api.FormatParquet, []string{"load.sql", "manifest.json", "schema.sql", "t.parquet"}, "zstd"},
		{api.FormatDuckDB, []string{"database.duckdb", "manifest.json"}, ""},
	} {
		b, err := c.CreateBackup(ctx, "kept", api.BackupCreate{Labels: map[string]string{"why": "test"}, Format: tt.format})
		if err != nil {
			t.Fatal(err)
		}
		b = waitComplete(t, f, b)
		if b.Status.Format != tt.format || b.Status.Compression != tt.compression || b.Status.Tables != 1 || b.Status.Size == 0 ||
			b.Status.ManifestSHA256 == "" || b.Status.BytesDone != b.Status.BytesTotal {
			t.Errorf("complete %s backup: %+v", tt.format, b.Status)
		}
		dir := filepath.Join(storageDir, "clusters", "kept", "backups", b.ID)
		if got := fileNames(t, dir); !slices.Equal(got, tt.objects) {
			t.Errorf("%s backup objects: %v, want %v", tt.format, got, tt.objects)
		}
		if list, err := c.ListBackups(ctx, "kept"); err != nil || len(list) != 1 || list[0].Labels["why"] != "test" {
			t.Errorf("ListBackups = %+v, %v", list, err)
		}
		if err := c.DeleteBackup(ctx, "kept", b.ID); err != nil {
			t.Fatal(err)
		}
		if left := fileNames(t, dir); len(left) != 0 {
			t.Errorf("objects left after delete: %v", left)
		}
		if _, err := c.GetBackup(ctx, "kept", b.ID); !client.IsNotFound(err) {
			t.Errorf("GetBackup after delete = %v", err)
		}
	}
	_, err := c.CreateBackup(ctx, "kept", api.BackupCreate{Format: "zip"})
	if client.StatusCode(err) != 400 || !strings.Contains(err.Error(), "format") {
		t.Errorf("CreateBackup with format zip = %v, want 400 naming format", err)
	}
}

// waitComplete waits until backup b is complete.
func waitComplete(t *testing.T, f *fleettest.Fleet, b api.Backup) api.Backup {
	t.Helper()
	c := f.Client(t)
	f.Eventually(t, 60*time.Second, func(ctx context.Context) error {
		var err error
		b, err = c.GetBackup(ctx, b.Cluster, b.ID)
		if err == nil && b.Status.Phase != api.BackupComplete {
			err = fmt.Errorf("backup is %s %s", b.Status.Phase, b.Status.Error)
		}
		return err
	})
	return b
}

// TestBackupOfDestroyedCluster deletes a backup whose cluster is gone:
// a node of no cluster deletes its objects.
func TestBackupOfDestroyedCluster(t *testing.T) {
	t.Parallel()
	f := fleettest.Start(t, fleettest.Options{Agents: 1})
	ctx := t.Context()
	c := f.Client(t)
	storageDir := t.TempDir()
	readyCluster(t, f, "gone", "file://"+storageDir)
	b, err := c.CreateBackup(ctx, "gone", api.BackupCreate{Format: api.FormatDuckDB})
	if err != nil {
		t.Fatal(err)
	}
	b = waitComplete(t, f, b)
	if err := c.DeleteCluster(ctx, "gone", 0); err != nil {
		t.Fatal(err)
	}
	f.Eventually(t, 30*time.Second, func(ctx context.Context) error {
		nodes, err := c.ListNodes(ctx, "")
		if err == nil && (len(nodes) != 1 || nodes[0].Cluster != "" || !nodes[0].Healthy) {
			err = fmt.Errorf("nodes %+v: want one free, healthy node", nodes)
		}
		return err
	})
	dir := filepath.Join(storageDir, "clusters", "gone", "backups", b.ID)
	if len(fileNames(t, dir)) == 0 {
		t.Fatal("the backup has no objects before the delete")
	}
	if err := c.DeleteBackup(ctx, "gone", b.ID); err != nil {
		t.Fatalf("DeleteBackup of a destroyed cluster's backup: %v", err)
	}
	if left := fileNames(t, dir); len(left) != 0 {
		t.Errorf("objects left after delete: %v", left)
	}
}

func fileNames(t *testing.T, dir string) []string {
	t.Helper()
	entries, _ := os.ReadDir(dir)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// TestBackupSurvivesAgentKill kills the primary's agent (SIGKILL) in the
// middle of a backup: the backup is failed and never listed as complete,
// no manifest is left in storage, and the next backup succeeds.
func TestBackupSurvivesAgentKill(t *testing.T) {
	t.Parallel()
	f := fleettest.Start(t, fleettest.Options{Agents: 1})
	ctx := t.Context()
	c := f.Client(t)
	storageDir := t.TempDir()
	queryableCluster(t, f, api.ClusterCreate{Name: "killed", Spec: api.ClusterSpec{MemoryLimit: "512MiB", Threads: 2, StorageURL: "file://" + storageDir}},
		"CREATE TABLE big AS SELECT i AS id, random() AS r, 'row-' || i AS s FROM range(3000000) t(i)")
	b, err := c.CreateBackup(ctx, "killed", api.BackupCreate{})
	if err != nil {
		t.Fatal(err)
	}
	f.Eventually(t, 30*time.Second, func(ctx context.Context) error {
		b, err = c.GetBackup(ctx, "killed", b.ID)
		if err == nil && b.Status.Phase != api.BackupRunning {
			err = fmt.Errorf("backup is %s", b.Status.Phase)
		}
		return err
	})
	f.Agents[0].Kill(t)
	f.Agents[0].Restart(t, "agent.addr")
	f.Eventually(t, 60*time.Second, func(ctx context.Context) error {
		b, err = c.GetBackup(ctx, "killed", b.ID)
		if err == nil && b.Status.Phase != api.BackupFailed && b.Status.Phase != api.BackupComplete {
			err = fmt.Errorf("backup is still %s", b.Status.Phase)
		}
		return err
	})
	if b.Status.Phase == api.BackupComplete {
		t.Skip("the backup finished before the agent was killed; nothing to test on this machine")
	}
	if _, err := os.Stat(filepath.Join(storageDir, "clusters", "killed", "backups", b.ID, "manifest.json")); err == nil {
		t.Error("a killed backup left a manifest")
	}
	// What it uploaded before it died is cleaned up.
	f.Eventually(t, 30*time.Second, func(ctx context.Context) error {
		b, err = c.GetBackup(ctx, "killed", b.ID)
		if err == nil && !b.Status.Cleaned {
			err = fmt.Errorf("the failed backup is not cleaned up yet")
		}
		return err
	})
	if left, _ := filepath.Glob(filepath.Join(storageDir, "clusters", "killed", "backups", b.ID, "*")); len(left) > 0 {
		t.Errorf("a cleaned-up backup left objects: %v", left)
	}
	next, err := c.CreateBackup(ctx, "killed", api.BackupCreate{})
	if err != nil {
		t.Fatal(err)
	}
	f.Eventually(t, 120*time.Second, func(ctx context.Context) error {
		next, err = c.GetBackup(ctx, "killed", next.ID)
		if err == nil && next.Status.Phase != api.BackupComplete {
			err = fmt.Errorf("next backup is %s %s", next.Status.Phase, next.Status.Error)
		}
		return err
	})
	if next.Status.Tables != 1 {
		t.Errorf("next backup: %+v", next.Status)
	}
}

// queryableCluster makes a cluster with a user "w" who may CREATE, INSERT
// and SELECT, waits until every node enforces it, runs the statements as w
// and returns the primary's endpoint and w's token.
func queryableCluster(t *testing.T, f *fleettest.Fleet, spec api.ClusterCreate, statements ...string) (string, string) {
	t.Helper()
	ctx := t.Context()
	c := f.Client(t)
	if _, err := c.CreateCluster(ctx, spec); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateRole(ctx, spec.Name, api.RoleCreate{Name: "w", Spec: api.RoleSpec{Privileges: []string{"CREATE", "INSERT", "SELECT"}}}); err != nil {
		t.Fatal(err)
	}
	u, err := c.CreateUser(ctx, spec.Name, api.UserCreate{Name: "w", Spec: api.UserSpec{Roles: []string{"w"}}})
	if err != nil {
		t.Fatal(err)
	}
	var cl api.Cluster
	f.Eventually(t, 30*time.Second, func(ctx context.Context) error {
		cl, err = c.GetCluster(ctx, spec.Name)
		if err == nil && (cl.Status.Phase != api.PhaseReady || cl.Status.AccessGeneration < u.Status.AccessGeneration) {
			err = fmt.Errorf("cluster is %s: %s", cl.Status.Phase, cl.Status.Message)
		}
		return err
	})
	for _, q := range statements {
		if _, err := client.Query(ctx, nil, cl.Status.PrimaryEndpoint, u.Token, api.QueryRequest{SQL: q}); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	return cl.Status.PrimaryEndpoint, u.Token
}

// readyCluster makes a cluster with one table in storageURL.
func readyCluster(t *testing.T, f *fleettest.Fleet, name, storageURL string) {
	t.Helper()
	queryableCluster(t, f, api.ClusterCreate{Name: name, Spec: api.ClusterSpec{MemoryLimit: "256MiB", Threads: 1, StorageURL: storageURL}},
		"CREATE TABLE t AS SELECT i FROM range(100) r(i)")
}

// TestBackupPolicyPrunes runs a keep_last = 2 policy five times: exactly
// the two newest backups remain, in the store and in storage.
func TestBackupPolicyPrunes(t *testing.T) {
	t.Parallel()
	f := fleettest.Start(t, fleettest.Options{Agents: 1})
	ctx := t.Context()
	c := f.Client(t)
	storageDir := t.TempDir()
	readyCluster(t, f, "pruned", "file://"+storageDir)
	if _, err := c.CreateBackupPolicy(ctx, "pruned", api.BackupPolicyCreate{Name: "nightly", Spec: api.BackupPolicySpec{Schedule: "0 3 * * *", KeepLast: 2, Prefix: "nightly"}}); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for range 5 {
		b, err := c.RunBackupPolicy(ctx, "pruned", "nightly")
		if err != nil {
			t.Fatal(err)
		}
		b = waitComplete(t, f, b)
		ids = append(ids, b.ID)
	}
	f.Eventually(t, 30*time.Second, func(ctx context.Context) error {
		list, err := c.ListBackups(ctx, "pruned")
		if err != nil {
			return err
		}
		var got []string
		for _, b := range list {
			got = append(got, b.ID)
		}
		if len(got) != 2 || got[0] != ids[4] || got[1] != ids[3] {
			return fmt.Errorf("backups %v, want the two newest %v", got, ids[3:])
		}
		return nil
	})
	manifests, _ := filepath.Glob(filepath.Join(storageDir, "clusters", "pruned", "nightly", "backups", "*", "manifest.json"))
	if len(manifests) != 2 {
		t.Errorf("storage holds %d backups, want 2: %v", len(manifests), manifests)
	}
	p, err := c.GetBackupPolicy(ctx, "pruned", "nightly")
	if err != nil || p.Status.Kept != 2 || p.Status.LastBackup != ids[4] || p.Status.LastSuccess == nil {
		t.Errorf("policy status = %+v, %v", p.Status, err)
	}
}

// TestBackupPolicySchedule lets a keep_last = 2 policy run on its own
// schedule five times or more: once it stops, exactly the two newest of
// its backups remain, in the store and in storage.
func TestBackupPolicySchedule(t *testing.T) {
	t.Parallel()
	f := fleettest.Start(t, fleettest.Options{Agents: 1})
	ctx := t.Context()
	c := f.Client(t)
	storageDir := t.TempDir()
	readyCluster(t, f, "timed", "file://"+storageDir)
	p, err := c.CreateBackupPolicy(ctx, "timed", api.BackupPolicyCreate{Name: "often", Spec: api.BackupPolicySpec{Schedule: "@every 1s", KeepLast: 2}})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]time.Time{}
	f.Eventually(t, 120*time.Second, func(ctx context.Context) error {
		list, err := c.ListBackups(ctx, "timed")
		if err != nil {
			return err
		}
		for _, b := range list {
			if b.Status.Phase == api.BackupComplete {
				seen[b.ID] = b.CreatedAt
			}
		}
		if len(seen) < 5 {
			return fmt.Errorf("%d scheduled backups complete so far", len(seen))
		}
		return nil
	})
	// Stop the schedule; pruning goes on.
	if _, err := c.UpdateBackupPolicy(ctx, "timed", "often", api.BackupPolicyUpdate{Spec: api.BackupPolicySpec{Schedule: "@yearly", KeepLast: 2}}, p.Generation); err != nil {
		t.Fatal(err)
	}
	f.Eventually(t, 60*time.Second, func(ctx context.Context) error {
		list, err := c.ListBackups(ctx, "timed")
		if err != nil {
			return err
		}
		complete := 0
		for _, b := range list {
			if b.Status.Phase == api.BackupComplete {
				complete++
			} else if b.Status.Phase != api.BackupFailed {
				return fmt.Errorf("backup %s is still %s", b.ID, b.Status.Phase)
			}
		}
		if complete != 2 {
			return fmt.Errorf("%d complete backups remain, want 2", complete)
		}
		return nil
	})
	list, _ := c.ListBackups(ctx, "timed")
	for _, b := range list[:2] {
		for id, at := range seen {
			if at.After(b.CreatedAt) && id != list[0].ID && id != list[1].ID {
				t.Errorf("backup %s was kept but %s, newer, was pruned", b.ID, id)
			}
		}
	}
	manifests, _ := filepath.Glob(filepath.Join(storageDir, "clusters", "timed", "backups", "*", "manifest.json"))
	if len(manifests) != 2 {
		t.Errorf("storage holds %d backups, want 2", len(manifests))
	}
	if _, err := c.CreateBackupPolicy(ctx, "timed", api.BackupPolicyCreate{Name: "bad", Spec: api.BackupPolicySpec{Schedule: "every day", KeepLast: 1}}); client.StatusCode(err) != 400 || !strings.Contains(err.Error(), "spec.schedule") {
		t.Errorf("a bad schedule: %v", err)
	}
}
