resource "duckfleet_backup_policy" "nightly" {
  cluster     = duckfleet_cluster.analytics.name
  name        = "nightly"
  schedule    = "0 3 * * *" # UTC
  keep_last   = 7
  keep_within = "336h"
  prefix      = "nightly"
  format      = "parquet" # the default: any Parquet reader can open these

  # Write-only (Terraform 1.11+): never stored in state or plan. Bump the
  # version to send a new key; earlier backups keep theirs.
  encryption_key_url     = var.backup_keeper_url
  encryption_key_version = 1
}

variable "backup_keeper_url" {
  type      = string
  sensitive = true
}
