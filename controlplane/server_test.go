package controlplane_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/duckfleet/duckfleet/controlplane"
	"github.com/duckfleet/duckfleet/controlplane/store"
	"github.com/duckfleet/duckfleet/internal/api"
	"github.com/duckfleet/duckfleet/internal/client"
	"github.com/duckfleet/duckfleet/internal/fleettest"
	"github.com/duckfleet/duckfleet/internal/token"
)

func TestMain(m *testing.M) { fleettest.Main(m) }

// TestTokenBootstrap checks that first start writes the tokens 0600 and
// stores only their hashes, and that a restart keeps them.
func TestTokenBootstrap(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	run := func() {
		ctx, cancel := context.WithCancel(t.Context())
		srv, err := controlplane.New(ctx, controlplane.Config{Listen: "127.0.0.1:0", DataDir: dir, Log: log})
		if err != nil {
			t.Fatal(err)
		}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan error)
		go func() { done <- srv.Serve(ctx, ln) }()
		c, _ := client.New("http://"+ln.Addr().String(), readToken(t, filepath.Join(dir, controlplane.AdminTokenFile)))
		if _, err := c.WhoAmI(ctx); err != nil {
			t.Errorf("admin token from the file does not work: %v", err)
		}
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	}
	run()
	admin := readToken(t, filepath.Join(dir, controlplane.AdminTokenFile))
	for _, f := range []string{controlplane.AdminTokenFile, controlplane.JoinTokenFile, controlplane.PushKeyFile} {
		st, err := os.Stat(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v, want 0600", f, st.Mode().Perm())
		}
	}
	db, err := os.ReadFile(filepath.Join(dir, controlplane.StoreFile))
	if err != nil {
		t.Fatal(err)
	}
	wal, _ := os.ReadFile(filepath.Join(dir, controlplane.StoreFile+".wal"))
	if strings.Contains(string(db)+string(wal), admin) {
		t.Error("the store holds the admin token in plain text")
	}
	run() // restart: same token still works
	if got := readToken(t, filepath.Join(dir, controlplane.AdminTokenFile)); got != admin {
		t.Error("restart replaced the admin token")
	}
	st, err := store.Open(t.Context(), filepath.Join(dir, controlplane.StoreFile))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if h, err := st.SecretHash(t.Context(), "admin"); err != nil || h != token.Hash(admin) {
		t.Errorf("stored admin hash = %q, %v", h, err)
	}
}

func readToken(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

func waitReady(t *testing.T, f *fleettest.Fleet, name string, gen int64) api.Cluster {
	t.Helper()
	var c api.Cluster
	f.Eventually(t, 30*time.Second, func(ctx context.Context) error {
		var err error
		c, err = f.Client(t).GetCluster(ctx, name)
		if err != nil {
			return err
		}
		if c.Generation < gen || c.Status.Phase != api.PhaseReady {
			return &phaseError{c}
		}
		return nil
	})
	return c
}

type phaseError struct{ c api.Cluster }

func (e *phaseError) Error() string {
	return "cluster is " + e.c.Status.Phase + ": " + e.c.Status.Message
}

// TestRestartsKeepState restarts the control plane and an agent and checks
// that desired state, node identity and data survive.
func TestRestartsKeepState(t *testing.T) {
	t.Parallel()
	f := fleettest.Start(t, fleettest.Options{Agents: 1})
	ctx := t.Context()
	c := f.Client(t)
	if _, err := c.CreateCluster(ctx, api.ClusterCreate{Name: "keep", Spec: api.ClusterSpec{MemoryLimit: "256MiB", Threads: 1}}); err != nil {
		t.Fatal(err)
	}
	before := waitReady(t, f, "keep", 1)
	nodeID := before.Status.Nodes[0].ID

	f.ControlPlane.Restart(t, controlplane.AddrFile)
	after := waitReady(t, f, "keep", 1)
	if after.Spec != before.Spec || after.Generation != 1 || after.Status.Nodes[0].ID != nodeID {
		t.Errorf("after a control-plane restart the cluster is %+v, was %+v", after, before)
	}

	f.Agents[0].Restart(t, "agent.addr")
	nodes := f.WaitHealthy(t, 1)
	if len(nodes) != 1 || nodes[0].ID != nodeID || nodes[0].Cluster != "keep" {
		t.Errorf("after an agent restart the nodes are %+v, want only %s running keep", nodes, nodeID)
	}
	if !strings.Contains(f.Agents[0].Log(), "resuming as registered node") {
		t.Error("the restarted agent did not resume its identity")
	}
	waitReady(t, f, "keep", 1)
}

// TestMissedPushIsPulled stops the agent while its cluster changes: the
// push fails, and the restarted agent picks the change up from its
// heartbeat answer.
func TestMissedPushIsPulled(t *testing.T) {
	t.Parallel()
	f := fleettest.Start(t, fleettest.Options{Agents: 1})
	ctx := t.Context()
	c := f.Client(t)
	if _, err := c.CreateCluster(ctx, api.ClusterCreate{Name: "late", Spec: api.ClusterSpec{MemoryLimit: "256MiB", Threads: 1}}); err != nil {
		t.Fatal(err)
	}
	waitReady(t, f, "late", 1)
	f.Agents[0].Stop(t)
	if _, err := c.UpdateCluster(ctx, "late", api.ClusterUpdate{Spec: api.ClusterSpec{MemoryLimit: "384MiB", Threads: 2}}, 1); err != nil {
		t.Fatal(err)
	}
	f.Eventually(t, 20*time.Second, func(context.Context) error {
		if !strings.Contains(f.ControlPlane.Log(), "push failed; will retry") {
			return &phaseError{api.Cluster{Status: api.ClusterStatus{Phase: "no failed push logged yet"}}}
		}
		return nil
	})
	f.Agents[0].Restart(t, "agent.addr")
	got := waitReady(t, f, "late", 2)
	if n := got.Status.Nodes[0]; n.MemoryLimit != "384.0 MiB" || n.Threads != 2 {
		t.Errorf("node runs %q and %d threads, want 384.0 MiB and 2", n.MemoryLimit, n.Threads)
	}
}
