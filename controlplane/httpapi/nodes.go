package httpapi

import (
	"fmt"
	"net/http"
	"strconv"

	"github.com/duckfleet/duckfleet/controlplane/store"
	"github.com/duckfleet/duckfleet/internal/api"
	"github.com/gin-gonic/gin"
)

func (h *Handler) listNodes(c *gin.Context) {
	pool := c.Query("pool")
	if pool != "" && !api.ValidName(pool) {
		invalid(c, &api.ValidationError{Errors: []api.FieldError{{Field: "pool", Message: fmt.Sprintf("%q is not a valid pool name: use %s", pool, api.NameRule)}}})
		return
	}
	nodes, err := h.cfg.Store.ListNodes(c)
	if err != nil {
		h.storeError(c, "nodes", err)
		return
	}
	out := api.NodeList{Items: []api.Node{}}
	for _, n := range nodes {
		if pool == "" || n.Pool == pool {
			out.Items = append(out.Items, h.nodeView(n))
		}
	}
	c.JSON(http.StatusOK, out)
}

func (h *Handler) getNode(c *gin.Context) {
	id := c.Param("node")
	n, err := h.cfg.Store.GetNode(c, id)
	if err != nil {
		h.storeError(c, fmt.Sprintf("node %q", id), err)
		return
	}
	c.JSON(http.StatusOK, h.nodeView(n))
}

func (h *Handler) nodeView(n store.Node) api.Node {
	v := api.Node{
		ID: n.ID, Pool: n.Pool, Endpoint: n.Endpoint, Cluster: n.Cluster, Role: n.Role,
		Healthy: h.cfg.Tracker.Healthy(n.ID), RegisteredAt: n.RegisteredAt,
	}
	if o, ok := h.cfg.Tracker.Get(n.ID); ok {
		at := o.At.UTC()
		v.LastHeartbeat = &at
		obs := o.Observed
		v.Observed = &obs
	}
	return v
}

// nodeQueryLog reads a node's recent queries from its agent.
func (h *Handler) nodeQueryLog(c *gin.Context) {
	id := c.Param("node")
	limit := 100
	if v := c.Query("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > querylogMax {
			invalid(c, &api.ValidationError{Errors: []api.FieldError{{Field: "limit", Message: fmt.Sprintf("%q is not a number from 1 to %d", v, querylogMax)}}})
			return
		}
		limit = n
	}
	n, err := h.cfg.Store.GetNode(c, id)
	if err != nil {
		h.storeError(c, fmt.Sprintf("node %q", id), err)
		return
	}
	log, err := h.cfg.Agents.QueryLog(c, n.Endpoint, n.ID, limit)
	if err != nil {
		problem(c, http.StatusBadGateway, "Bad Gateway", "could not read the query log from the node: "+err.Error())
		return
	}
	c.JSON(http.StatusOK, log)
}

// querylogMax bounds one read of a node's query log.
const querylogMax = 10000
