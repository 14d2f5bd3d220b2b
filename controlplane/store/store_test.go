package store_test

import (
	"path/filepath"
	"testing"

	"github.com/duckfleet/duckfleet/controlplane/store"
	"github.com/duckfleet/duckfleet/controlplane/store/storetest"
	"github.com/duckfleet/duckfleet/internal/api"
)

func TestDuckDBConformance(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T) storetest.Store {
		s, err := store.Open(t.Context(), filepath.Join(t.TempDir(), "store.duckdb"))
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}

func TestSurvivesReopen(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "store.duckdb")
	s, err := store.Open(t.Context(), path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	spec := api.ClusterSpec{Pool: "default", MemoryLimit: "1GiB", Threads: 2}
	if _, err := s.CreateCluster(t.Context(), "a", spec); err != nil {
		t.Fatal(err)
	}
	if err := s.PutSecretHash(t.Context(), "admin", "h"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateNode(t.Context(), store.Node{ID: "n1", Pool: "default", Endpoint: "http://x", CredentialHash: "c"}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = store.Open(t.Context(), path)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer s.Close()
	if c, err := s.GetCluster(t.Context(), "a"); err != nil || c.Spec != spec {
		t.Errorf("cluster after reopen = %+v, %v", c, err)
	}
	if h, err := s.SecretHash(t.Context(), "admin"); err != nil || h != "h" {
		t.Errorf("secret after reopen = %q, %v", h, err)
	}
	if n, err := s.GetNode(t.Context(), "n1"); err != nil || n.CredentialHash != "c" {
		t.Errorf("node after reopen = %+v, %v", n, err)
	}
}
