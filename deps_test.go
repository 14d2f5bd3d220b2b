package main

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
)

// TestDependencyRules holds the package layout's rules (see the
// architecture guide): which packages may import which.
func TestDependencyRules(t *testing.T) {
	t.Parallel()
	out, err := exec.Command("go", "list", "-json=ImportPath,Imports,Deps", "./...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	const mod = "github.com/duckfleet/duckfleet"
	type pkg struct {
		ImportPath string
		Imports    []string
		Deps       []string
	}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	var pkgs []pkg
	for dec.More() {
		var p pkg
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		pkgs = append(pkgs, p)
	}
	under := func(p, prefix string) bool { return p == mod+"/"+prefix || strings.HasPrefix(p, mod+"/"+prefix+"/") }
	for _, p := range pkgs {
		rel := strings.TrimPrefix(p.ImportPath, mod)
		for _, imp := range p.Imports {
			switch {
			case under(p.ImportPath, "internal") && (under(imp, "provider") || under(imp, "controlplane") || under(imp, "agent")):
				t.Errorf("%s imports %s: internal/ must not import provider/, controlplane/ or agent/", rel, imp)
			case under(p.ImportPath, "controlplane") && under(imp, "agent"), under(p.ImportPath, "agent") && under(imp, "controlplane"):
				t.Errorf("%s imports %s: the control plane and the agent never import each other", rel, imp)
			case under(p.ImportPath, "provider") && strings.HasPrefix(imp, mod) && imp != mod+"/internal/api" && imp != mod+"/internal/client":
				t.Errorf("%s imports %s: the provider uses only internal/api and internal/client", rel, imp)
			case strings.HasPrefix(imp, "github.com/duckdb/") && !under(p.ImportPath, "controlplane/store") && !under(p.ImportPath, "agent/engine"):
				t.Errorf("%s imports %s: only controlplane/store and agent/engine use DuckDB", rel, imp)
			case strings.HasPrefix(imp, "github.com/gin-gonic/") && !strings.HasSuffix(p.ImportPath, "/httpapi"):
				t.Errorf("%s imports %s: only the httpapi packages use Gin", rel, imp)
			}
		}
		if p.ImportPath == mod || under(p.ImportPath, "provider") {
			for _, d := range p.Deps {
				if strings.HasPrefix(d, "github.com/duckdb/") {
					t.Errorf("%s depends on %s: the provider must stay pure Go", rel, d)
				}
			}
		}
	}
}
