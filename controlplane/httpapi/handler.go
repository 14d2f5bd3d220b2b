// Package httpapi is the control plane's Gin HTTP API: one file per
// resource, handlers as methods on Handler, every error as an RFC 9457
// problem document (see errors.go for the mapping from store errors).
package httpapi

import (
	"context"
	"crypto/ed25519"
	"log/slog"
	"sync"
	"time"

	"github.com/duckfleet/duckfleet/controlplane/observe"
	"github.com/duckfleet/duckfleet/controlplane/store"
	"github.com/duckfleet/duckfleet/internal/api"
	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
)

// Store is the part of the store the API uses.
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
	CreateAccess(ctx context.Context, a store.Access) (store.Access, error)
	GetAccess(ctx context.Context, cluster, kind, name string) (store.Access, error)
	ListAccess(ctx context.Context, cluster, kind string) ([]store.Access, error)
	UpdateAccess(ctx context.Context, cluster, kind, name, spec, secretHash string, ifMatch int64) (store.Access, error)
	DeleteAccess(ctx context.Context, cluster, kind, name string, ifMatch int64) (int64, error)
	CreateBackup(ctx context.Context, b store.Backup) (store.Backup, error)
	GetBackup(ctx context.Context, cluster, id string) (store.Backup, error)
	ListBackups(ctx context.Context, cluster string) ([]store.Backup, error)
	DeleteBackup(ctx context.Context, cluster, id string) error
}

// Sealer seals secrets the control plane must read back.
type Sealer interface {
	Seal(ctx context.Context, plain string) (string, error)
}

// Backups runs backup jobs, learns how they go, and deletes backups.
type Backups interface {
	Kick()
	Observe(ctx context.Context, node string, jobs []api.JobStatus) error
	Delete(ctx context.Context, b store.Backup) error
}

// Tracker records and reads heartbeats.
type Tracker interface {
	Record(id string, o api.Observed) (healthChanged bool)
	Get(id string) (observe.Observation, bool)
	Healthy(id string) bool
}

// Scheduler is woken on changes and explains pending clusters.
type Scheduler interface {
	Kick()
	Pending(cluster string) string
}

// Desired tells what each node should run.
type Desired interface {
	Desired(id string) (api.NodeConfig, bool)
	Observed(id string, running api.Revision)
}

// QueryLogReader reads a node's query log from its agent.
type QueryLogReader interface {
	QueryLog(ctx context.Context, endpoint, nodeID string, limit int) (api.QueryLog, error)
}

// Config holds the Handler's dependencies.
type Config struct {
	Store     Store
	Tracker   Tracker
	Scheduler Scheduler
	Desired   Desired
	Log       *slog.Logger
	// AdminTokenHash and JoinTokenHash are SHA-256 hashes (see internal/token).
	AdminTokenHash string
	JoinTokenHash  string
	// PushKey is handed to agents at registration to verify pushes and
	// query tokens; TokenKey is its private half, which signs query tokens.
	PushKey  ed25519.PublicKey
	TokenKey ed25519.PrivateKey
	// Agents reads nodes' query logs.
	Agents  QueryLogReader
	Backups Backups
	// Sealer keeps backup encryption keys sealed in the store.
	Sealer Sealer
	// DefaultStorageURL is the storage of clusters that name none.
	DefaultStorageURL string
	// HeartbeatInterval is the interval agents are told to use.
	HeartbeatInterval time.Duration
	// Registry receives the API's metrics; nil means a new registry.
	Registry *prometheus.Registry
	// Ready reports whether the control plane can serve (GET /readyz).
	Ready func(ctx context.Context) error
}

// Handler serves the API.
type Handler struct {
	cfg     Config
	metrics metrics

	mu     sync.RWMutex
	byCred map[string]string   // credential hash -> node id
	nodes  map[string]nodeInfo // node id -> cached registration
}

type nodeInfo struct {
	pool     string
	endpoint string
}

// New returns a Handler; it loads the registered nodes' credentials.
func New(ctx context.Context, cfg Config) (*Handler, error) {
	if cfg.Registry == nil {
		cfg.Registry = prometheus.NewRegistry()
	}
	h := &Handler{cfg: cfg, metrics: newMetrics(cfg.Registry), byCred: map[string]string{}, nodes: map[string]nodeInfo{}}
	nodes, err := cfg.Store.ListNodes(ctx)
	if err != nil {
		return nil, err
	}
	for _, n := range nodes {
		h.byCred[n.CredentialHash] = n.ID
		h.nodes[n.ID] = nodeInfo{pool: n.Pool, endpoint: n.Endpoint}
	}
	return h, nil
}

// Router returns the Gin engine serving every route.
func (h *Handler) Router() *gin.Engine {
	r := gin.New()
	r.HandleMethodNotAllowed = true
	r.Use(h.recoverer(), h.accessLog())
	r.NoRoute(func(c *gin.Context) {
		problem(c, 404, "Not Found", "no such route: "+c.Request.Method+" "+c.Request.URL.Path)
	})
	r.NoMethod(func(c *gin.Context) {
		problem(c, 405, "Method Not Allowed", c.Request.Method+" is not allowed on "+c.Request.URL.Path)
	})

	r.GET("/healthz", h.healthz)
	r.GET("/readyz", h.readyz)
	r.GET("/metrics", h.metricsHandler())
	r.GET("/v1/openapi.json", h.openAPI)

	admin := r.Group("/v1", h.requireAdmin)
	admin.GET("/whoami", h.whoami)
	admin.POST("/clusters", h.createCluster)
	admin.GET("/clusters", h.listClusters)
	admin.GET("/clusters/:cluster", h.getCluster)
	admin.PUT("/clusters/:cluster", h.updateCluster)
	admin.DELETE("/clusters/:cluster", h.deleteCluster)
	admin.POST("/clusters/:cluster/roles", h.createRole)
	admin.GET("/clusters/:cluster/roles", h.listAccess(store.KindRole))
	admin.GET("/clusters/:cluster/roles/:role", h.getAccess(store.KindRole))
	admin.PUT("/clusters/:cluster/roles/:role", h.updateRole)
	admin.DELETE("/clusters/:cluster/roles/:role", h.deleteAccess(store.KindRole))
	admin.POST("/clusters/:cluster/users", h.createUser)
	admin.GET("/clusters/:cluster/users", h.listAccess(store.KindUser))
	admin.GET("/clusters/:cluster/users/:user", h.getAccess(store.KindUser))
	admin.PUT("/clusters/:cluster/users/:user", h.updateUser)
	admin.DELETE("/clusters/:cluster/users/:user", h.deleteAccess(store.KindUser))
	admin.POST("/clusters/:cluster/users/:user/rotate-token", h.rotateUserToken)
	admin.POST("/clusters/:cluster/users/:user/query-tokens", h.issueQueryToken)
	admin.POST("/clusters/:cluster/backups", h.createBackup)
	admin.GET("/clusters/:cluster/backups", h.listBackups)
	admin.GET("/clusters/:cluster/backups/:backup", h.getBackup)
	admin.DELETE("/clusters/:cluster/backups/:backup", h.deleteBackup)
	admin.POST("/clusters/:cluster/backup-policies", h.createPolicy)
	admin.GET("/clusters/:cluster/backup-policies", h.listPolicies)
	admin.GET("/clusters/:cluster/backup-policies/:policy", h.getPolicy)
	admin.PUT("/clusters/:cluster/backup-policies/:policy", h.updatePolicy)
	admin.DELETE("/clusters/:cluster/backup-policies/:policy", h.deletePolicy)
	admin.POST("/clusters/:cluster/backup-policies/:policy/run", h.runPolicy)
	admin.GET("/nodes", h.listNodes)
	admin.GET("/nodes/:node", h.getNode)
	admin.GET("/nodes/:node/query-log", h.nodeQueryLog)

	r.POST("/v1/agent/register", h.requireJoin, h.register)
	node := r.Group("/v1/agent", h.requireNode)
	node.POST("/heartbeat", h.heartbeat)
	node.GET("/config", h.agentConfig)
	return r
}

func init() { gin.SetMode(gin.ReleaseMode) }
