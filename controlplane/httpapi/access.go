package httpapi

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/duckfleet/duckfleet/controlplane/store"
	"github.com/duckfleet/duckfleet/internal/api"
	"github.com/duckfleet/duckfleet/internal/token"
	"github.com/gin-gonic/gin"
)

// Roles and users are the cluster's access objects: both live in the
// store's access table and every write bumps the cluster's access
// generation, which nodes report once they enforce it.

func (h *Handler) createRole(c *gin.Context) {
	var in api.RoleCreate
	if !decode(c, &in) {
		return
	}
	if err := in.Normalize(); err != nil {
		invalid(c, err)
		return
	}
	h.createAccess(c, store.KindRole, in.Name, in.Spec, "")
}

func (h *Handler) updateRole(c *gin.Context) {
	var in api.RoleUpdate
	if !decode(c, &in) {
		return
	}
	if err := in.Spec.Normalize("spec."); err != nil {
		invalid(c, err)
		return
	}
	h.updateAccess(c, store.KindRole, in.Spec, "")
}

func (h *Handler) createUser(c *gin.Context) {
	var in api.UserCreate
	if !decode(c, &in) {
		return
	}
	if err := in.Normalize(); err != nil {
		invalid(c, err)
		return
	}
	if !h.rolesExist(c, in.Spec.Roles) {
		return
	}
	h.createAccess(c, store.KindUser, in.Name, in.Spec, token.New(token.PrefixUser))
}

func (h *Handler) updateUser(c *gin.Context) {
	var in api.UserUpdate
	if !decode(c, &in) {
		return
	}
	if err := in.Spec.Normalize("spec."); err != nil {
		invalid(c, err)
		return
	}
	if !h.rolesExist(c, in.Spec.Roles) {
		return
	}
	h.updateAccess(c, store.KindUser, in.Spec, "")
}

// rotateUserToken issues a new token; the old one stops working on every
// node once they report the new access generation.
func (h *Handler) rotateUserToken(c *gin.Context) {
	cur, ok := h.currentAccess(c, store.KindUser)
	if !ok {
		return
	}
	var spec api.UserSpec
	_ = json.Unmarshal([]byte(cur.Spec), &spec)
	h.updateAccess(c, store.KindUser, spec, token.New(token.PrefixUser))
}

// rolesExist answers 400 naming the first role of roles that the cluster lacks.
func (h *Handler) rolesExist(c *gin.Context, roles []string) bool {
	cluster := c.Param("cluster")
	have, err := h.cfg.Store.ListAccess(c, cluster, store.KindRole)
	if err != nil {
		h.storeError(c, "roles", err)
		return false
	}
	names := make([]string, len(have))
	for i, r := range have {
		names[i] = r.Name
	}
	for i, r := range roles {
		if !slices.Contains(names, r) {
			invalid(c, &api.ValidationError{Errors: []api.FieldError{{
				Field:   fmt.Sprintf("spec.roles[%d]", i),
				Message: fmt.Sprintf("role %q does not exist in cluster %q: create it first", r, cluster),
			}}})
			return false
		}
	}
	return true
}

func (h *Handler) createAccess(c *gin.Context, kind, name string, spec any, tok string) {
	b, _ := json.Marshal(spec)
	a := store.Access{Cluster: c.Param("cluster"), Kind: kind, Name: name, Spec: string(b)}
	if tok != "" {
		a.SecretHash = token.Hash(tok)
	}
	a, err := h.cfg.Store.CreateAccess(c, a)
	if err != nil {
		h.storeError(c, fmt.Sprintf("%s %q in cluster %q", kind, name, c.Param("cluster")), err)
		return
	}
	h.cfg.Scheduler.Kick()
	h.writeAccess(c, http.StatusCreated, a, tok)
}

func (h *Handler) updateAccess(c *gin.Context, kind string, spec any, tok string) {
	match, ok := ifMatch(c)
	if !ok {
		return
	}
	b, _ := json.Marshal(spec)
	hash := ""
	if tok != "" {
		hash = token.Hash(tok)
	}
	name := c.Param(kind)
	a, err := h.cfg.Store.UpdateAccess(c, c.Param("cluster"), kind, name, string(b), hash, match)
	if err != nil {
		h.storeError(c, fmt.Sprintf("%s %q in cluster %q", kind, name, c.Param("cluster")), err)
		return
	}
	h.cfg.Scheduler.Kick()
	h.writeAccess(c, http.StatusOK, a, tok)
}

func (h *Handler) currentAccess(c *gin.Context, kind string) (store.Access, bool) {
	param := kind
	if kind == "policy" {
		kind = store.KindBackupPolicy
	}
	name := c.Param(param)
	a, err := h.cfg.Store.GetAccess(c, c.Param("cluster"), kind, name)
	if err != nil {
		h.storeError(c, fmt.Sprintf("%s %q in cluster %q", kind, name, c.Param("cluster")), err)
		return store.Access{}, false
	}
	return a, true
}

func (h *Handler) getAccess(kind string) gin.HandlerFunc {
	return func(c *gin.Context) {
		if a, ok := h.currentAccess(c, kind); ok {
			h.writeAccess(c, http.StatusOK, a, "")
		}
	}
}

func (h *Handler) listAccess(kind string) gin.HandlerFunc {
	return func(c *gin.Context) {
		cluster := c.Param("cluster")
		if _, err := h.cfg.Store.GetCluster(c, cluster); err != nil {
			h.storeError(c, fmt.Sprintf("cluster %q", cluster), err)
			return
		}
		list, err := h.cfg.Store.ListAccess(c, cluster, kind)
		if err != nil {
			h.storeError(c, kind+"s", err)
			return
		}
		if kind == store.KindRole {
			out := api.RoleList{Items: []api.Role{}}
			for _, a := range list {
				out.Items = append(out.Items, roleView(a))
			}
			c.JSON(http.StatusOK, out)
			return
		}
		out := api.UserList{Items: []api.User{}}
		for _, a := range list {
			out.Items = append(out.Items, userView(a, ""))
		}
		c.JSON(http.StatusOK, out)
	}
}

func (h *Handler) deleteAccess(kind string) gin.HandlerFunc {
	return func(c *gin.Context) {
		match, ok := ifMatch(c)
		if !ok {
			return
		}
		name := c.Param(kind)
		gen, err := h.cfg.Store.DeleteAccess(c, c.Param("cluster"), kind, name, match)
		if err != nil {
			h.storeError(c, fmt.Sprintf("%s %q in cluster %q", kind, name, c.Param("cluster")), err)
			return
		}
		h.cfg.Scheduler.Kick()
		c.JSON(http.StatusOK, api.AccessStat{AccessGeneration: gen})
	}
}

func (h *Handler) writeAccess(c *gin.Context, status int, a store.Access, tok string) {
	setETag(c, a.Generation)
	if a.Kind == store.KindRole {
		c.JSON(status, roleView(a))
		return
	}
	c.JSON(status, userView(a, tok))
}

func roleView(a store.Access) api.Role {
	r := api.Role{Cluster: a.Cluster, Name: a.Name, Generation: a.Generation, CreatedAt: a.CreatedAt, UpdatedAt: a.UpdatedAt,
		Status: api.AccessStat{AccessGeneration: a.AccessGeneration}}
	_ = json.Unmarshal([]byte(a.Spec), &r.Spec)
	return r
}

// userView never carries the hash; tok is set only when just issued.
func userView(a store.Access, tok string) api.User {
	u := api.User{Cluster: a.Cluster, Name: a.Name, Generation: a.Generation, CreatedAt: a.CreatedAt, UpdatedAt: a.UpdatedAt,
		Status: api.AccessStat{AccessGeneration: a.AccessGeneration}, Token: tok}
	_ = json.Unmarshal([]byte(a.Spec), &u.Spec)
	return u
}

// issueQueryToken signs a short-lived query token for an existing user.
func (h *Handler) issueQueryToken(c *gin.Context) {
	var in api.QueryTokenRequest
	if c.Request.ContentLength != 0 && !decode(c, &in) {
		return
	}
	ttl, err := in.Normalize()
	if err != nil {
		invalid(c, err)
		return
	}
	if _, ok := h.currentAccess(c, store.KindUser); !ok {
		return
	}
	nonce := make([]byte, 9)
	_, _ = rand.Read(nonce)
	exp := time.Now().Add(ttl).Truncate(time.Second)
	tok := api.SignQueryToken(h.cfg.TokenKey, api.QueryClaims{
		Cluster: c.Param("cluster"), User: c.Param("user"), Expires: exp.Unix(), Nonce: base64.RawURLEncoding.EncodeToString(nonce),
	})
	c.JSON(http.StatusCreated, api.QueryToken{Token: tok, ExpiresAt: exp.UTC()})
}
