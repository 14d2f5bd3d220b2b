// Package scheduler decides which agents run which clusters and what config
// each node should run, as pure functions of the stored desired state and
// observed health, plus the level-based loop that applies those decisions.
// The loop can stop at any point and converge again on its next pass.
package scheduler

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/duckfleet/duckfleet/controlplane/store"
	"github.com/duckfleet/duckfleet/internal/api"
)

// NodeState is a stored node and its observed health.
type NodeState struct {
	store.Node
	Healthy bool
}

// Move gives a node to a cluster (To, with Role) or releases it (To == "").
// From is the cluster the node is on when the decision is made.
type Move struct {
	NodeID string
	From   string
	To     string
	Role   string
}

// Decision is the result of one placement pass.
type Decision struct {
	Moves []Move
	// Pending maps each cluster that is short of nodes to the reason.
	Pending map[string]string
}

// Decide places every cluster on free, healthy agents of its pool: a cluster
// needs one primary and Spec.Replicas replicas. Nodes of deleted clusters and
// surplus replicas are released. Nodes already placed stay where they are,
// healthy or not.
func Decide(clusters []store.Cluster, nodes []NodeState) Decision {
	d := Decision{Pending: map[string]string{}}
	byCluster := map[string][]NodeState{}
	for _, n := range nodes {
		if n.Cluster != "" {
			byCluster[n.Cluster] = append(byCluster[n.Cluster], n)
		}
	}
	known := map[string]bool{}
	for _, c := range clusters {
		known[c.Name] = true
	}
	// Free nodes per pool, healthy ones in id order; released nodes are not
	// reused in the same pass, so an agent gets its release before a new
	// assignment.
	free := map[string][]string{}
	unhealthyFree := map[string]int{}
	total := map[string]int{}
	for _, n := range sortedNodes(nodes) {
		total[n.Pool]++
		switch {
		case n.Cluster != "":
		case n.Healthy:
			free[n.Pool] = append(free[n.Pool], n.ID)
		default:
			unhealthyFree[n.Pool]++
		}
	}
	for _, n := range sortedNodes(nodes) {
		if n.Cluster != "" && !known[n.Cluster] {
			d.Moves = append(d.Moves, Move{NodeID: n.ID, From: n.Cluster})
		}
	}
	for _, c := range sortedClusters(clusters) {
		ns := sortedNodes(byCluster[c.Name])
		need := 1 + c.Spec.Replicas
		hasPrimary := false
		for _, n := range ns {
			hasPrimary = hasPrimary || n.Role == api.RolePrimary
		}
		if len(ns) > need {
			released := 0
			for i := len(ns) - 1; i >= 0 && len(ns)-released > need; i-- {
				if ns[i].Role == api.RolePrimary {
					continue
				}
				d.Moves = append(d.Moves, Move{NodeID: ns[i].ID, From: c.Name})
				released++
			}
			continue
		}
		have := len(ns)
		pool := free[c.Spec.Pool]
		for have < need && len(pool) > 0 {
			role := api.RoleReplica
			if !hasPrimary {
				role, hasPrimary = api.RolePrimary, true
			}
			d.Moves = append(d.Moves, Move{NodeID: pool[0], To: c.Name, Role: role})
			pool = pool[1:]
			have++
		}
		free[c.Spec.Pool] = pool
		if have < need {
			d.Pending[c.Name] = fmt.Sprintf("needs %d node(s) from pool %q and has %d: the pool has %d agent(s), none free and healthy (%d free but unhealthy); add agents with --pool %s or lower replicas",
				need, c.Spec.Pool, have, total[c.Spec.Pool], unhealthyFree[c.Spec.Pool], c.Spec.Pool)
		}
	}
	return d
}

// Configs returns the config every node should run. Access objects whose
// spec does not decode are left out (and reported): they cannot grant
// anything.
// keys maps the ids of encrypted backups that clusters restore from to
// their keeper URLs.
func Configs(clusters []store.Cluster, nodes []store.Node, access []store.Access, backups []store.Backup, keys map[string]string) (map[string]api.NodeConfig, error) {
	byName := make(map[string]store.Cluster, len(clusters))
	for _, c := range clusters {
		byName[c.Name] = c
	}
	acl, err := AccessConfigs(access)
	out := make(map[string]api.NodeConfig, len(nodes))
	for _, n := range nodes {
		cfg := api.NodeConfig{NodeID: n.ID, Revision: api.Revision{Assignment: n.Assignment}}
		if c, ok := byName[n.Cluster]; ok {
			cfg.Cluster, cfg.Role = c.Name, n.Role
			cfg.Revision.Generation = c.Generation
			cfg.Revision.Access = c.AccessGeneration
			cfg.Settings = api.Settings{MemoryLimit: c.Spec.MemoryLimit, Threads: c.Spec.Threads}
			cfg.StorageURL, cfg.StoragePrefix = c.Spec.StorageURL, "clusters/"+c.Name
			cfg.Restore = restoreJob(c.Spec.RestoreFrom, backups, keys)
			cfg.Access = acl[c.Name]
		}
		if cfg.Access.Roles == nil {
			cfg.Access = api.AccessConfig{Roles: []api.RoleConfig{}, Users: []api.UserConfig{}}
		}
		out[n.ID] = cfg
	}
	return out, err
}

// restoreJob is where a cluster restoring from backup id finds it. A
// backup that no longer exists gives a job without storage, which nodes
// report as a failed apply.
func restoreJob(id string, backups []store.Backup, keys map[string]string) *api.BackupJob {
	if id == "" {
		return nil
	}
	for _, b := range backups {
		if b.ID == id {
			return &api.BackupJob{ID: id, Cluster: b.Cluster, StorageURL: b.Status.StorageURL, StoragePrefix: b.Status.StoragePrefix, EncryptionKeyURL: keys[id]}
		}
	}
	return &api.BackupJob{ID: id}
}

// AccessConfigs turns stored roles and users into what nodes enforce, per cluster.
func AccessConfigs(access []store.Access) (map[string]api.AccessConfig, error) {
	out := map[string]api.AccessConfig{}
	var errs []error
	for _, a := range access {
		ac, ok := out[a.Cluster]
		if !ok {
			ac = api.AccessConfig{Roles: []api.RoleConfig{}, Users: []api.UserConfig{}}
		}
		switch a.Kind {
		case store.KindRole:
			var spec api.RoleSpec
			if err := json.Unmarshal([]byte(a.Spec), &spec); err != nil {
				errs = append(errs, fmt.Errorf("role %s/%s: %w", a.Cluster, a.Name, err))
				continue
			}
			rc := api.RoleConfig{Name: a.Name, Privileges: spec.Privileges, MaxResultRows: spec.MaxResultRows, Schemas: spec.Schemas}
			if d, err := time.ParseDuration(spec.QueryTimeout); err == nil {
				rc.QueryTimeoutMillis = d.Milliseconds()
			}
			ac.Roles = append(ac.Roles, rc)
		case store.KindUser:
			var spec api.UserSpec
			if err := json.Unmarshal([]byte(a.Spec), &spec); err != nil {
				errs = append(errs, fmt.Errorf("user %s/%s: %w", a.Cluster, a.Name, err))
				continue
			}
			ac.Users = append(ac.Users, api.UserConfig{Name: a.Name, TokenHash: a.SecretHash, Roles: spec.Roles})
		}
		out[a.Cluster] = ac
	}
	return out, errors.Join(errs...)
}

func sortedNodes(ns []NodeState) []NodeState {
	out := append([]NodeState(nil), ns...)
	sort.Slice(out, func(i, j int) bool {
		// The primary first, then by id.
		if (out[i].Role == api.RolePrimary) != (out[j].Role == api.RolePrimary) {
			return out[i].Role == api.RolePrimary
		}
		return out[i].ID < out[j].ID
	})
	return out
}

func sortedClusters(cs []store.Cluster) []store.Cluster {
	out := append([]store.Cluster(nil), cs...)
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}
