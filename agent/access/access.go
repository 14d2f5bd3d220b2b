// Package access decides who may run what on a node: it authenticates user
// tokens against the hashes in the node's access config and authorizes
// statements by the class DuckDB's parser and planner give them (see
// agent/engine), never by looking at the SQL text.
package access

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/duckfleet/duckfleet/agent/engine"
	"github.com/duckfleet/duckfleet/internal/api"
	"github.com/duckfleet/duckfleet/internal/token"
)

// ErrUnauthenticated is a missing or unknown token.
var ErrUnauthenticated = errors.New("missing or unknown token: send Authorization: Bearer <user token>")

// Refusal is a statement a user may not run, and why.
type Refusal struct{ Reason string }

func (r *Refusal) Error() string { return r.Reason }

// AllowedFunctions are the table functions any statement may call. Every
// other table function is refused: some read files, others show the node's
// paths and settings (duckdb_databases, duckdb_settings).
var AllowedFunctions = []string{"RANGE", "GENERATE_SERIES", "UNNEST", "DUCKDB_TABLES", "DUCKDB_VIEWS", "DUCKDB_COLUMNS", "DUCKDB_SCHEMAS"}

// writeClasses change data or schema; replicas refuse them.
var writeClasses = []string{"INSERT", "UPDATE", "DELETE", "CREATE", "DROP", "ALTER"}

// User is an authenticated user and what their roles grant.
type User struct {
	Name string
	// Privileges is the union of the roles' privileges.
	Privileges []string
	// grants are the roles' privileges with their schema allow-lists: a
	// statement is allowed when one role allows it on every table it touches.
	grants []grant
	// Timeout is the longest query_timeout of the user's roles, or the default.
	Timeout time.Duration
	// MaxRows is the largest max_result_rows of the roles; 0 means no cap
	// (when any role has none).
	MaxRows int64
}

// Policy is the access config of one node. It is immutable; a new config
// makes a new Policy.
type Policy struct {
	byHash  map[string]*User
	byName  map[string]*User
	replica bool
	cluster string
	key     ed25519.PublicKey
	now     func() time.Time
}

// Node describes the node a policy is for.
type Node struct {
	// Cluster is the cluster the node runs; query tokens name it.
	Cluster string
	// Replica nodes only ever allow SELECT.
	Replica bool
	// TokenKey verifies short-lived query tokens (the control plane's key).
	TokenKey ed25519.PublicKey
}

// NewPolicy builds a policy from the node's access config.
func NewPolicy(cfg api.AccessConfig, node Node) *Policy {
	roles := map[string]api.RoleConfig{}
	for _, r := range cfg.Roles {
		roles[r.Name] = r
	}
	p := &Policy{byHash: map[string]*User{}, byName: map[string]*User{}, replica: node.Replica,
		cluster: node.Cluster, key: node.TokenKey, now: time.Now}
	for _, uc := range cfg.Users {
		u := &User{Name: uc.Name}
		var timeout time.Duration
		capped := true
		for _, name := range uc.Roles {
			r, ok := roles[name]
			if !ok {
				continue // a deleted role grants nothing
			}
			u.grants = append(u.grants, grant{role: r.Name, privileges: r.Privileges, schemas: r.Schemas})
			for _, priv := range r.Privileges {
				if !slices.Contains(u.Privileges, priv) {
					u.Privileges = append(u.Privileges, priv)
				}
			}
			timeout = max(timeout, time.Duration(r.QueryTimeoutMillis)*time.Millisecond)
			if r.MaxResultRows == 0 {
				capped = false
			} else {
				u.MaxRows = max(u.MaxRows, r.MaxResultRows)
			}
		}
		if !capped || len(uc.Roles) == 0 {
			u.MaxRows = 0
		}
		if timeout == 0 {
			timeout = api.DefaultQueryTimeout
		}
		u.Timeout = timeout
		slices.Sort(u.Privileges)
		p.byHash[uc.TokenHash] = u
		p.byName[uc.Name] = u
	}
	return p
}

// Authenticate returns the user a token belongs to.
func (p *Policy) Authenticate(tok string) (*User, error) {
	if p == nil || tok == "" {
		return nil, ErrUnauthenticated
	}
	if strings.HasPrefix(tok, api.QueryTokenPrefix) {
		c, err := api.VerifyQueryToken(p.key, tok, p.now())
		if err != nil || c.Cluster != p.cluster {
			return nil, ErrUnauthenticated
		}
		u, ok := p.byName[c.User]
		if !ok {
			return nil, ErrUnauthenticated
		}
		return u, nil
	}
	u, ok := p.byHash[token.Hash(tok)]
	if !ok {
		return nil, ErrUnauthenticated
	}
	return u, nil
}

// Runner runs a query on the node's database.
type Runner interface {
	Query(ctx context.Context, q engine.Query, sink engine.Sink) (engine.Stats, error)
}

// Run authenticates tok and runs req on r with the user's limits, asking
// Authorize before anything executes.
func (p *Policy) Run(ctx context.Context, r Runner, tok string, req api.QueryRequest, sink engine.Sink) (engine.Stats, error) {
	u, err := p.Authenticate(tok)
	if err != nil {
		return engine.Stats{}, err
	}
	st, err := r.Query(ctx, engine.Query{
		SQL: req.SQL, Params: req.Params, Timeout: u.Timeout, MaxRows: u.MaxRows,
		Authorize: func(st *engine.Statement) error { return p.Authorize(u, st) },
	}, sink)
	st.User = u.Name
	return st, err
}

// Authorize decides whether u may run st; a refusal says why. It asks for
// the statement's plan unless the syntax tree is enough: a simple SELECT
// that a role without a schema allow-list grants.
func (p *Policy) Authorize(u *User, st *engine.Statement) error {
	if !slices.Contains(api.Privileges, st.Class) {
		return &Refusal{Reason: fmt.Sprintf("%s statements are never allowed through the query API", st.Class)}
	}
	if !slices.Contains(u.Privileges, st.Class) {
		granted := "no privileges"
		if len(u.Privileges) > 0 {
			granted = "only " + strings.Join(u.Privileges, ", ")
		}
		return &Refusal{Reason: fmt.Sprintf("user %q may not run %s statements: their roles grant %s", u.Name, st.Class, granted)}
	}
	if p.replica && slices.Contains(writeClasses, st.Class) {
		return &Refusal{Reason: fmt.Sprintf("this node is a read-only replica: send %s statements to the cluster's primary", st.Class)}
	}
	if !(st.Simple && u.unrestricted(st.Class)) {
		if err := st.Plan(); err != nil {
			return err
		}
	}
	for _, f := range st.Functions {
		if !slices.Contains(AllowedFunctions, f) {
			return &Refusal{Reason: fmt.Sprintf("the table function %s is not allowed through the query API (allowed: %s)", strings.ToLower(f), strings.ToLower(strings.Join(AllowedFunctions, ", ")))}
		}
	}
	var reasons []string
	for _, g := range u.grants {
		if !slices.Contains(g.privileges, st.Class) {
			continue
		}
		reason := g.outside(*st)
		if reason == "" {
			return nil
		}
		reasons = append(reasons, reason)
	}
	return &Refusal{Reason: fmt.Sprintf("user %q may not run this %s statement: %s", u.Name, st.Class, strings.Join(reasons, "; "))}
}

// unrestricted reports whether a role grants class on every schema.
func (u *User) unrestricted(class string) bool {
	for _, g := range u.grants {
		if g.schemas == nil && slices.Contains(g.privileges, class) {
			return true
		}
	}
	return false
}

// grant is one role's privileges and schema allow-list (nil: every schema).
type grant struct {
	role       string
	privileges []string
	schemas    []string
}

// catalogFunctions list objects of every schema; a role limited to some
// schemas may not call them.
var catalogFunctions = []string{"DUCKDB_TABLES", "DUCKDB_VIEWS", "DUCKDB_COLUMNS", "DUCKDB_SCHEMAS"}

// outside returns why st is outside g's schemas, or "" when it is inside.
func (g grant) outside(st engine.Statement) string {
	if g.schemas == nil {
		return ""
	}
	allowed := strings.Join(g.schemas, ", ")
	if !st.TablesKnown {
		return fmt.Sprintf("role %q is limited to schemas %s, and DuckDB cannot tell which tables a %s statement touches before it runs", g.role, allowed, st.Class)
	}
	for _, f := range st.Functions {
		if slices.Contains(catalogFunctions, f) {
			return fmt.Sprintf("role %q is limited to schemas %s and may not list the catalog with %s", g.role, allowed, strings.ToLower(f))
		}
	}
	for _, t := range st.Tables {
		if (t.Catalog != "" && !strings.EqualFold(t.Catalog, st.Database)) || !slices.Contains(g.schemas, strings.ToLower(t.Schema)) {
			return fmt.Sprintf("role %q is limited to schemas %s and the statement touches %s", g.role, allowed, t)
		}
	}
	return ""
}
