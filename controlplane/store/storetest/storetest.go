// Package storetest is the conformance suite every store engine must pass.
package storetest

import (
	"context"
	"errors"
	"testing"

	"github.com/duckfleet/duckfleet/controlplane/store"
	"github.com/duckfleet/duckfleet/internal/api"
	"github.com/google/go-cmp/cmp"
)

// Store is what the suite exercises.
type Store interface {
	CreateCluster(ctx context.Context, name string, spec api.ClusterSpec) (store.Cluster, error)
	GetCluster(ctx context.Context, name string) (store.Cluster, error)
	ListClusters(ctx context.Context) ([]store.Cluster, error)
	UpdateCluster(ctx context.Context, name string, spec api.ClusterSpec, ifMatch int64) (store.Cluster, error)
	DeleteCluster(ctx context.Context, name string, ifMatch int64) error
	CreateNode(ctx context.Context, n store.Node) (store.Node, error)
	GetNode(ctx context.Context, id string) (store.Node, error)
	ListNodes(ctx context.Context) ([]store.Node, error)
	SetNodeEndpoint(ctx context.Context, id, endpoint string) error
	AssignNode(ctx context.Context, id, fromCluster, cluster, role string) error
	CreateAccess(ctx context.Context, a store.Access) (store.Access, error)
	GetAccess(ctx context.Context, cluster, kind, name string) (store.Access, error)
	ListAccess(ctx context.Context, cluster, kind string) ([]store.Access, error)
	UpdateAccess(ctx context.Context, cluster, kind, name, spec, secretHash string, ifMatch int64) (store.Access, error)
	DeleteAccess(ctx context.Context, cluster, kind, name string, ifMatch int64) (int64, error)
	CreateBackup(ctx context.Context, b store.Backup) (store.Backup, error)
	GetBackup(ctx context.Context, cluster, id string) (store.Backup, error)
	ListBackups(ctx context.Context, cluster string) ([]store.Backup, error)
	SetBackupStatus(ctx context.Context, cluster, id string, st api.BackupStatus) error
	DeleteBackup(ctx context.Context, cluster, id string) error
	PutSecretHash(ctx context.Context, name, hash string) error
	SecretHash(ctx context.Context, name string) (string, error)
}

// Run runs the suite; open returns a new, empty store for each test.
func Run(t *testing.T, open func(t *testing.T) Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s Store)
	}{
		{"ClusterLifecycle", testClusterLifecycle},
		{"ClusterConflicts", testClusterConflicts},
		{"NodeAssignment", testNodeAssignment},
		{"Secrets", testSecrets},
		{"Access", testAccess},
		{"Backups", testBackups},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.fn(t, open(t))
		})
	}
}

var spec1 = api.ClusterSpec{Pool: "default", MemoryLimit: "1GiB", Threads: 2}

func testClusterLifecycle(t *testing.T, s Store) {
	ctx := t.Context()
	c, err := s.CreateCluster(ctx, "a", spec1)
	if err != nil {
		t.Fatalf("CreateCluster: %v", err)
	}
	if c.Generation != 1 || c.CreatedAt.IsZero() {
		t.Errorf("new cluster = %+v, want generation 1 and a creation time", c)
	}
	got, err := s.GetCluster(ctx, "a")
	if err != nil {
		t.Fatalf("GetCluster: %v", err)
	}
	if d := cmp.Diff(c, got); d != "" {
		t.Errorf("GetCluster (-created +got):\n%s", d)
	}

	same, err := s.UpdateCluster(ctx, "a", spec1, 1)
	if err != nil {
		t.Fatalf("UpdateCluster with the same spec: %v", err)
	}
	if same.Generation != 1 {
		t.Errorf("an unchanged spec bumped the generation to %d", same.Generation)
	}
	spec2 := spec1
	spec2.MemoryLimit = "2GiB"
	up, err := s.UpdateCluster(ctx, "a", spec2, 1)
	if err != nil {
		t.Fatalf("UpdateCluster: %v", err)
	}
	if up.Generation != 2 || up.Spec != spec2 {
		t.Errorf("updated cluster = %+v, want generation 2 with the new spec", up)
	}
	if _, err := s.CreateCluster(ctx, "b", spec1); err != nil {
		t.Fatalf("CreateCluster b: %v", err)
	}
	list, err := s.ListClusters(ctx)
	if err != nil {
		t.Fatalf("ListClusters: %v", err)
	}
	if len(list) != 2 || list[0].Name != "a" || list[1].Name != "b" {
		t.Errorf("ListClusters = %+v, want a then b", list)
	}
	if err := s.DeleteCluster(ctx, "a", 2); err != nil {
		t.Fatalf("DeleteCluster: %v", err)
	}
	if _, err := s.GetCluster(ctx, "a"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetCluster after delete = %v, want ErrNotFound", err)
	}
}

func testClusterConflicts(t *testing.T, s Store) {
	ctx := t.Context()
	if _, err := s.CreateCluster(ctx, "a", spec1); err != nil {
		t.Fatalf("CreateCluster: %v", err)
	}
	if _, err := s.CreateCluster(ctx, "a", spec1); !errors.Is(err, store.ErrExists) {
		t.Errorf("second CreateCluster = %v, want ErrExists", err)
	}
	spec2 := spec1
	spec2.Threads = 8
	if _, err := s.UpdateCluster(ctx, "a", spec2, 7); !errors.Is(err, store.ErrStale) {
		t.Errorf("UpdateCluster with a stale generation = %v, want ErrStale", err)
	}
	if got, _ := s.GetCluster(ctx, "a"); got.Spec != spec1 || got.Generation != 1 {
		t.Errorf("a stale update wrote: %+v", got)
	}
	if err := s.DeleteCluster(ctx, "a", 7); !errors.Is(err, store.ErrStale) {
		t.Errorf("DeleteCluster with a stale generation = %v, want ErrStale", err)
	}
	if _, err := s.GetCluster(ctx, "a"); err != nil {
		t.Errorf("a stale delete deleted: %v", err)
	}
	if _, err := s.UpdateCluster(ctx, "missing", spec1, 0); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("UpdateCluster of a missing cluster = %v, want ErrNotFound", err)
	}
	if err := s.DeleteCluster(ctx, "missing", 0); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("DeleteCluster of a missing cluster = %v, want ErrNotFound", err)
	}
}

func testNodeAssignment(t *testing.T, s Store) {
	ctx := t.Context()
	n, err := s.CreateNode(ctx, store.Node{ID: "n1", Pool: "default", Endpoint: "http://127.0.0.1:1", CredentialHash: "h"})
	if err != nil {
		t.Fatalf("CreateNode: %v", err)
	}
	if n.RegisteredAt.IsZero() {
		t.Error("CreateNode did not set RegisteredAt")
	}
	if _, err := s.CreateCluster(ctx, "a", spec1); err != nil {
		t.Fatalf("CreateCluster: %v", err)
	}
	if err := s.AssignNode(ctx, "n1", "", "a", api.RolePrimary); err != nil {
		t.Fatalf("AssignNode: %v", err)
	}
	if err := s.AssignNode(ctx, "n1", "", "b", api.RolePrimary); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("assigning a node that is no longer free = %v, want ErrNotFound", err)
	}
	if err := s.SetNodeEndpoint(ctx, "n1", "http://127.0.0.1:2"); err != nil {
		t.Fatalf("SetNodeEndpoint: %v", err)
	}
	got, err := s.GetNode(ctx, "n1")
	if err != nil {
		t.Fatalf("GetNode: %v", err)
	}
	if got.Cluster != "a" || got.Role != api.RolePrimary || got.Assignment != 1 || got.Endpoint != "http://127.0.0.1:2" {
		t.Errorf("assigned node = %+v", got)
	}
	if err := s.DeleteCluster(ctx, "a", 0); err != nil {
		t.Fatalf("DeleteCluster: %v", err)
	}
	nodes, err := s.ListNodes(ctx)
	if err != nil {
		t.Fatalf("ListNodes: %v", err)
	}
	if len(nodes) != 1 || nodes[0].Cluster != "" || nodes[0].Role != "" || nodes[0].Assignment != 2 {
		t.Errorf("after deleting its cluster the node is %+v, want free with assignment 2", nodes)
	}
	if _, err := s.GetNode(ctx, "zz"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetNode of a missing node = %v, want ErrNotFound", err)
	}
}

func testSecrets(t *testing.T, s Store) {
	ctx := t.Context()
	if _, err := s.SecretHash(ctx, "admin"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("SecretHash before Put = %v, want ErrNotFound", err)
	}
	for _, h := range []string{"h1", "h2"} {
		if err := s.PutSecretHash(ctx, "admin", h); err != nil {
			t.Fatalf("PutSecretHash: %v", err)
		}
		if got, err := s.SecretHash(ctx, "admin"); err != nil || got != h {
			t.Errorf("SecretHash = %q, %v; want %q", got, err, h)
		}
	}
}

func testAccess(t *testing.T, s Store) {
	ctx := t.Context()
	role := store.Access{Cluster: "a", Kind: store.KindRole, Name: "reader", Spec: `{"privileges":["SELECT"]}`}
	if _, err := s.CreateAccess(ctx, role); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("CreateAccess in a missing cluster = %v, want ErrNotFound", err)
	}
	if _, err := s.CreateCluster(ctx, "a", spec1); err != nil {
		t.Fatal(err)
	}
	r, err := s.CreateAccess(ctx, role)
	if err != nil {
		t.Fatalf("CreateAccess: %v", err)
	}
	if r.Generation != 1 || r.AccessGeneration != 1 {
		t.Errorf("new role = %+v, want generation 1 and access generation 1", r)
	}
	if _, err := s.CreateAccess(ctx, role); !errors.Is(err, store.ErrExists) {
		t.Errorf("duplicate CreateAccess = %v, want ErrExists", err)
	}
	u, err := s.CreateAccess(ctx, store.Access{Cluster: "a", Kind: store.KindUser, Name: "reader", Spec: `{"roles":["reader"]}`, SecretHash: "h1"})
	if err != nil || u.AccessGeneration != 2 {
		t.Fatalf("CreateAccess user = %+v, %v; want access generation 2", u, err)
	}
	same, err := s.UpdateAccess(ctx, "a", store.KindRole, "reader", role.Spec, "", 1)
	if err != nil || same.AccessGeneration != 1 {
		t.Errorf("a no-op update changed the access generation: %+v, %v", same, err)
	}
	if _, err := s.UpdateAccess(ctx, "a", store.KindRole, "reader", `{"privileges":["INSERT"]}`, "", 9); !errors.Is(err, store.ErrStale) {
		t.Errorf("stale UpdateAccess = %v, want ErrStale", err)
	}
	rot, err := s.UpdateAccess(ctx, "a", store.KindUser, "reader", u.Spec, "h2", 0)
	if err != nil || rot.SecretHash != "h2" || rot.Generation != 1 || rot.AccessGeneration != 3 {
		t.Errorf("rotating a secret = %+v, %v; want the new hash, generation 1, access generation 3", rot, err)
	}
	list, err := s.ListAccess(ctx, "a", "")
	if err != nil || len(list) != 2 {
		t.Errorf("ListAccess = %+v, %v", list, err)
	}
	gen, err := s.DeleteAccess(ctx, "a", store.KindRole, "reader", 1)
	if err != nil || gen != 4 {
		t.Errorf("DeleteAccess = %d, %v; want access generation 4", gen, err)
	}
	if c, _ := s.GetCluster(ctx, "a"); c.AccessGeneration != 4 || c.Generation != 1 {
		t.Errorf("cluster after access writes = %+v: the spec generation must not move", c)
	}
	if err := s.DeleteCluster(ctx, "a", 0); err != nil {
		t.Fatal(err)
	}
	if list, _ := s.ListAccess(ctx, "", ""); len(list) != 0 {
		t.Errorf("deleting the cluster left access objects: %+v", list)
	}
}

func testBackups(t *testing.T, s Store) {
	ctx := t.Context()
	b := store.Backup{Cluster: "a", ID: "b1", Labels: map[string]string{"k": "v"}, Status: api.BackupStatus{Phase: api.BackupPending}}
	if _, err := s.CreateBackup(ctx, b); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("CreateBackup of a missing cluster = %v, want ErrNotFound", err)
	}
	if _, err := s.CreateCluster(ctx, "a", spec1); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateBackup(ctx, b); err != nil {
		t.Fatal(err)
	}
	b.ID = "b2"
	if _, err := s.CreateBackup(ctx, b); err != nil {
		t.Fatal(err)
	}
	done := api.BackupStatus{Phase: api.BackupComplete, Size: 10, Tables: 2}
	if err := s.SetBackupStatus(ctx, "a", "b1", done); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetBackup(ctx, "a", "b1")
	if err != nil || got.Status.Phase != api.BackupComplete || got.Status.Size != 10 || got.Labels["k"] != "v" {
		t.Errorf("GetBackup = %+v, %v", got, err)
	}
	list, err := s.ListBackups(ctx, "a")
	if err != nil || len(list) != 2 {
		t.Errorf("ListBackups = %+v, %v", list, err)
	}
	if err := s.DeleteBackup(ctx, "a", "b1"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetBackup(ctx, "a", "b1"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetBackup after delete = %v", err)
	}
	if err := s.SetBackupStatus(ctx, "a", "b1", done); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("SetBackupStatus of a deleted backup = %v", err)
	}
}
