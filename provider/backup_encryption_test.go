package provider

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/duckfleet/duckfleet/internal/api"
	"github.com/duckfleet/duckfleet/internal/fleettest"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfversion"
)

// TestAccEncryptedBackupPolicy gives a policy a keeper through the
// write-only attribute, takes a backup, checks that storage holds no
// plain Parquet and that the key is in no state, and restores the backup
// into a new cluster through Terraform.
func TestAccEncryptedBackupPolicy(t *testing.T) {
	t.Parallel()
	f := fleettest.Start(t, fleettest.Options{Agents: 2})
	cl := f.Client(t)
	storage := t.TempDir()
	raw := make([]byte, 32)
	_, _ = rand.Read(raw)
	key := "base64key://" + base64.URLEncoding.EncodeToString(raw)
	base := providerConfig(f) + fmt.Sprintf(`
resource "duckfleet_cluster" "test" {
  name        = "vault"
  storage_url = "file://%[1]s"
}

resource "duckfleet_backup_policy" "sealed" {
  cluster                = duckfleet_cluster.test.name
  name                   = "sealed"
  schedule               = "@daily"
  keep_last              = 3
  encryption_key_url     = %[2]q
  encryption_key_version = 1
}
`, storage, key)
	var backupID string
	var src source
	resource.Test(t, resource.TestCase{
		TerraformVersionChecks:   []tfversion.TerraformVersionCheck{tfversion.SkipBelow(tfversion.Version1_11_0)},
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             checkClusterDestroyed(f),
		Steps: []resource.TestStep{
			{
				Config: base,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("duckfleet_backup_policy.sealed", jpath("encrypted"), knownvalue.Bool(true)),
					statecheck.ExpectKnownValue("duckfleet_backup_policy.sealed", jpath("encryption_key_url"), knownvalue.Null()),
				},
			},
			{
				PreConfig: func() {
					src = fillCluster(t, cl, "vault")
					ctx := context.Background()
					b, err := cl.RunBackupPolicy(ctx, "vault", "sealed")
					if err != nil {
						t.Fatal(err)
					}
					deadline := time.Now().Add(60 * time.Second)
					for b.Status.Phase != api.BackupComplete {
						if b.Status.Phase == api.BackupFailed || time.Now().After(deadline) {
							t.Fatalf("backup: %+v", b.Status)
						}
						time.Sleep(100 * time.Millisecond)
						if b, err = cl.GetBackup(ctx, "vault", b.ID); err != nil {
							t.Fatal(err)
						}
					}
					if !b.Status.Encrypted {
						t.Error("the policy's backup is not marked encrypted")
					}
					backupID = b.ID
					files, _ := filepath.Glob(filepath.Join(storage, "clusters", "vault", "backups", b.ID, "*.parquet"))
					if len(files) == 0 {
						t.Fatal("no objects in storage")
					}
					for _, file := range files {
						if data, _ := os.ReadFile(file); bytes.HasPrefix(data, []byte("PAR1")) {
							t.Errorf("%s is plain Parquet", file)
						}
					}
				},
				Config: base + `
data "duckfleet_backups" "vault" {
  cluster = duckfleet_cluster.test.name
}

resource "duckfleet_cluster" "copy" {
  name         = "copy"
  restore_from = data.duckfleet_backups.vault.backups[0].backup_id
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
`,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("duckfleet_cluster.copy", jpath("status"), knownvalue.StringExact("ready")),
					restoredRows{&src},
				},
			},
		},
	})
	if backupID == "" {
		t.Skip("skipped by Terraform version")
	}
}
