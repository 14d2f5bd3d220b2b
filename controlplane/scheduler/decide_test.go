package scheduler

import (
	"strings"
	"testing"
	"time"

	"github.com/duckfleet/duckfleet/controlplane/observe"
	"github.com/duckfleet/duckfleet/controlplane/store"
	"github.com/duckfleet/duckfleet/internal/api"
	"github.com/google/go-cmp/cmp"
)

func cluster(name string, replicas int) store.Cluster {
	return store.Cluster{Name: name, Generation: 1, Spec: api.ClusterSpec{Pool: "default", Replicas: replicas, MemoryLimit: "1GiB", Threads: 2}}
}

func node(id, cluster, role string, healthy bool) NodeState {
	return NodeState{Node: store.Node{ID: id, Pool: "default", Cluster: cluster, Role: role}, Healthy: healthy}
}

func TestDecide(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		clusters    []store.Cluster
		nodes       []NodeState
		want        []Move
		wantPending []string
	}{
		{
			name:     "places a new cluster on the first free healthy node",
			clusters: []store.Cluster{cluster("a", 0)},
			nodes:    []NodeState{node("n2", "", "", true), node("n1", "", "", false), node("n3", "", "", true)},
			want:     []Move{{NodeID: "n2", To: "a", Role: api.RolePrimary}},
		},
		{
			name:        "pending without free healthy nodes",
			clusters:    []store.Cluster{cluster("a", 0)},
			nodes:       []NodeState{node("n1", "", "", false)},
			wantPending: []string{"a"},
		},
		{
			name:     "keeps placed nodes even when unhealthy",
			clusters: []store.Cluster{cluster("a", 0)},
			nodes:    []NodeState{node("n1", "a", api.RolePrimary, false), node("n2", "", "", true)},
		},
		{
			name:     "adds replicas and keeps the primary",
			clusters: []store.Cluster{cluster("a", 2)},
			nodes:    []NodeState{node("n3", "a", api.RolePrimary, true), node("n1", "", "", true), node("n2", "", "", true)},
			want:     []Move{{NodeID: "n1", To: "a", Role: api.RoleReplica}, {NodeID: "n2", To: "a", Role: api.RoleReplica}},
		},
		{
			name:     "releases surplus replicas, never the primary",
			clusters: []store.Cluster{cluster("a", 0)},
			nodes:    []NodeState{node("n1", "a", api.RoleReplica, true), node("n2", "a", api.RolePrimary, true), node("n3", "a", api.RoleReplica, true)},
			want:     []Move{{NodeID: "n3", From: "a"}, {NodeID: "n1", From: "a"}},
		},
		{
			name:     "releases nodes of deleted clusters",
			clusters: nil,
			nodes:    []NodeState{node("n1", "gone", api.RolePrimary, true)},
			want:     []Move{{NodeID: "n1", From: "gone"}},
		},
		{
			name:        "two clusters share a pool in name order",
			clusters:    []store.Cluster{cluster("b", 0), cluster("a", 0)},
			nodes:       []NodeState{node("n1", "", "", true)},
			want:        []Move{{NodeID: "n1", To: "a", Role: api.RolePrimary}},
			wantPending: []string{"b"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d := Decide(tt.clusters, tt.nodes)
			if d := cmp.Diff(tt.want, d.Moves); d != "" {
				t.Errorf("moves (-want +got):\n%s", d)
			}
			var pending []string
			for name, reason := range d.Pending {
				pending = append(pending, name)
				if !strings.Contains(reason, "pool \"default\"") {
					t.Errorf("pending reason %q does not name the pool", reason)
				}
			}
			if d := cmp.Diff(tt.wantPending, pending); d != "" {
				t.Errorf("pending (-want +got):\n%s", d)
			}
		})
	}
}

func TestStatus(t *testing.T) {
	t.Parallel()
	now := time.Unix(1000, 0)
	c := cluster("a", 1)
	c.Generation = 3
	running := func(gen int64, errMsg string) *observe.Observation {
		return &observe.Observation{At: now, Observed: api.Observed{Cluster: "a", Healthy: true, Running: api.Revision{Assignment: 1, Generation: gen},
			Settings: api.Settings{MemoryLimit: "1.0 GiB", Threads: 2}, Error: errMsg}}
	}
	view := func(id, role string, o *observe.Observation, healthy bool) NodeView {
		return NodeView{Node: store.Node{ID: id, Cluster: "a", Role: role, Assignment: 1, Endpoint: "http://" + id}, Observation: o, Healthy: healthy}
	}
	tests := []struct {
		name      string
		nodes     []NodeView
		pending   string
		wantPhase string
		wantMsg   string
	}{
		{"ready", []NodeView{view("n1", api.RolePrimary, running(3, ""), true), view("n2", api.RoleReplica, running(3, ""), true)}, "", api.PhaseReady, ""},
		{"converging", []NodeView{view("n1", api.RolePrimary, running(3, ""), true), view("n2", api.RoleReplica, running(2, ""), true)}, "", api.PhaseConverging, "node n2 runs generation 2"},
		{"apply failed", []NodeView{view("n1", api.RolePrimary, running(2, "boom"), true)}, "", api.PhaseDegraded, "node n1 failed to apply its config: boom"},
		{"silent node", []NodeView{view("n1", api.RolePrimary, nil, false)}, "", api.PhaseDegraded, "node n1 has not sent a heartbeat"},
		{"pending", nil, "needs 2 node(s)", api.PhasePending, "needs 2 node(s)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			st := Status(c, tt.nodes, tt.pending, now)
			if st.Phase != tt.wantPhase || !strings.Contains(st.Message, tt.wantMsg) {
				t.Errorf("Status = %q %q, want %q containing %q", st.Phase, st.Message, tt.wantPhase, tt.wantMsg)
			}
			if len(tt.nodes) > 0 && st.PrimaryEndpoint != "http://n1" {
				t.Errorf("PrimaryEndpoint = %q", st.PrimaryEndpoint)
			}
		})
	}
}

func TestConfigs(t *testing.T) {
	t.Parallel()
	c := cluster("a", 0)
	c.Generation = 4
	c.AccessGeneration = 3
	got, err := Configs([]store.Cluster{c}, []store.Node{
		{ID: "n1", Cluster: "a", Role: api.RolePrimary, Assignment: 2},
		{ID: "n2", Assignment: 5},
	}, []store.Access{
		{Cluster: "a", Kind: store.KindRole, Name: "r", Spec: `{"privileges":["SELECT"],"query_timeout":"2s","max_result_rows":10}`},
		{Cluster: "a", Kind: store.KindUser, Name: "u", Spec: `{"roles":["r"]}`, SecretHash: "h"},
	}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	none := api.AccessConfig{Roles: []api.RoleConfig{}, Users: []api.UserConfig{}}
	want := map[string]api.NodeConfig{
		"n1": {NodeID: "n1", Cluster: "a", Role: api.RolePrimary, Revision: api.Revision{Assignment: 2, Generation: 4, Access: 3}, Settings: api.Settings{MemoryLimit: "1GiB", Threads: 2}, StoragePrefix: "clusters/a",
			Access: api.AccessConfig{
				Roles: []api.RoleConfig{{Name: "r", Privileges: []string{"SELECT"}, QueryTimeoutMillis: 2000, MaxResultRows: 10}},
				Users: []api.UserConfig{{Name: "u", TokenHash: "h", Roles: []string{"r"}}},
			}},
		"n2": {NodeID: "n2", Revision: api.Revision{Assignment: 5}, Access: none},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("Configs (-want +got):\n%s", d)
	}
}
