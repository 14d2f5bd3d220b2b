package httpapi

import (
	"fmt"
	"net/http"
	"time"

	"github.com/duckfleet/duckfleet/controlplane/scheduler"
	"github.com/duckfleet/duckfleet/controlplane/store"
	"github.com/duckfleet/duckfleet/internal/api"
	"github.com/gin-gonic/gin"
)

func (h *Handler) createCluster(c *gin.Context) {
	var in api.ClusterCreate
	if !decode(c, &in) {
		return
	}
	if in.Spec.StorageURL == "" {
		in.Spec.StorageURL = h.cfg.DefaultStorageURL
	}
	if err := in.Normalize(); err != nil {
		invalid(c, err)
		return
	}
	if in.Spec.RestoreFrom != "" {
		if _, ok := h.completeBackup(c, in.Spec.RestoreFrom); !ok {
			return
		}
	}
	cl, err := h.cfg.Store.CreateCluster(c, in.Name, in.Spec)
	if err != nil {
		h.storeError(c, fmt.Sprintf("cluster %q", in.Name), err)
		return
	}
	h.cfg.Scheduler.Kick()
	h.writeCluster(c, http.StatusCreated, cl)
}

func (h *Handler) getCluster(c *gin.Context) {
	name := c.Param("cluster")
	cl, err := h.cfg.Store.GetCluster(c, name)
	if err != nil {
		h.storeError(c, fmt.Sprintf("cluster %q", name), err)
		return
	}
	h.writeCluster(c, http.StatusOK, cl)
}

func (h *Handler) listClusters(c *gin.Context) {
	cls, err := h.cfg.Store.ListClusters(c)
	if err != nil {
		h.storeError(c, "clusters", err)
		return
	}
	nodes, err := h.cfg.Store.ListNodes(c)
	if err != nil {
		h.storeError(c, "nodes", err)
		return
	}
	out := api.ClusterList{Items: make([]api.Cluster, 0, len(cls))}
	for _, cl := range cls {
		out.Items = append(out.Items, h.clusterView(cl, nodes))
	}
	c.JSON(http.StatusOK, out)
}

func (h *Handler) updateCluster(c *gin.Context) {
	name := c.Param("cluster")
	match, ok := ifMatch(c)
	if !ok {
		return
	}
	var in api.ClusterUpdate
	if !decode(c, &in) {
		return
	}
	if in.Spec.StorageURL == "" {
		in.Spec.StorageURL = h.cfg.DefaultStorageURL
	}
	if err := in.Normalize(); err != nil {
		invalid(c, err)
		return
	}
	cur, err := h.cfg.Store.GetCluster(c, name)
	if err != nil {
		h.storeError(c, fmt.Sprintf("cluster %q", name), err)
		return
	}
	if cur.Spec.RestoreFrom != in.Spec.RestoreFrom {
		invalid(c, &api.ValidationError{Errors: []api.FieldError{{
			Field:   "spec.restore_from",
			Message: fmt.Sprintf("cannot be changed from %q to %q: a cluster is restored once, when it is created; create a new cluster instead", cur.Spec.RestoreFrom, in.Spec.RestoreFrom),
		}}})
		return
	}
	if cur.Spec.Pool != in.Spec.Pool {
		invalid(c, &api.ValidationError{Errors: []api.FieldError{{
			Field:   "spec.pool",
			Message: fmt.Sprintf("cannot be changed from %q to %q: a cluster's nodes come from one pool; create a new cluster instead", cur.Spec.Pool, in.Spec.Pool),
		}}})
		return
	}
	cl, err := h.cfg.Store.UpdateCluster(c, name, in.Spec, match)
	if err != nil {
		h.storeError(c, fmt.Sprintf("cluster %q", name), err)
		return
	}
	h.cfg.Scheduler.Kick()
	h.writeCluster(c, http.StatusOK, cl)
}

func (h *Handler) deleteCluster(c *gin.Context) {
	name := c.Param("cluster")
	match, ok := ifMatch(c)
	if !ok {
		return
	}
	if err := h.cfg.Store.DeleteCluster(c, name, match); err != nil {
		h.storeError(c, fmt.Sprintf("cluster %q", name), err)
		return
	}
	h.cfg.Scheduler.Kick()
	c.Status(http.StatusNoContent)
}

func (h *Handler) writeCluster(c *gin.Context, status int, cl store.Cluster) {
	nodes, err := h.cfg.Store.ListNodes(c)
	if err != nil {
		h.storeError(c, "nodes", err)
		return
	}
	setETag(c, cl.Generation)
	c.JSON(status, h.clusterView(cl, nodes))
}

// clusterView joins a stored cluster with its nodes' observations.
func (h *Handler) clusterView(cl store.Cluster, nodes []store.Node) api.Cluster {
	var views []scheduler.NodeView
	for _, n := range nodes {
		if n.Cluster != cl.Name {
			continue
		}
		v := scheduler.NodeView{Node: n, Healthy: h.cfg.Tracker.Healthy(n.ID)}
		if o, ok := h.cfg.Tracker.Get(n.ID); ok {
			v.Observation = &o
		}
		views = append(views, v)
	}
	return api.Cluster{
		Name:       cl.Name,
		Spec:       cl.Spec,
		Status:     scheduler.Status(cl, views, h.cfg.Scheduler.Pending(cl.Name), time.Now()),
		Generation: cl.Generation,
		CreatedAt:  cl.CreatedAt,
		UpdatedAt:  cl.UpdatedAt,
	}
}
