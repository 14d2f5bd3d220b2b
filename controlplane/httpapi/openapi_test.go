package httpapi

import (
	"encoding/json"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/duckfleet/duckfleet/internal/api"
	"github.com/google/go-cmp/cmp"
)

// TestOpenAPIMatchesRoutes keeps openapi.json and the router in step.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	t.Parallel()
	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(openAPIDoc, &doc); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	var documented []string
	for path, ops := range doc.Paths {
		for method := range ops {
			documented = append(documented, strings.ToUpper(method)+" "+path)
		}
	}
	param := regexp.MustCompile(`:([a-z]+)`)
	var routed []string
	for _, r := range newFixture(t).routes() {
		routed = append(routed, r.Method+" "+param.ReplaceAllString(r.Path, "{$1}"))
	}
	sort.Strings(documented)
	sort.Strings(routed)
	if d := cmp.Diff(documented, routed); d != "" {
		t.Errorf("openapi.json paths (-) and routes (+) differ:\n%s", d)
	}
}

// TestOpenAPIMatchesTypes keeps every schema of openapi.json in step with
// the wire type of the same name: the same JSON properties, no more, no less.
func TestOpenAPIMatchesTypes(t *testing.T) {
	t.Parallel()
	var doc struct {
		Components struct {
			Schemas map[string]struct {
				Properties map[string]json.RawMessage `json:"properties"`
			} `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(openAPIDoc, &doc); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	types := map[string]any{
		"Problem": api.Problem{}, "ClusterSpec": api.ClusterSpec{}, "ClusterCreate": api.ClusterCreate{}, "ClusterUpdate": api.ClusterUpdate{},
		"ClusterNode": api.ClusterNode{}, "ClusterStatus": api.ClusterStatus{}, "Cluster": api.Cluster{}, "ClusterList": api.ClusterList{},
		"Revision": api.Revision{}, "Settings": api.Settings{}, "Observed": api.Observed{}, "Node": api.Node{}, "NodeList": api.NodeList{},
		"RegisterRequest": api.RegisterRequest{}, "RegisterResponse": api.RegisterResponse{}, "HeartbeatResponse": api.HeartbeatResponse{},
		"NodeConfig": api.NodeConfig{}, "AccessStat": api.AccessStat{}, "RoleSpec": api.RoleSpec{}, "Role": api.Role{},
		"RoleCreate": api.RoleCreate{}, "RoleUpdate": api.RoleUpdate{}, "RoleList": api.RoleList{}, "UserSpec": api.UserSpec{},
		"User": api.User{}, "UserCreate": api.UserCreate{}, "UserUpdate": api.UserUpdate{}, "UserList": api.UserList{},
		"RoleConfig": api.RoleConfig{}, "UserConfig": api.UserConfig{}, "AccessConfig": api.AccessConfig{},
		"QueryTokenRequest": api.QueryTokenRequest{}, "QueryToken": api.QueryToken{}, "QueryLogEntry": api.QueryLogEntry{},
		"QueryLog": api.QueryLog{}, "BackupCreate": api.BackupCreate{}, "BackupStatus": api.BackupStatus{}, "Backup": api.Backup{},
		"BackupList": api.BackupList{}, "JobStatus": api.JobStatus{}, "BackupJob": api.BackupJob{}, "BackupPolicySpec": api.BackupPolicySpec{},
		"BackupPolicyStatus": api.BackupPolicyStatus{}, "BackupPolicy": api.BackupPolicy{}, "BackupPolicyCreate": api.BackupPolicyCreate{},
		"BackupPolicyUpdate": api.BackupPolicyUpdate{}, "BackupPolicyList": api.BackupPolicyList{},
	}
	// Fields the API never serves nor takes, so the document leaves them out.
	internal := map[string]bool{"BackupStatus.sealed_key": true}
	for name, schema := range doc.Components.Schemas {
		v, ok := types[name]
		if !ok {
			t.Errorf("schema %s has no wire type in the test's list", name)
			continue
		}
		var documented, fields []string
		for p := range schema.Properties {
			documented = append(documented, p)
		}
		for _, f := range jsonFields(reflect.TypeOf(v)) {
			if !internal[name+"."+f] {
				fields = append(fields, f)
			}
		}
		sort.Strings(documented)
		sort.Strings(fields)
		if d := cmp.Diff(documented, fields); d != "" {
			t.Errorf("schema %s (-) and api.%s (+) differ:\n%s", name, name, d)
		}
	}
	for name := range types {
		if _, ok := doc.Components.Schemas[name]; !ok {
			t.Errorf("api.%s has no schema in openapi.json", name)
		}
	}
}

// jsonFields lists the JSON names of a struct's fields, embedded ones
// included.
func jsonFields(t reflect.Type) []string {
	var out []string
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		switch {
		case name == "-" || !f.IsExported():
		case f.Anonymous && name == "":
			out = append(out, jsonFields(f.Type)...)
		case name == "":
			out = append(out, f.Name)
		default:
			out = append(out, name)
		}
	}
	return out
}
