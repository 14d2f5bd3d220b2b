package api

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Privileges are classes of SQL statements, as DuckDB's parser classifies
// them. A role grants some; everything else is refused.
var Privileges = []string{"SELECT", "INSERT", "UPDATE", "DELETE", "CREATE", "DROP", "ALTER"}

// MaxQueryTimeout bounds a role's query_timeout; DefaultQueryTimeout applies
// when no role of a user sets one.
const (
	MaxQueryTimeout     = 24 * time.Hour
	DefaultQueryTimeout = 5 * time.Minute
)

// RoleSpec is the desired state of a role.
type RoleSpec struct {
	// Privileges in canonical form: upper-case, sorted, without duplicates.
	Privileges []string `json:"privileges"`
	// QueryTimeout such as "30s" or "5m"; empty means the default.
	QueryTimeout string `json:"query_timeout,omitempty"`
	// MaxResultRows caps the rows a query answers; 0 means no cap.
	MaxResultRows int64 `json:"max_result_rows,omitempty"`
	// Schemas, when set, are the only schemas the role's statements may
	// touch (lower-case, sorted); empty means every schema.
	Schemas []string `json:"schemas,omitempty"`
}

// Role is a role as the API serves it.
type Role struct {
	Cluster    string     `json:"cluster"`
	Name       string     `json:"name"`
	Spec       RoleSpec   `json:"spec"`
	Status     AccessStat `json:"status"`
	Generation int64      `json:"generation"`
	CreatedAt  time.Time  `json:"created_at"`
	UpdatedAt  time.Time  `json:"updated_at"`
}

// AccessStat tells which access generation of the cluster a write made;
// the write is in force on every node once each reports it.
type AccessStat struct {
	AccessGeneration int64 `json:"access_generation"`
}

// RoleCreate is the body of POST /v1/clusters/{cluster}/roles.
type RoleCreate struct {
	Name string   `json:"name"`
	Spec RoleSpec `json:"spec"`
}

// RoleUpdate is the body of PUT /v1/clusters/{cluster}/roles/{role}.
type RoleUpdate struct {
	Spec RoleSpec `json:"spec"`
}

// RoleList is the answer of GET /v1/clusters/{cluster}/roles.
type RoleList struct {
	Items []Role `json:"items"`
}

// UserSpec is the desired state of a user.
type UserSpec struct {
	// Roles are role names of the same cluster, sorted.
	Roles []string `json:"roles"`
}

// User is a user as the API serves it. Token is set only in the answer
// that issued it (create and rotate); the control plane keeps its hash.
type User struct {
	Cluster    string     `json:"cluster"`
	Name       string     `json:"name"`
	Spec       UserSpec   `json:"spec"`
	Status     AccessStat `json:"status"`
	Generation int64      `json:"generation"`
	CreatedAt  time.Time  `json:"created_at"`
	UpdatedAt  time.Time  `json:"updated_at"`
	Token      string     `json:"token,omitempty"`
}

// UserCreate is the body of POST /v1/clusters/{cluster}/users.
type UserCreate struct {
	Name string   `json:"name"`
	Spec UserSpec `json:"spec"`
}

// UserUpdate is the body of PUT /v1/clusters/{cluster}/users/{user}.
type UserUpdate struct {
	Spec UserSpec `json:"spec"`
}

// UserList is the answer of GET /v1/clusters/{cluster}/users.
type UserList struct {
	Items []User `json:"items"`
}

// AccessConfig is what every node of a cluster enforces.
type AccessConfig struct {
	Roles []RoleConfig `json:"roles"`
	Users []UserConfig `json:"users"`
}

// RoleConfig is a role as nodes enforce it.
type RoleConfig struct {
	Name               string   `json:"name"`
	Privileges         []string `json:"privileges"`
	QueryTimeoutMillis int64    `json:"query_timeout_ms,omitempty"`
	MaxResultRows      int64    `json:"max_result_rows,omitempty"`
	Schemas            []string `json:"schemas,omitempty"`
}

// UserConfig is a user as nodes enforce it: only the token's hash.
type UserConfig struct {
	Name      string   `json:"name"`
	TokenHash string   `json:"token_hash"`
	Roles     []string `json:"roles"`
}

// Normalize validates and canonicalises a role spec.
func (s *RoleSpec) Normalize(prefix string) error {
	var v ValidationError
	s.normalize(&v, prefix)
	return v.err()
}

func (s *RoleSpec) normalize(v *ValidationError, prefix string) {
	if len(s.Privileges) == 0 {
		v.add(prefix+"privileges", "is required: grant at least one of %s", strings.Join(Privileges, ", "))
	}
	seen := map[string]bool{}
	var out []string
	for i, p := range s.Privileges {
		up := strings.ToUpper(strings.TrimSpace(p))
		if !slices.Contains(Privileges, up) {
			v.add(fmt.Sprintf("%sprivileges[%d]", prefix, i), "%q is not a privilege: use %s", truncate(p), strings.Join(Privileges, ", "))
			continue
		}
		if !seen[up] {
			seen[up] = true
			out = append(out, up)
		}
	}
	slices.Sort(out)
	s.Privileges = out
	if s.QueryTimeout != "" {
		d, err := time.ParseDuration(s.QueryTimeout)
		switch {
		case err != nil:
			v.add(prefix+"query_timeout", "%q is not a duration such as \"30s\" or \"5m\"", truncate(s.QueryTimeout))
		case d < time.Millisecond || d > MaxQueryTimeout:
			v.add(prefix+"query_timeout", "%q is out of range: use 1ms to %s", s.QueryTimeout, FormatDuration(MaxQueryTimeout))
		default:
			s.QueryTimeout = FormatDuration(d)
		}
	}
	if s.MaxResultRows < 0 {
		v.add(prefix+"max_result_rows", "%d is negative: use 0 for no cap", s.MaxResultRows)
	}
	var schemas []string
	for i, sc := range s.Schemas {
		l := strings.ToLower(strings.TrimSpace(sc))
		if l == "" || len(l) > 63 || strings.ContainsAny(l, "\x00\n\r\t.\"") {
			v.add(fmt.Sprintf("%sschemas[%d]", prefix, i), "%q is not a schema name: 1 to 63 characters without dots, quotes or control characters", truncate(sc))
			continue
		}
		schemas = append(schemas, l)
	}
	slices.Sort(schemas)
	s.Schemas = slices.Compact(schemas)
}

// FormatDuration writes a duration in its shortest whole unit: "2h", "90m",
// "30s", "1500ms", so that every spelling of one duration has one form.
func FormatDuration(d time.Duration) string {
	for _, u := range []struct {
		unit time.Duration
		name string
	}{{time.Hour, "h"}, {time.Minute, "m"}, {time.Second, "s"}, {time.Millisecond, "ms"}} {
		if d%u.unit == 0 {
			return fmt.Sprintf("%d%s", d/u.unit, u.name)
		}
	}
	return d.String()
}

// SameDuration reports whether a and b are the same duration.
func SameDuration(a, b string) bool {
	da, errA := time.ParseDuration(a)
	db, errB := time.ParseDuration(b)
	if errA != nil || errB != nil {
		return a == b
	}
	return da == db
}

// Normalize validates a role create request.
func (c *RoleCreate) Normalize() error {
	var v ValidationError
	checkName(&v, "name", c.Name)
	c.Spec.normalize(&v, "spec.")
	return v.err()
}

// Normalize validates a user spec and sorts its roles.
func (s *UserSpec) Normalize(prefix string) error {
	var v ValidationError
	s.normalize(&v, prefix)
	return v.err()
}

func (s *UserSpec) normalize(v *ValidationError, prefix string) {
	if s.Roles == nil {
		s.Roles = []string{}
	}
	for i, r := range s.Roles {
		checkName(v, fmt.Sprintf("%sroles[%d]", prefix, i), r)
	}
	slices.Sort(s.Roles)
	s.Roles = slices.Compact(s.Roles)
}

// Normalize validates a user create request.
func (c *UserCreate) Normalize() error {
	var v ValidationError
	checkName(&v, "name", c.Name)
	c.Spec.normalize(&v, "spec.")
	return v.err()
}

// QueryRequest is the body of POST /v1/query on an agent.
type QueryRequest struct {
	SQL    string `json:"sql"`
	Params []any  `json:"params,omitempty"`
}

// QueryResult is the JSON answer of POST /v1/query. With Accept:
// application/x-ndjson the agent instead streams one JSON object with
// columns and types, then one JSON array per row, then a last object with
// row_count and truncated (or error, if the query failed midway).
type QueryResult struct {
	Columns   []string `json:"columns"`
	Types     []string `json:"types"`
	Rows      [][]any  `json:"rows"`
	RowCount  int64    `json:"row_count"`
	Truncated bool     `json:"truncated"`
}

// NDJSONContentType is the media type of streamed query results.
const NDJSONContentType = "application/x-ndjson"

// QueryLogEntry is one query as the node recorded it. The SQL text is not
// kept: it may hold data the log's readers should not see.
type QueryLogEntry struct {
	Time           time.Time `json:"time"`
	User           string    `json:"user"`
	Class          string    `json:"class"`
	DurationMillis float64   `json:"duration_ms"`
	Rows           int64     `json:"rows"`
	Status         int       `json:"status"`
	Error          string    `json:"error,omitempty"`
}

// QueryLog is the answer of GET /v1/nodes/{node}/query-log: newest first.
type QueryLog struct {
	Node    string          `json:"node"`
	Entries []QueryLogEntry `json:"entries"`
}
