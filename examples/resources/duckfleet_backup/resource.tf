# A backup taken when this is applied; destroy deletes its objects.
resource "duckfleet_backup" "before_upgrade" {
  cluster = duckfleet_cluster.analytics.name
  labels  = { reason = "before-upgrade" }

  timeouts {
    create = "1h"
  }
}
