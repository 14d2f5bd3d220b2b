package httpapi

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/duckfleet/duckfleet/controlplane/backups"
	"github.com/duckfleet/duckfleet/controlplane/store"
	"github.com/duckfleet/duckfleet/internal/api"
	"github.com/gin-gonic/gin"
)

func (h *Handler) createBackup(c *gin.Context) {
	var in api.BackupCreate
	if c.Request.ContentLength != 0 && !decode(c, &in) {
		return
	}
	if err := in.Normalize(); err != nil {
		invalid(c, err)
		return
	}
	cluster := c.Param("cluster")
	b, err := h.cfg.Store.CreateBackup(c, backups.NewBackup(cluster, in.Labels, backups.StoredPolicy{BackupPolicySpec: api.BackupPolicySpec{Format: in.Format}}, time.Now()))
	if err != nil {
		h.storeError(c, fmt.Sprintf("cluster %q", cluster), err)
		return
	}
	h.cfg.Backups.Kick()
	c.JSON(http.StatusCreated, backupView(b))
}

func (h *Handler) listBackups(c *gin.Context) {
	cluster := c.Param("cluster")
	list, err := h.cfg.Store.ListBackups(c, cluster)
	if err != nil {
		h.storeError(c, "backups", err)
		return
	}
	out := api.BackupList{Items: []api.Backup{}}
	for _, b := range list {
		out.Items = append(out.Items, backupView(b))
	}
	c.JSON(http.StatusOK, out)
}

func (h *Handler) getBackup(c *gin.Context) {
	cluster, id := c.Param("cluster"), c.Param("backup")
	b, err := h.cfg.Store.GetBackup(c, cluster, id)
	if err != nil {
		h.storeError(c, fmt.Sprintf("backup %q of cluster %q", id, cluster), err)
		return
	}
	c.JSON(http.StatusOK, backupView(b))
}

// deleteBackup deletes a backup's objects through a healthy node of its
// cluster, then its record.
func (h *Handler) deleteBackup(c *gin.Context) {
	cluster, id := c.Param("cluster"), c.Param("backup")
	what := fmt.Sprintf("backup %q of cluster %q", id, cluster)
	b, err := h.cfg.Store.GetBackup(c, cluster, id)
	if err != nil {
		h.storeError(c, what, err)
		return
	}
	switch err := h.cfg.Backups.Delete(c, b); {
	case errors.Is(err, backups.ErrRunning):
		problem(c, http.StatusConflict, "Conflict", what+": "+err.Error())
	case errors.Is(err, store.ErrNotFound):
		h.storeError(c, what, err)
	case err != nil:
		problem(c, http.StatusBadGateway, "Bad Gateway", "could not delete the objects of "+what+": "+err.Error())
	default:
		c.Status(http.StatusNoContent)
	}
}

func backupView(b store.Backup) api.Backup {
	labels := b.Labels
	if labels == nil {
		labels = map[string]string{}
	}
	st := b.Status
	st.SealedKey = "" // never served
	if st.Format == "" {
		st.Format = api.FormatParquet // recorded before formats existed
	}
	return api.Backup{Cluster: b.Cluster, ID: b.ID, Labels: labels, Status: st, CreatedAt: b.CreatedAt, UpdatedAt: b.UpdatedAt}
}

// completeBackup finds a complete backup by id in any cluster, or answers
// 400 naming spec.restore_from.
func (h *Handler) completeBackup(c *gin.Context, id string) (store.Backup, bool) {
	all, err := h.cfg.Store.ListBackups(c, "")
	if err != nil {
		h.storeError(c, "backups", err)
		return store.Backup{}, false
	}
	for _, b := range all {
		if b.ID != id {
			continue
		}
		if b.Status.Phase != api.BackupComplete {
			invalid(c, &api.ValidationError{Errors: []api.FieldError{{Field: "spec.restore_from", Message: fmt.Sprintf("backup %q is %s, not complete", id, b.Status.Phase)}}})
			return store.Backup{}, false
		}
		return b, true
	}
	invalid(c, &api.ValidationError{Errors: []api.FieldError{{Field: "spec.restore_from", Message: fmt.Sprintf("backup %q does not exist", id)}}})
	return store.Backup{}, false
}
