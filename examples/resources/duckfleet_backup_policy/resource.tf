resource "duckfleet_backup_policy" "nightly" {
  cluster     = duckfleet_cluster.analytics.name
  name        = "nightly"
  schedule    = "0 3 * * *" # UTC
  keep_last   = 7
  keep_within = "336h"
  prefix      = "nightly"
}
