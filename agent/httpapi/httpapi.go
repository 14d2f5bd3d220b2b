// Package httpapi is the agent's Gin HTTP API: the signed config push from
// the control plane, the query API for users, health and metrics. The
// control plane's calls (signed pushes) and users' queries (user tokens)
// use different credentials: neither can do the other's work.
package httpapi

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/duckfleet/duckfleet/internal/api"
	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

func init() { gin.SetMode(gin.ReleaseMode) }

// Applier applies a config the control plane pushed. Applying is
// idempotent and a config not newer than the running one is ignored.
type Applier interface {
	Apply(ctx context.Context, cfg api.NodeConfig) error
}

// Config holds the handler's dependencies.
type Config struct {
	NodeID   string
	PushKey  ed25519.PublicKey
	Applier  Applier
	Querier  Querier
	QueryLog QueryLog
	Jobs     Jobs
	Log      *slog.Logger
	Registry *prometheus.Registry
	// Healthy reports whether the node can serve.
	Healthy func(ctx context.Context) error
}

// Handler serves the agent API.
type Handler struct {
	cfg Config
}

// New returns a Handler.
func New(cfg Config) *Handler {
	if cfg.Registry == nil {
		cfg.Registry = prometheus.NewRegistry()
	}
	return &Handler{cfg: cfg}
}

// Router returns the Gin engine.
func (h *Handler) Router() *gin.Engine {
	r := gin.New()
	r.Use(gin.CustomRecovery(func(c *gin.Context, rec any) {
		h.cfg.Log.Error("handler panicked", "route", c.FullPath(), "panic", rec)
		problem(c, http.StatusInternalServerError, "the agent failed to handle the request; see its log")
	}))
	r.NoRoute(func(c *gin.Context) {
		problem(c, http.StatusNotFound, "no such route: "+c.Request.Method+" "+c.Request.URL.Path)
	})
	r.PUT("/v1/config", h.putConfig)
	r.POST("/v1/query", h.query)
	r.GET("/v1/query-log", h.queryLog)
	r.POST("/v1/backups", h.startBackup)
	r.DELETE("/v1/backups/:id", h.deleteBackup)
	r.GET("/healthz", h.healthz)
	ph := promhttp.HandlerFor(h.cfg.Registry, promhttp.HandlerOpts{})
	r.GET("/metrics", func(c *gin.Context) { ph.ServeHTTP(c.Writer, c.Request) })
	return r
}

func problem(c *gin.Context, status int, detail string) {
	c.Header("Content-Type", api.ProblemContentType)
	c.AbortWithStatusJSON(status, api.Problem{Title: http.StatusText(status), Status: status, Detail: detail})
}

// QueryLog records queries and reads them back.
type QueryLog interface {
	Add(api.QueryLogEntry)
	Newest(limit int) []api.QueryLogEntry
}

// signed reads the body of a call from the control plane and checks its
// signature; it answers 401 and returns false when it does not verify.
func (h *Handler) signed(c *gin.Context) ([]byte, bool) {
	body, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, 1<<20))
	if err != nil {
		problem(c, http.StatusBadRequest, "cannot read the body: "+err.Error())
		return nil, false
	}
	target := c.Request.Method + " " + c.Request.URL.RequestURI()
	if err := api.VerifyRequest(h.cfg.PushKey, h.cfg.NodeID, target, c.GetHeader(api.PushSignatureHeader), body, time.Now()); err != nil {
		h.cfg.Log.Warn("refused an unsigned or badly signed control-plane call", "target", target, "remote", c.ClientIP(), "err", err)
		problem(c, http.StatusUnauthorized, "only this node's control plane may call this: "+err.Error())
		return nil, false
	}
	return body, true
}

// Jobs runs backup jobs for the control plane.
type Jobs interface {
	StartBackup(job api.BackupJob) error
	DeleteBackup(ctx context.Context, job api.BackupJob) error
}

func (h *Handler) backupJob(c *gin.Context) (api.BackupJob, bool) {
	var job api.BackupJob
	body, ok := h.signed(c)
	if !ok {
		return job, false
	}
	if err := json.Unmarshal(body, &job); err != nil || job.ID == "" {
		problem(c, http.StatusBadRequest, "the body is not a backup job")
		return job, false
	}
	return job, true
}

func (h *Handler) startBackup(c *gin.Context) {
	job, ok := h.backupJob(c)
	if !ok {
		return
	}
	if err := h.cfg.Jobs.StartBackup(job); err != nil {
		problem(c, http.StatusConflict, err.Error())
		return
	}
	c.JSON(http.StatusAccepted, gin.H{"id": job.ID})
}

func (h *Handler) deleteBackup(c *gin.Context) {
	job, ok := h.backupJob(c)
	if !ok {
		return
	}
	if job.ID != c.Param("id") {
		problem(c, http.StatusBadRequest, "the job is for another backup")
		return
	}
	if err := h.cfg.Jobs.DeleteBackup(c, job); err != nil {
		problem(c, http.StatusBadGateway, err.Error())
		return
	}
	c.Status(http.StatusNoContent)
}

// queryLog answers the node's recent queries to the control plane only
// (a signed request); users cannot read it.
func (h *Handler) queryLog(c *gin.Context) {
	if _, ok := h.signed(c); !ok {
		return
	}
	limit, _ := strconv.Atoi(c.Query("limit"))
	c.JSON(http.StatusOK, api.QueryLog{Node: h.cfg.NodeID, Entries: h.cfg.QueryLog.Newest(limit)})
}

func (h *Handler) putConfig(c *gin.Context) {
	body, ok := h.signed(c)
	if !ok {
		return
	}
	var cfg api.NodeConfig
	if err := json.Unmarshal(body, &cfg); err != nil {
		problem(c, http.StatusBadRequest, "the config is not valid JSON: "+err.Error())
		return
	}
	if cfg.NodeID != h.cfg.NodeID {
		problem(c, http.StatusConflict, "this config is for node "+cfg.NodeID+", this is node "+h.cfg.NodeID)
		return
	}
	if err := h.cfg.Applier.Apply(c, cfg); err != nil {
		problem(c, http.StatusInternalServerError, "apply failed: "+err.Error())
		return
	}
	c.JSON(http.StatusOK, gin.H{"running": cfg.Revision})
}

func (h *Handler) healthz(c *gin.Context) {
	if h.cfg.Healthy != nil {
		if err := h.cfg.Healthy(c); err != nil {
			problem(c, http.StatusServiceUnavailable, "unhealthy: "+err.Error())
			return
		}
	}
	c.JSON(http.StatusOK, gin.H{"status": "ok", "node": h.cfg.NodeID})
}
