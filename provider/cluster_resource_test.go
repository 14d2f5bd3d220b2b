package provider

import (
	"context"
	"fmt"
	"regexp"
	"testing"

	"github.com/duckfleet/duckfleet/internal/api"
	"github.com/duckfleet/duckfleet/internal/client"
	"github.com/duckfleet/duckfleet/internal/fleettest"
	"github.com/hashicorp/terraform-plugin-testing/compare"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
)

func clusterConfig(f *fleettest.Fleet, name, memory string, threads int) string {
	return providerConfig(f) + fmt.Sprintf(`
resource "duckfleet_cluster" "test" {
  name         = %[1]q
  memory_limit = %[2]q
  threads      = %[3]d
}
`, name, memory, threads)
}

func jpath(path ...any) tfjsonpath.Path {
	p := tfjsonpath.New(path[0].(string))
	for _, s := range path[1:] {
		switch s := s.(type) {
		case string:
			p = p.AtMapKey(s)
		case int:
			p = p.AtSliceIndex(s)
		}
	}
	return p
}

func expect(path []any, v knownvalue.Check) statecheck.StateCheck {
	return statecheck.ExpectKnownValue("duckfleet_cluster.test", jpath(path...), v)
}

// checkClusterDestroyed checks that no cluster is left and every node is free.
func checkClusterDestroyed(f *fleettest.Fleet) resource.TestCheckFunc {
	return func(*terraform.State) error {
		c, err := client.New(f.ControlPlane.URL, f.AdminToken)
		if err != nil {
			return err
		}
		ctx := context.Background()
		clusters, err := c.ListClusters(ctx)
		if err != nil {
			return err
		}
		if len(clusters) > 0 {
			return fmt.Errorf("clusters left after destroy: %v", clusters[0].Name)
		}
		nodes, err := c.ListNodes(ctx, "")
		if err != nil {
			return err
		}
		for _, n := range nodes {
			if n.Cluster != "" {
				return fmt.Errorf("node %s still runs cluster %q after destroy", n.ID, n.Cluster)
			}
		}
		return nil
	}
}

func TestAccCluster(t *testing.T) {
	t.Parallel()
	f := fleettest.Start(t, fleettest.Options{Agents: 2})
	cl := f.Client(t)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             checkClusterDestroyed(f),
		Steps: []resource.TestStep{
			{
				// Create with a lower-case spelling of the size.
				Config: clusterConfig(f, "analytics", "512mib", 2),
				ConfigStateChecks: []statecheck.StateCheck{
					expect([]any{"id"}, knownvalue.StringExact("analytics")),
					expect([]any{"memory_limit"}, knownvalue.StringExact("512mib")),
					expect([]any{"pool"}, knownvalue.StringExact("default")),
					expect([]any{"storage_url"}, knownvalue.StringRegexp(regexp.MustCompile(`^file:///.*/storage\?create_dir=true$`))),
					expect([]any{"replicas"}, knownvalue.Int64Exact(0)),
					expect([]any{"status"}, knownvalue.StringExact("ready")),
					expect([]any{"status_message"}, knownvalue.StringExact("")),
					expect([]any{"generation"}, knownvalue.Int64Exact(1)),
					expect([]any{"primary_endpoint"}, knownvalue.StringRegexp(regexp.MustCompile(`^http://127\.0\.0\.1:\d+$`))),
					expect([]any{"nodes"}, knownvalue.ListSizeExact(1)),
					expect([]any{"nodes", 0, "role"}, knownvalue.StringExact("primary")),
					expect([]any{"nodes", 0, "observed_generation"}, knownvalue.Int64Exact(1)),
					expect([]any{"nodes", 0, "memory_limit"}, knownvalue.StringExact("512.0 MiB")),
					expect([]any{"nodes", 0, "threads"}, knownvalue.Int64Exact(2)),
				},
			},
			{
				// Another spelling of the same size is not a change.
				Config:   clusterConfig(f, "analytics", "0.5GiB", 2),
				PlanOnly: true,
			},
			{
				ResourceName:            "duckfleet_cluster.test",
				ImportState:             true,
				ImportStateId:           "analytics",
				ImportStateVerify:       true,
				ImportStateVerifyIgnore: []string{"memory_limit", "timeouts"},
			},
			{
				// In place: the node really runs the new settings.
				Config: clusterConfig(f, "analytics", "1gib", 1),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("duckfleet_cluster.test", plancheck.ResourceActionUpdate),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					expect([]any{"generation"}, knownvalue.Int64Exact(2)),
					expect([]any{"memory_limit"}, knownvalue.StringExact("1gib")),
					expect([]any{"nodes", 0, "memory_limit"}, knownvalue.StringExact("1.0 GiB")),
					expect([]any{"nodes", 0, "threads"}, knownvalue.Int64Exact(1)),
					expect([]any{"nodes", 0, "observed_generation"}, knownvalue.Int64Exact(2)),
				},
			},
			{
				// Deleted out of band: the next plan re-creates it.
				PreConfig: func() {
					if err := cl.DeleteCluster(context.Background(), "analytics", 0); err != nil {
						t.Fatalf("out-of-band delete: %v", err)
					}
				},
				Config: clusterConfig(f, "analytics", "1gib", 1),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("duckfleet_cluster.test", plancheck.ResourceActionCreate),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					expect([]any{"status"}, knownvalue.StringExact("ready")),
					expect([]any{"generation"}, knownvalue.Int64Exact(1)),
				},
			},
		},
	})
}

func TestAccClusterRejected(t *testing.T) {
	t.Parallel()
	f := fleettest.Start(t, fleettest.Options{Agents: 1})
	if _, err := f.Client(t).CreateCluster(context.Background(), api.ClusterCreate{Name: "taken"}); err != nil {
		t.Fatal(err)
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				// The API's own check, reported with the field and reason.
				Config:      clusterConfig(f, "small", "1MB", 1),
				ExpectError: regexp.MustCompile(`(?s)Unable to Create Cluster.*spec\.memory_limit: "1MB" is below the minimum of\s+16MiB`),
			},
			{
				Config:      clusterConfig(f, "taken", "1GiB", 1),
				ExpectError: regexp.MustCompile(`(?s)Cluster Already Exists.*terraform import\s+duckfleet_cluster.<name> taken`),
			},
			{
				// Caught at plan time by the same parser the API uses.
				Config:      clusterConfig(f, "far", "12 parsecs", 1),
				PlanOnly:    true,
				ExpectError: regexp.MustCompile(`(?s)Invalid Size.*unknown unit "parsecs"`),
			},
			{
				Config:      clusterConfig(f, "Bad_Name", "1GiB", 1),
				PlanOnly:    true,
				ExpectError: regexp.MustCompile(`Invalid Name`),
			},
			{
				Config:      clusterConfig(f, "neg", "1GiB", -1),
				PlanOnly:    true,
				ExpectError: regexp.MustCompile(`(?s)threads.*between 1 and 1024`),
			},
		},
	})
}

func TestAccClusterPendingTimesOut(t *testing.T) {
	t.Parallel()
	f := fleettest.Start(t, fleettest.Options{Agents: 1})
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             checkClusterDestroyed(f),
		Steps: []resource.TestStep{{
			Config: providerConfig(f) + `
resource "duckfleet_cluster" "test" {
  name     = "wide"
  replicas = 1
  timeouts {
    create = "3s"
  }
}
`,
			ExpectError: regexp.MustCompile(`(?s)did not become ready.*needs 2 node\(s\) from pool "default" and has 1`),
		}},
	})
}

func TestAccClusterDataSources(t *testing.T) {
	t.Parallel()
	f := fleettest.Start(t, fleettest.Options{Agents: 2})
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config: providerConfig(f) + `
resource "duckfleet_cluster" "test" {
  name     = "reporting"
  replicas = 1
}

data "duckfleet_cluster" "test" {
  name = duckfleet_cluster.test.name
}

data "duckfleet_nodes" "default" {
  pool       = "default"
  depends_on = [duckfleet_cluster.test]
}
`,
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue("data.duckfleet_cluster.test", jpath("status"), knownvalue.StringExact("ready")),
				statecheck.ExpectKnownValue("data.duckfleet_cluster.test", jpath("memory_limit"), knownvalue.StringExact(api.DefaultMemoryLimit)),
				statecheck.ExpectKnownValue("data.duckfleet_cluster.test", jpath("nodes"), knownvalue.ListSizeExact(2)),
				statecheck.ExpectKnownValue("data.duckfleet_nodes.default", jpath("nodes"), knownvalue.ListSizeExact(2)),
				statecheck.ExpectKnownValue("data.duckfleet_nodes.default", jpath("nodes", 0, "cluster"), knownvalue.StringExact("reporting")),
				statecheck.ExpectKnownValue("data.duckfleet_nodes.default", jpath("nodes", 0, "healthy"), knownvalue.Bool(true)),
				statecheck.CompareValuePairs("duckfleet_cluster.test", jpath("primary_endpoint"),
					"data.duckfleet_cluster.test", jpath("primary_endpoint"), compare.ValuesSame()),
			},
		}},
	})
}

// changeBetweenPlanAndApply is a plan check that changes the cluster out of
// band after Terraform planned and before it applies, as a second pipeline
// would.
type changeBetweenPlanAndApply func(ctx context.Context) error

func (f changeBetweenPlanAndApply) CheckPlan(ctx context.Context, _ plancheck.CheckPlanRequest, resp *plancheck.CheckPlanResponse) {
	resp.Error = f(ctx)
}

func TestAccClusterConcurrentChange(t *testing.T) {
	t.Parallel()
	f := fleettest.Start(t, fleettest.Options{Agents: 1})
	cl := f.Client(t)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             checkClusterDestroyed(f),
		Steps: []resource.TestStep{
			{Config: clusterConfig(f, "shared", "256MiB", 1)},
			{
				Config: clusterConfig(f, "shared", "256MiB", 2),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					changeBetweenPlanAndApply(func(ctx context.Context) error {
						_, err := cl.UpdateCluster(ctx, "shared", api.ClusterUpdate{Spec: api.ClusterSpec{MemoryLimit: "256MiB", Threads: 3}}, 0)
						return err
					}),
				}},
				ExpectError: regexp.MustCompile(`(?s)Cluster Changed Outside Terraform.*generation 2 but If-Match was 1`),
			},
			{
				// After a fresh plan the update goes through.
				Config: clusterConfig(f, "shared", "256MiB", 2),
				ConfigStateChecks: []statecheck.StateCheck{
					expect([]any{"generation"}, knownvalue.Int64Exact(3)),
					expect([]any{"nodes", 0, "threads"}, knownvalue.Int64Exact(2)),
				},
			},
		},
	})
}
