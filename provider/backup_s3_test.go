package provider

import (
	"fmt"
	"testing"

	"github.com/duckfleet/duckfleet/internal/fleettest"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
)

// TestAccBackupRestoreS3 backs a cluster up to S3 (moto_server on
// loopback) and restores it into a new cluster through Terraform.
func TestAccBackupRestoreS3(t *testing.T) {
	t.Parallel()
	f := fleettest.Start(t, fleettest.Options{Agents: 2, S3: true})
	cl := f.Client(t)
	cluster := providerConfig(f) + fmt.Sprintf(`
resource "duckfleet_cluster" "test" {
  name        = "safe"
  storage_url = %q
}
`, f.S3URL)
	withBackup := cluster + `
resource "duckfleet_backup" "nightly" {
  cluster = duckfleet_cluster.test.name
}
`
	var src source
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             checkClusterDestroyed(f),
		Steps: []resource.TestStep{
			{Config: cluster},
			{
				PreConfig: func() { src = fillCluster(t, cl, "safe") },
				Config:    withBackup,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("duckfleet_backup.nightly", jpath("table_count"), knownvalue.Int64Exact(3)),
				},
			},
			{
				Config: withBackup + restoredClusterConfig,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("duckfleet_cluster.copy", jpath("status"), knownvalue.StringExact("ready")),
					restoredRows{&src},
				},
			},
		},
	})
}
