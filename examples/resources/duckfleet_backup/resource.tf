# A backup taken when this is applied; destroy deletes its objects.
resource "duckfleet_backup" "before_upgrade" {
  cluster = duckfleet_cluster.analytics.name
  labels  = { reason = "before-upgrade" }

  # A copy of the database file: backed up and restored at close to disk
  # speed, for a quick way back. The default, "parquet", is portable.
  format = "duckdb"

  timeouts {
    create = "1h"
  }
}
