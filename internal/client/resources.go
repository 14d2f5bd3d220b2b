package client

import (
	"context"
	"net/http"
	"net/url"
	"strconv"

	"github.com/duckfleet/duckfleet/internal/api"
)

// Ready checks that the control plane is up (GET /readyz).
func (c *Client) Ready(ctx context.Context) error {
	return c.do(ctx, request{method: http.MethodGet, path: "/readyz"})
}

// WhoAmI checks the token (GET /v1/whoami) and returns the principal's kind.
func (c *Client) WhoAmI(ctx context.Context) (string, error) {
	var out struct {
		Principal string `json:"principal"`
	}
	err := c.do(ctx, request{method: http.MethodGet, path: "/v1/whoami", out: &out})
	return out.Principal, err
}

// CreateCluster creates a cluster.
func (c *Client) CreateCluster(ctx context.Context, in api.ClusterCreate) (api.Cluster, error) {
	var out api.Cluster
	err := c.do(ctx, request{method: http.MethodPost, path: "/v1/clusters", in: in, out: &out})
	return out, err
}

// GetCluster reads a cluster.
func (c *Client) GetCluster(ctx context.Context, name string) (api.Cluster, error) {
	var out api.Cluster
	err := c.do(ctx, request{method: http.MethodGet, path: "/v1/clusters/" + url.PathEscape(name), out: &out})
	return out, err
}

// ListClusters lists every cluster.
func (c *Client) ListClusters(ctx context.Context) ([]api.Cluster, error) {
	var out api.ClusterList
	err := c.do(ctx, request{method: http.MethodGet, path: "/v1/clusters", out: &out})
	return out.Items, err
}

// UpdateCluster replaces a cluster's spec. A non-zero ifMatch makes the
// update conditional on the cluster's generation (412 when it moved on).
func (c *Client) UpdateCluster(ctx context.Context, name string, in api.ClusterUpdate, ifMatch int64) (api.Cluster, error) {
	var out api.Cluster
	err := c.do(ctx, request{method: http.MethodPut, path: "/v1/clusters/" + url.PathEscape(name), ifMatch: ifMatch, in: in, out: &out})
	return out, err
}

// DeleteCluster deletes a cluster, conditionally on ifMatch when non-zero.
func (c *Client) DeleteCluster(ctx context.Context, name string, ifMatch int64) error {
	return c.do(ctx, request{method: http.MethodDelete, path: "/v1/clusters/" + url.PathEscape(name), ifMatch: ifMatch})
}

// ListNodes lists the nodes, of one pool when pool is not empty.
func (c *Client) ListNodes(ctx context.Context, pool string) ([]api.Node, error) {
	var out api.NodeList
	q := url.Values{}
	if pool != "" {
		q.Set("pool", pool)
	}
	err := c.do(ctx, request{method: http.MethodGet, path: "/v1/nodes", query: q, out: &out})
	return out.Items, err
}

// GetNode reads one node.
func (c *Client) GetNode(ctx context.Context, id string) (api.Node, error) {
	var out api.Node
	err := c.do(ctx, request{method: http.MethodGet, path: "/v1/nodes/" + url.PathEscape(id), out: &out})
	return out, err
}

// Register registers an agent; the client's token must be the join token.
func (c *Client) Register(ctx context.Context, in api.RegisterRequest) (api.RegisterResponse, error) {
	var out api.RegisterResponse
	err := c.do(ctx, request{method: http.MethodPost, path: "/v1/agent/register", in: in, out: &out})
	return out, err
}

// Heartbeat reports an agent's observations; the token is its node credential.
func (c *Client) Heartbeat(ctx context.Context, in api.HeartbeatRequest) (api.HeartbeatResponse, error) {
	var out api.HeartbeatResponse
	err := c.do(ctx, request{method: http.MethodPost, path: "/v1/agent/heartbeat", in: in, out: &out})
	return out, err
}

// AgentConfig pulls the agent's desired config.
func (c *Client) AgentConfig(ctx context.Context) (api.NodeConfig, error) {
	var out api.NodeConfig
	err := c.do(ctx, request{method: http.MethodGet, path: "/v1/agent/config", out: &out})
	return out, err
}

func accessPath(cluster, kind, name string) string {
	p := "/v1/clusters/" + url.PathEscape(cluster) + "/" + kind + "s"
	if name != "" {
		p += "/" + url.PathEscape(name)
	}
	return p
}

// CreateRole creates a role in a cluster.
func (c *Client) CreateRole(ctx context.Context, cluster string, in api.RoleCreate) (api.Role, error) {
	var out api.Role
	err := c.do(ctx, request{method: http.MethodPost, path: accessPath(cluster, "role", ""), in: in, out: &out})
	return out, err
}

// GetRole reads a role.
func (c *Client) GetRole(ctx context.Context, cluster, name string) (api.Role, error) {
	var out api.Role
	err := c.do(ctx, request{method: http.MethodGet, path: accessPath(cluster, "role", name), out: &out})
	return out, err
}

// UpdateRole replaces a role's spec, conditionally on ifMatch when non-zero.
func (c *Client) UpdateRole(ctx context.Context, cluster, name string, in api.RoleUpdate, ifMatch int64) (api.Role, error) {
	var out api.Role
	err := c.do(ctx, request{method: http.MethodPut, path: accessPath(cluster, "role", name), ifMatch: ifMatch, in: in, out: &out})
	return out, err
}

// DeleteRole deletes a role and returns the cluster's new access generation.
func (c *Client) DeleteRole(ctx context.Context, cluster, name string, ifMatch int64) (api.AccessStat, error) {
	var out api.AccessStat
	err := c.do(ctx, request{method: http.MethodDelete, path: accessPath(cluster, "role", name), ifMatch: ifMatch, out: &out})
	return out, err
}

// CreateUser creates a user; the answer carries its token, once.
func (c *Client) CreateUser(ctx context.Context, cluster string, in api.UserCreate) (api.User, error) {
	var out api.User
	err := c.do(ctx, request{method: http.MethodPost, path: accessPath(cluster, "user", ""), in: in, out: &out})
	return out, err
}

// GetUser reads a user (without its token).
func (c *Client) GetUser(ctx context.Context, cluster, name string) (api.User, error) {
	var out api.User
	err := c.do(ctx, request{method: http.MethodGet, path: accessPath(cluster, "user", name), out: &out})
	return out, err
}

// UpdateUser replaces a user's roles, conditionally on ifMatch when non-zero.
func (c *Client) UpdateUser(ctx context.Context, cluster, name string, in api.UserUpdate, ifMatch int64) (api.User, error) {
	var out api.User
	err := c.do(ctx, request{method: http.MethodPut, path: accessPath(cluster, "user", name), ifMatch: ifMatch, in: in, out: &out})
	return out, err
}

// RotateUserToken issues a new token for a user.
func (c *Client) RotateUserToken(ctx context.Context, cluster, name string) (api.User, error) {
	var out api.User
	err := c.do(ctx, request{method: http.MethodPost, path: accessPath(cluster, "user", name) + "/rotate-token", out: &out})
	return out, err
}

// DeleteUser deletes a user and returns the cluster's new access generation.
func (c *Client) DeleteUser(ctx context.Context, cluster, name string, ifMatch int64) (api.AccessStat, error) {
	var out api.AccessStat
	err := c.do(ctx, request{method: http.MethodDelete, path: accessPath(cluster, "user", name), ifMatch: ifMatch, out: &out})
	return out, err
}

// IssueQueryToken signs a short-lived query token for a user.
func (c *Client) IssueQueryToken(ctx context.Context, cluster, user string, in api.QueryTokenRequest) (api.QueryToken, error) {
	var out api.QueryToken
	err := c.do(ctx, request{method: http.MethodPost, path: accessPath(cluster, "user", user) + "/query-tokens", in: in, out: &out})
	return out, err
}

// NodeQueryLog reads a node's recent queries, newest first.
func (c *Client) NodeQueryLog(ctx context.Context, node string, limit int) (api.QueryLog, error) {
	var out api.QueryLog
	q := url.Values{}
	q.Set("limit", strconv.Itoa(limit))
	err := c.do(ctx, request{method: http.MethodGet, path: "/v1/nodes/" + url.PathEscape(node) + "/query-log", query: q, out: &out})
	return out, err
}

func backupPath(cluster, id string) string {
	p := "/v1/clusters/" + url.PathEscape(cluster) + "/backups"
	if id != "" {
		p += "/" + url.PathEscape(id)
	}
	return p
}

// CreateBackup asks for an on-demand backup of a cluster.
func (c *Client) CreateBackup(ctx context.Context, cluster string, in api.BackupCreate) (api.Backup, error) {
	var out api.Backup
	err := c.do(ctx, request{method: http.MethodPost, path: backupPath(cluster, ""), in: in, out: &out})
	return out, err
}

// GetBackup reads a backup.
func (c *Client) GetBackup(ctx context.Context, cluster, id string) (api.Backup, error) {
	var out api.Backup
	err := c.do(ctx, request{method: http.MethodGet, path: backupPath(cluster, id), out: &out})
	return out, err
}

// ListBackups lists a cluster's backups, newest first.
func (c *Client) ListBackups(ctx context.Context, cluster string) ([]api.Backup, error) {
	var out api.BackupList
	err := c.do(ctx, request{method: http.MethodGet, path: backupPath(cluster, ""), out: &out})
	return out.Items, err
}

// DeleteBackup deletes a backup and its objects.
func (c *Client) DeleteBackup(ctx context.Context, cluster, id string) error {
	return c.do(ctx, request{method: http.MethodDelete, path: backupPath(cluster, id)})
}

func policyPath(cluster, name string) string {
	p := "/v1/clusters/" + url.PathEscape(cluster) + "/backup-policies"
	if name != "" {
		p += "/" + url.PathEscape(name)
	}
	return p
}

// CreateBackupPolicy creates a backup policy.
func (c *Client) CreateBackupPolicy(ctx context.Context, cluster string, in api.BackupPolicyCreate) (api.BackupPolicy, error) {
	var out api.BackupPolicy
	err := c.do(ctx, request{method: http.MethodPost, path: policyPath(cluster, ""), in: in, out: &out})
	return out, err
}

// GetBackupPolicy reads a backup policy.
func (c *Client) GetBackupPolicy(ctx context.Context, cluster, name string) (api.BackupPolicy, error) {
	var out api.BackupPolicy
	err := c.do(ctx, request{method: http.MethodGet, path: policyPath(cluster, name), out: &out})
	return out, err
}

// RunBackupPolicy takes one of the policy's backups now.
func (c *Client) RunBackupPolicy(ctx context.Context, cluster, name string) (api.Backup, error) {
	var out api.Backup
	err := c.do(ctx, request{method: http.MethodPost, path: policyPath(cluster, name) + "/run", out: &out})
	return out, err
}

// UpdateBackupPolicy replaces a policy's spec, conditionally on ifMatch when non-zero.
func (c *Client) UpdateBackupPolicy(ctx context.Context, cluster, name string, in api.BackupPolicyUpdate, ifMatch int64) (api.BackupPolicy, error) {
	var out api.BackupPolicy
	err := c.do(ctx, request{method: http.MethodPut, path: policyPath(cluster, name), ifMatch: ifMatch, in: in, out: &out})
	return out, err
}

// DeleteBackupPolicy deletes a policy (its backups stay).
func (c *Client) DeleteBackupPolicy(ctx context.Context, cluster, name string, ifMatch int64) error {
	return c.do(ctx, request{method: http.MethodDelete, path: policyPath(cluster, name), ifMatch: ifMatch})
}
