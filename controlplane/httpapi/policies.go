package httpapi

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/duckfleet/duckfleet/controlplane/backups"
	"github.com/duckfleet/duckfleet/controlplane/store"
	"github.com/duckfleet/duckfleet/internal/api"
	"github.com/gin-gonic/gin"
)

// Backup policies live in the store's access table (kind backup-policy),
// which bumps no access generation for them: nodes never see policies.

func checkSchedule(spec *api.BackupPolicySpec, prefix string) error {
	if err := spec.Normalize(prefix); err != nil {
		return err
	}
	if _, err := backups.ParseSchedule(spec.Schedule); err != nil {
		return &api.ValidationError{Errors: []api.FieldError{{Field: prefix + "schedule", Message: err.Error()}}}
	}
	return nil
}

func (h *Handler) createPolicy(c *gin.Context) {
	var in api.BackupPolicyCreate
	if !decode(c, &in) {
		return
	}
	if !api.ValidName(in.Name) {
		invalid(c, &api.ValidationError{Errors: []api.FieldError{{Field: "name", Message: fmt.Sprintf("%q is not a valid name: use %s", in.Name, api.NameRule)}}})
		return
	}
	if err := checkSchedule(&in.Spec, "spec."); err != nil {
		invalid(c, err)
		return
	}
	stored, ok := h.sealPolicy(c, in.Spec, "")
	if !ok {
		return
	}
	b, _ := json.Marshal(stored)
	a, err := h.cfg.Store.CreateAccess(c, store.Access{Cluster: c.Param("cluster"), Kind: store.KindBackupPolicy, Name: in.Name, Spec: string(b)})
	if err != nil {
		h.storeError(c, fmt.Sprintf("backup policy %q in cluster %q", in.Name, c.Param("cluster")), err)
		return
	}
	setETag(c, a.Generation)
	c.JSON(http.StatusCreated, policyView(a))
}

func (h *Handler) updatePolicy(c *gin.Context) {
	match, ok := ifMatch(c)
	if !ok {
		return
	}
	var in api.BackupPolicyUpdate
	if !decode(c, &in) {
		return
	}
	if err := checkSchedule(&in.Spec, "spec."); err != nil {
		invalid(c, err)
		return
	}
	cur, ok := h.currentAccess(c, "policy")
	if !ok {
		return
	}
	var curSpec backups.StoredPolicy
	_ = json.Unmarshal([]byte(cur.Spec), &curSpec)
	stored, ok := h.sealPolicy(c, in.Spec, curSpec.SealedKey)
	if !ok {
		return
	}
	b, _ := json.Marshal(stored)
	name := c.Param("policy")
	a, err := h.cfg.Store.UpdateAccess(c, c.Param("cluster"), store.KindBackupPolicy, name, string(b), "", match)
	if err != nil {
		h.storeError(c, fmt.Sprintf("backup policy %q in cluster %q", name, c.Param("cluster")), err)
		return
	}
	setETag(c, a.Generation)
	c.JSON(http.StatusOK, policyView(a))
}

func (h *Handler) getPolicy(c *gin.Context) {
	if a, ok := h.currentAccess(c, "policy"); ok {
		setETag(c, a.Generation)
		c.JSON(http.StatusOK, policyView(a))
	}
}

func (h *Handler) listPolicies(c *gin.Context) {
	cluster := c.Param("cluster")
	if _, err := h.cfg.Store.GetCluster(c, cluster); err != nil {
		h.storeError(c, fmt.Sprintf("cluster %q", cluster), err)
		return
	}
	list, err := h.cfg.Store.ListAccess(c, cluster, store.KindBackupPolicy)
	if err != nil {
		h.storeError(c, "backup policies", err)
		return
	}
	out := api.BackupPolicyList{Items: []api.BackupPolicy{}}
	for _, a := range list {
		out.Items = append(out.Items, policyView(a))
	}
	c.JSON(http.StatusOK, out)
}

func (h *Handler) deletePolicy(c *gin.Context) {
	match, ok := ifMatch(c)
	if !ok {
		return
	}
	name := c.Param("policy")
	if _, err := h.cfg.Store.DeleteAccess(c, c.Param("cluster"), store.KindBackupPolicy, name, match); err != nil {
		h.storeError(c, fmt.Sprintf("backup policy %q in cluster %q", name, c.Param("cluster")), err)
		return
	}
	c.Status(http.StatusNoContent)
}

// runPolicy takes one of the policy's backups now, outside its schedule.
func (h *Handler) runPolicy(c *gin.Context) {
	a, ok := h.currentAccess(c, "policy")
	if !ok {
		return
	}
	var spec backups.StoredPolicy
	_ = json.Unmarshal([]byte(a.Spec), &spec)
	b, err := h.cfg.Store.CreateBackup(c, backups.NewBackup(a.Cluster, map[string]string{backups.PolicyLabel: a.Name}, spec, time.Now()))
	if err != nil {
		h.storeError(c, fmt.Sprintf("cluster %q", a.Cluster), err)
		return
	}
	h.cfg.Backups.Kick()
	c.JSON(http.StatusCreated, backupView(b))
}

// sealPolicy seals a new keeper URL, or keeps the current sealed one when
// the request carries none.
func (h *Handler) sealPolicy(c *gin.Context, spec api.BackupPolicySpec, current string) (backups.StoredPolicy, bool) {
	stored := backups.StoredPolicy{BackupPolicySpec: spec, SealedKey: current}
	if spec.EncryptionKeyURL != "" {
		sealed, err := h.cfg.Sealer.Seal(c, spec.EncryptionKeyURL)
		if err != nil {
			h.cfg.Log.Error("could not seal an encryption key", "err", err)
			problem(c, http.StatusInternalServerError, "Internal Server Error", "the control plane could not store the encryption key; see its log")
			return stored, false
		}
		stored.SealedKey = sealed
	}
	stored.EncryptionKeyURL = ""
	stored.Encrypted = stored.SealedKey != ""
	return stored, true
}

// policyView never carries the keeper URL, sealed or not.
func policyView(a store.Access) api.BackupPolicy {
	p := api.BackupPolicy{Cluster: a.Cluster, Name: a.Name, Generation: a.Generation, CreatedAt: a.CreatedAt, UpdatedAt: a.UpdatedAt}
	var stored backups.StoredPolicy
	_ = json.Unmarshal([]byte(a.Spec), &stored)
	p.Spec = stored.BackupPolicySpec
	p.Spec.EncryptionKeyURL = ""
	if p.Spec.Format == "" {
		p.Spec.Format = api.FormatParquet // stored before formats existed
	}
	_ = json.Unmarshal([]byte(a.Status), &p.Status)
	return p
}
