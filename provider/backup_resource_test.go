package provider

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/duckfleet/duckfleet/internal/api"
	"github.com/duckfleet/duckfleet/internal/client"
	"github.com/duckfleet/duckfleet/internal/fleettest"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
)

// TestAccBackup takes a backup in each format (parquet by default),
// restores it into a new cluster, and imports it.
func TestAccBackup(t *testing.T) {
	t.Parallel()
	for _, format := range api.Formats {
		t.Run(format, func(t *testing.T) {
			t.Parallel()
			testAccBackup(t, format)
		})
	}
}

func testAccBackup(t *testing.T, format string) {
	f := fleettest.Start(t, fleettest.Options{Agents: 2})
	storage := t.TempDir()
	cl := f.Client(t)
	cluster := providerConfig(f) + fmt.Sprintf(`
resource "duckfleet_cluster" "test" {
  name        = "safe"
  storage_url = "file://%[1]s"
}
`, storage)
	formatLine := ""
	if format != api.FormatParquet {
		formatLine = fmt.Sprintf("format  = %q", format)
	}
	withBackup := cluster + `
resource "duckfleet_backup" "nightly" {
  cluster = duckfleet_cluster.test.name
  labels  = { reason = "before-upgrade" }
  ` + formatLine + `
}

data "duckfleet_backups" "all" {
  cluster    = duckfleet_cluster.test.name
  depends_on = [duckfleet_backup.nightly]
}
`
	var src source
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy: func(*terraform.State) error {
			matches, _ := filepath.Glob(filepath.Join(storage, "clusters", "safe", "backups", "*", "*"))
			if len(matches) > 0 {
				return fmt.Errorf("backup objects left after destroy: %v", matches)
			}
			return nil
		},
		Steps: []resource.TestStep{
			{Config: cluster},
			{
				PreConfig: func() { src = fillCluster(t, cl, "safe") },
				Config:    withBackup,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("duckfleet_backup.nightly", jpath("table_count"), knownvalue.Int64Exact(3)),
					statecheck.ExpectKnownValue("duckfleet_backup.nightly", jpath("format"), knownvalue.StringExact(format)),
					statecheck.ExpectKnownValue("data.duckfleet_backups.all", jpath("backups", 0, "format"), knownvalue.StringExact(format)),
					statecheck.ExpectKnownValue("duckfleet_backup.nightly", jpath("manifest_sha256"), knownvalue.StringRegexp(regexp.MustCompile(`^[0-9a-f]{64}$`))),
					statecheck.ExpectKnownValue("duckfleet_backup.nightly", jpath("id"), knownvalue.StringRegexp(regexp.MustCompile(`^safe/bk-`))),
					statecheck.ExpectKnownValue("data.duckfleet_backups.all", jpath("backups"), knownvalue.ListSizeExact(1)),
					statecheck.ExpectKnownValue("data.duckfleet_backups.all", jpath("backups", 0, "status"), knownvalue.StringExact("complete")),
					statecheck.ExpectKnownValue("data.duckfleet_backups.all", jpath("backups", 0, "labels", "reason"), knownvalue.StringExact("before-upgrade")),
				},
			},
			{
				// A new cluster restored from the backup holds the same rows.
				Config: withBackup + restoredClusterConfig,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("duckfleet_cluster.copy", jpath("status"), knownvalue.StringExact("ready")),
					restoredRows{&src},
				},
			},
			{
				// Only the timeouts change: no new backup, no unknown values.
				Config: strings.Replace(withBackup, `labels  = { reason = "before-upgrade" }`,
					"labels  = { reason = \"before-upgrade\" }\n  timeouts {\n    create = \"45m\"\n  }", 1),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("duckfleet_backup.nightly", plancheck.ResourceActionUpdate),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("duckfleet_backup.nightly", jpath("table_count"), knownvalue.Int64Exact(3)),
				},
			},
			{
				ResourceName:            "duckfleet_backup.nightly",
				ImportState:             true,
				ImportStateVerify:       true,
				ImportStateVerifyIgnore: []string{"timeouts"},
				ImportStateIdFunc: func(s *terraform.State) (string, error) {
					return s.RootModule().Resources["duckfleet_backup.nightly"].Primary.ID, nil
				},
			},
		},
	})
	if entries, err := os.ReadDir(filepath.Join(storage, "clusters", "safe", "backups")); err == nil {
		for _, e := range entries {
			if files, _ := os.ReadDir(filepath.Join(storage, "clusters", "safe", "backups", e.Name())); len(files) > 0 {
				t.Errorf("backup %s still has objects", e.Name())
			}
		}
	}
}

// source is a cluster filled by fillCluster, and how to query it.
type source struct {
	endpoint, token string
}

// fillStatements make a schema, tables of several column types (one of
// them empty), a view, a macro and a sequence.
var fillStatements = []string{
	"CREATE SCHEMA sales",
	"CREATE TABLE sales.orders (id INTEGER PRIMARY KEY, amount DECIMAL(12,2), tags VARCHAR[], placed TIMESTAMP)",
	"INSERT INTO sales.orders SELECT i, i * 1.25, ['a', 'b' || i], TIMESTAMP '2026-01-01' + to_seconds(i) FROM range(500) r(i)",
	"CREATE TABLE orders (id INTEGER, amount DOUBLE)",
	"INSERT INTO orders SELECT i, i * 1.5 FROM range(100) r(i)",
	"CREATE TABLE audit (happened TIMESTAMP, what VARCHAR)",
	"CREATE VIEW sales.big AS SELECT * FROM sales.orders WHERE amount > 100",
	"CREATE MACRO twice(x) AS x * 2",
	"CREATE SEQUENCE sales.ids START 1000",
}

// fillCluster fills a cluster through a user made for the purpose.
func fillCluster(t *testing.T, c *client.Client, cluster string) source {
	t.Helper()
	ctx := context.Background()
	if _, err := c.CreateRole(ctx, cluster, api.RoleCreate{Name: "loader", Spec: api.RoleSpec{Privileges: []string{"CREATE", "INSERT", "SELECT"}}}); err != nil {
		t.Fatal(err)
	}
	u, err := c.CreateUser(ctx, cluster, api.UserCreate{Name: "loader", Spec: api.UserSpec{Roles: []string{"loader"}}})
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	var src source
	for _, q := range fillStatements {
		for {
			cl, err := c.GetCluster(ctx, cluster)
			if err != nil {
				t.Fatal(err)
			}
			src = source{endpoint: cl.Status.PrimaryEndpoint, token: u.Token}
			_, err = client.Query(ctx, nil, src.endpoint, src.token, api.QueryRequest{SQL: q})
			if err == nil {
				break
			}
			if code := client.StatusCode(err); (code != 401 && code != 403) || time.Now().After(deadline) {
				t.Fatalf("%s: %v", q, err)
			}
			time.Sleep(100 * time.Millisecond) // the user or role is not on the node yet
		}
	}
	return src
}

// restoredRows compares every table, view, macro and sequence of the
// restored cluster (read with its reader's token) with the source.
type restoredRows struct{ src *source }

// contentQueries are what a restore must keep: the list of tables, every
// table's rows (added per table), the view, the macro and the sequence.
var contentQueries = []string{
	"SELECT schema_name, table_name FROM duckdb_tables() ORDER BY ALL",
	"SELECT view_name FROM duckdb_views() WHERE NOT internal ORDER BY ALL",
	"SELECT count(*), sum(amount) FROM sales.big",
	"SELECT twice(21)",
	"SELECT nextval('sales.ids')", // 1000 on both: the sequence came along
}

func (r restoredRows) CheckState(ctx context.Context, req statecheck.CheckStateRequest, resp *statecheck.CheckStateResponse) {
	values := map[string]map[string]any{}
	for _, res := range req.State.Values.RootModule.Resources {
		values[res.Address] = res.AttributeValues
	}
	endpoint, _ := values["duckfleet_cluster.copy"]["primary_endpoint"].(string)
	tok, _ := values["duckfleet_user.reader"]["token"].(string)
	restored := source{endpoint: endpoint, token: tok}
	query := func(s source, q string) (string, error) {
		res, err := client.Query(ctx, nil, s.endpoint, s.token, api.QueryRequest{SQL: q})
		if err != nil {
			return "", fmt.Errorf("%s: %w", q, err)
		}
		return fmt.Sprint(res.Rows), nil
	}
	tables, err := client.Query(ctx, nil, r.src.endpoint, r.src.token, api.QueryRequest{SQL: "SELECT schema_name, table_name FROM duckdb_tables() ORDER BY ALL"})
	if err != nil || len(tables.Rows) != 3 {
		resp.Error = fmt.Errorf("list the source's tables: %v (%v)", err, tables.Rows)
		return
	}
	queries := slices.Clone(contentQueries)
	for _, row := range tables.Rows {
		queries = append(queries, fmt.Sprintf("SELECT * FROM %q.%q ORDER BY ALL", row[0], row[1]))
	}
	for _, q := range queries {
		want, err := query(*r.src, q)
		if err != nil {
			resp.Error = fmt.Errorf("query the source cluster: %w", err)
			return
		}
		got, err := query(restored, q)
		if err != nil {
			resp.Error = fmt.Errorf("query the restored cluster: %w", err)
			return
		}
		if got != want {
			resp.Error = fmt.Errorf("%s: the restored cluster holds %s, the source %s", q, got, want)
			return
		}
	}
}

// restoredClusterConfig declares a cluster restored from
// duckfleet_backup.nightly and a user to read it.
const restoredClusterConfig = `
resource "duckfleet_cluster" "copy" {
  name         = "copy"
  restore_from = duckfleet_backup.nightly.backup_id
}

resource "duckfleet_role" "reader" {
  cluster    = duckfleet_cluster.copy.name
  name       = "reader"
  privileges = ["SELECT"]
}

resource "duckfleet_user" "reader" {
  cluster = duckfleet_cluster.copy.name
  name    = "reader"
  roles   = [duckfleet_role.reader.name]
}
`
