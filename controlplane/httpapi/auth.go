package httpapi

import (
	"net/http"

	"github.com/duckfleet/duckfleet/internal/token"
	"github.com/gin-gonic/gin"
)

const nodeIDKey = "duckfleet.node"

func unauthorized(c *gin.Context, detail string) {
	c.Header("WWW-Authenticate", `Bearer realm="duckfleet"`)
	problem(c, http.StatusUnauthorized, "Unauthorized", detail)
}

func bearer(c *gin.Context) (string, bool) {
	tok := token.FromHeader(c.GetHeader("Authorization"))
	if tok == "" {
		unauthorized(c, "missing bearer token: send Authorization: Bearer <token>")
		return "", false
	}
	return tok, true
}

func (h *Handler) requireAdmin(c *gin.Context) {
	tok, ok := bearer(c)
	if !ok {
		return
	}
	if !token.Matches(tok, h.cfg.AdminTokenHash) {
		unauthorized(c, "the token is not this control plane's admin token")
		return
	}
	c.Next()
}

func (h *Handler) requireJoin(c *gin.Context) {
	tok, ok := bearer(c)
	if !ok {
		return
	}
	if !token.Matches(tok, h.cfg.JoinTokenHash) {
		unauthorized(c, "the token is not this control plane's join token")
		return
	}
	c.Next()
}

func (h *Handler) requireNode(c *gin.Context) {
	tok, ok := bearer(c)
	if !ok {
		return
	}
	h.mu.RLock()
	id, found := h.byCred[token.Hash(tok)]
	h.mu.RUnlock()
	if !found {
		unauthorized(c, "the token is not a registered node's credential")
		return
	}
	c.Set(nodeIDKey, id)
	c.Next()
}

func (h *Handler) whoami(c *gin.Context) {
	c.JSON(http.StatusOK, gin.H{"principal": "admin"})
}
