package httpapi

import (
	_ "embed"
	"log/slog"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

//go:embed openapi.json
var openAPIDoc []byte

type metrics struct {
	registry      *prometheus.Registry
	heartbeats    prometheus.Counter
	registrations prometheus.Counter
	requests      *prometheus.CounterVec
}

func newMetrics(reg *prometheus.Registry) metrics {
	m := metrics{
		registry: reg,
		heartbeats: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "duckfleet_controlplane_heartbeats_total", Help: "Agent heartbeats accepted.",
		}),
		registrations: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "duckfleet_controlplane_registrations_total", Help: "Agents registered.",
		}),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "duckfleet_controlplane_http_requests_total", Help: "HTTP requests by route and status.",
		}, []string{"method", "route", "code"}),
	}
	reg.MustRegister(m.heartbeats, m.registrations, m.requests)
	return m
}

func (h *Handler) metricsHandler() gin.HandlerFunc {
	ph := promhttp.HandlerFor(h.metrics.registry, promhttp.HandlerOpts{})
	return func(c *gin.Context) { ph.ServeHTTP(c.Writer, c.Request) }
}

func (h *Handler) healthz(c *gin.Context) {
	c.JSON(http.StatusOK, gin.H{"status": "ok"})
}

func (h *Handler) readyz(c *gin.Context) {
	if h.cfg.Ready != nil {
		if err := h.cfg.Ready(c); err != nil {
			problem(c, http.StatusServiceUnavailable, "Service Unavailable", "not ready: "+err.Error())
			return
		}
	}
	c.JSON(http.StatusOK, gin.H{"status": "ready"})
}

func (h *Handler) openAPI(c *gin.Context) {
	c.Data(http.StatusOK, "application/json", openAPIDoc)
}

// accessLog logs each request's method, route, status and duration; never
// headers or bodies, which carry tokens.
func (h *Handler) accessLog() gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		route := c.FullPath()
		if route == "" {
			route = "unmatched"
		}
		code := c.Writer.Status()
		h.metrics.requests.WithLabelValues(c.Request.Method, route, http.StatusText(code)).Inc()
		if route == "/v1/agent/heartbeat" && code == http.StatusOK {
			return // the hot path; counted in metrics
		}
		level := slog.LevelDebug
		if code >= 500 {
			level = slog.LevelError
		}
		h.cfg.Log.Log(c, level, "request", "method", c.Request.Method, "route", route, "status", code, "duration", time.Since(start))
	}
}

func (h *Handler) recoverer() gin.HandlerFunc {
	return func(c *gin.Context) {
		defer func() {
			if r := recover(); r != nil {
				h.cfg.Log.Error("handler panicked", "route", c.FullPath(), "panic", r)
				problem(c, http.StatusInternalServerError, "Internal Server Error", "the control plane failed to handle the request; see its log")
			}
		}()
		c.Next()
	}
}
