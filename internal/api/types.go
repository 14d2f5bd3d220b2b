package api

import "time"

// Defaults applied by the control plane to fields a client leaves out. The
// provider uses the same values as its schema defaults.
const (
	DefaultPool        = "default"
	DefaultMemoryLimit = "1GiB"
	DefaultThreads     = 2
	MaxThreads         = 1024
	MaxReplicas        = 64
	// MinMemoryLimit is the smallest memory_limit DuckDB is given.
	MinMemoryLimit = 16 << 20
)

// Cluster phases, in Cluster.Status.Phase.
const (
	PhasePending    = "pending"    // not every node could be placed yet; Message says why
	PhaseConverging = "converging" // placed; some node has not applied the newest generation
	PhaseReady      = "ready"      // every node runs the newest generation and is healthy
	PhaseDegraded   = "degraded"   // a node is unhealthy or failed to apply; Message says which
)

// Node roles within a cluster.
const (
	RolePrimary = "primary"
	RoleReplica = "replica"
)

// ClusterSpec is the desired state of a cluster.
type ClusterSpec struct {
	// Pool is the pool of agents the cluster's nodes are taken from.
	Pool string `json:"pool"`
	// Replicas is the number of read-only nodes beside the primary.
	Replicas int `json:"replicas"`
	// MemoryLimit is DuckDB's memory_limit on every node, such as "512MiB".
	MemoryLimit string `json:"memory_limit"`
	// Threads is DuckDB's threads setting on every node.
	Threads int `json:"threads"`
	// StorageURL is where the cluster's backups and snapshots go, a
	// gocloud.dev blob URL (file://, s3://, gs://, azblob://); empty means
	// the control plane's default. Credentials come from the agents'
	// environment, never from here.
	StorageURL string `json:"storage_url"`
	// RestoreFrom is the id of a complete backup (of any cluster) a new
	// cluster starts from; it cannot change afterwards.
	RestoreFrom string `json:"restore_from,omitempty"`
}

// Cluster is a cluster as the API serves it.
type Cluster struct {
	Name       string        `json:"name"`
	Spec       ClusterSpec   `json:"spec"`
	Status     ClusterStatus `json:"status"`
	Generation int64         `json:"generation"`
	CreatedAt  time.Time     `json:"created_at"`
	UpdatedAt  time.Time     `json:"updated_at"`
}

// ClusterStatus is what the control plane observes of a cluster.
type ClusterStatus struct {
	Phase           string `json:"phase"`
	Message         string `json:"message,omitempty"`
	PrimaryEndpoint string `json:"primary_endpoint,omitempty"`
	// AccessGeneration counts changes of the cluster's roles and users.
	AccessGeneration int64         `json:"access_generation"`
	Nodes            []ClusterNode `json:"nodes"`
}

// ClusterNode is one node of a cluster and what it reports.
type ClusterNode struct {
	ID                 string `json:"id"`
	Endpoint           string `json:"endpoint"`
	Role               string `json:"role"`
	Healthy            bool   `json:"healthy"`
	ObservedGeneration int64  `json:"observed_generation"`
	// ObservedAccessGeneration is the access generation the node enforces.
	ObservedAccessGeneration int64 `json:"observed_access_generation"`
	// MemoryLimit and Threads are the values in effect, as DuckDB reports them.
	MemoryLimit string `json:"memory_limit"`
	Threads     int    `json:"threads"`
	// Error is the node's last apply error, if its newest apply failed.
	Error string `json:"error,omitempty"`
}

// ClusterCreate is the body of POST /v1/clusters.
type ClusterCreate struct {
	Name string      `json:"name"`
	Spec ClusterSpec `json:"spec"`
}

// ClusterUpdate is the body of PUT /v1/clusters/{cluster}.
type ClusterUpdate struct {
	Spec ClusterSpec `json:"spec"`
}

// ClusterList is the answer of GET /v1/clusters.
type ClusterList struct {
	Items []Cluster `json:"items"`
}

// Node is an agent as the API serves it.
type Node struct {
	ID       string `json:"id"`
	Pool     string `json:"pool"`
	Endpoint string `json:"endpoint"`
	// Cluster and Role are empty for a free node.
	Cluster       string     `json:"cluster"`
	Role          string     `json:"role"`
	Healthy       bool       `json:"healthy"`
	LastHeartbeat *time.Time `json:"last_heartbeat"`
	// Observed is the node's last heartbeat, if any since the control plane started.
	Observed     *Observed `json:"observed,omitempty"`
	RegisteredAt time.Time `json:"registered_at"`
}

// NodeList is the answer of GET /v1/nodes.
type NodeList struct {
	Items []Node `json:"items"`
}

// Revision orders the configs of one node: Assignment first, then the
// cluster's Generation (its spec), then its Access generation (roles and
// users).
type Revision struct {
	Assignment int64 `json:"assignment"`
	Generation int64 `json:"generation"`
	Access     int64 `json:"access"`
}

// Newer reports whether r is a later config than o.
func (r Revision) Newer(o Revision) bool {
	if r.Assignment != o.Assignment {
		return r.Assignment > o.Assignment
	}
	if r.Generation != o.Generation {
		return r.Generation > o.Generation
	}
	return r.Access > o.Access
}

// Settings are the DuckDB settings of a node. In a NodeConfig they are the
// desired values in canonical form; in a heartbeat they are the values in
// effect as DuckDB reports them (for example "512.0 MiB").
type Settings struct {
	MemoryLimit string `json:"memory_limit"`
	Threads     int    `json:"threads"`
}

// NodeConfig is the desired config of one node (PUT /v1/config on the agent,
// GET /v1/agent/config on the control plane). An empty Cluster releases the
// node: it closes and removes its database.
type NodeConfig struct {
	NodeID   string   `json:"node_id"`
	Cluster  string   `json:"cluster"`
	Role     string   `json:"role"`
	Revision Revision `json:"revision"`
	Settings Settings `json:"settings"`
	// StorageURL is the cluster's storage; the cluster's objects live under
	// StoragePrefix in it.
	StorageURL    string `json:"storage_url,omitempty"`
	StoragePrefix string `json:"storage_prefix,omitempty"`
	// Restore, when set, is the backup the node loads when it joins the
	// cluster (a new assignment), before it reports the config as applied.
	Restore *BackupJob `json:"restore,omitempty"`
	// Access is who may query the node and what they may do.
	Access AccessConfig `json:"access"`
}

// RegisterRequest is the body of POST /v1/agent/register.
type RegisterRequest struct {
	Pool     string `json:"pool"`
	Endpoint string `json:"endpoint"`
}

// RegisterResponse is the answer of POST /v1/agent/register.
type RegisterResponse struct {
	NodeID     string `json:"node_id"`
	Credential string `json:"credential"`
	// PushKey is the control plane's Ed25519 public key (base64), used by
	// the agent to verify pushed configs.
	PushKey string `json:"push_key"`
}

// Observed is what an agent reports in a heartbeat.
type Observed struct {
	Endpoint string   `json:"endpoint"`
	Cluster  string   `json:"cluster"`
	Role     string   `json:"role"`
	Running  Revision `json:"running"`
	Healthy  bool     `json:"healthy"`
	Settings Settings `json:"settings"`
	// Error is the last apply error, empty when the newest apply succeeded.
	Error string `json:"error,omitempty"`
	// Jobs are the node's recent backup jobs.
	Jobs []JobStatus `json:"jobs,omitempty"`
}

// HeartbeatRequest is the body of POST /v1/agent/heartbeat.
type HeartbeatRequest = Observed

// HeartbeatResponse is the answer of POST /v1/agent/heartbeat.
type HeartbeatResponse struct {
	Desired        Revision `json:"desired"`
	IntervalMillis int64    `json:"interval_ms"`
}
