package provider

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/duckfleet/duckfleet/internal/fleettest"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
)

func policyConfig(f *fleettest.Fleet, schedule string, keepLast int, extra ...string) string {
	return providerConfig(f) + fmt.Sprintf(`
resource "duckfleet_cluster" "test" {
  name = "scheduled"
}

resource "duckfleet_backup_policy" "nightly" {
  cluster     = duckfleet_cluster.test.name
  name        = "nightly"
  schedule    = %[1]q
  keep_last   = %[2]d
  keep_within = "168h"
  prefix      = "nightly"
  %[3]s
}
`, schedule, keepLast, strings.Join(extra, "\n  "))
}

func TestAccBackupPolicy(t *testing.T) {
	t.Parallel()
	f := fleettest.Start(t, fleettest.Options{Agents: 1})
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config:      policyConfig(f, "every night at three", 7),
				PlanOnly:    true,
				ExpectError: regexp.MustCompile(`Invalid Schedule`),
			},
			{
				Config: policyConfig(f, "0 3 * * *", 7),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("duckfleet_backup_policy.nightly", jpath("id"), knownvalue.StringExact("scheduled/nightly")),
					statecheck.ExpectKnownValue("duckfleet_backup_policy.nightly", jpath("compression"), knownvalue.StringExact("zstd")),
					statecheck.ExpectKnownValue("duckfleet_backup_policy.nightly", jpath("keep_within"), knownvalue.StringExact("168h")),
					statecheck.ExpectKnownValue("duckfleet_backup_policy.nightly", jpath("generation"), knownvalue.Int64Exact(1)),
				},
			},
			{
				Config: policyConfig(f, "@daily", 3),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("duckfleet_backup_policy.nightly", jpath("generation"), knownvalue.Int64Exact(2)),
					statecheck.ExpectKnownValue("duckfleet_backup_policy.nightly", jpath("keep_last"), knownvalue.Int64Exact(3)),
					statecheck.ExpectKnownValue("duckfleet_backup_policy.nightly", jpath("format"), knownvalue.StringExact("parquet")),
				},
			},
			{
				Config:      policyConfig(f, "@daily", 3, `format = "duckdb"`, `compression = "zstd"`),
				PlanOnly:    true,
				ExpectError: regexp.MustCompile(`Compression Applies to Parquet Backups Only`),
			},
			{
				// In place: later backups copy the database file, with no codec.
				Config: policyConfig(f, "@daily", 3, `format = "duckdb"`),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("duckfleet_backup_policy.nightly", plancheck.ResourceActionUpdate),
					plancheck.ExpectKnownValue("duckfleet_backup_policy.nightly", jpath("compression"), knownvalue.Null()),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("duckfleet_backup_policy.nightly", jpath("generation"), knownvalue.Int64Exact(3)),
					statecheck.ExpectKnownValue("duckfleet_backup_policy.nightly", jpath("format"), knownvalue.StringExact("duckdb")),
					statecheck.ExpectKnownValue("duckfleet_backup_policy.nightly", jpath("compression"), knownvalue.Null()),
				},
			},
			{
				ResourceName:            "duckfleet_backup_policy.nightly",
				ImportState:             true,
				ImportStateId:           "scheduled/nightly",
				ImportStateVerify:       true,
				ImportStateVerifyIgnore: []string{"last_run", "last_success", "last_error", "backups_kept"},
			},
		},
	})
}
