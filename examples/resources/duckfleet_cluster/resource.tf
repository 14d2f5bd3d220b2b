resource "duckfleet_cluster" "analytics" {
  name         = "analytics"
  pool         = "default"
  replicas     = 1
  memory_limit = "2GiB"
  threads      = 4

  timeouts {
    create = "5m"
    update = "5m"
  }
}

output "analytics_primary" {
  value = duckfleet_cluster.analytics.primary_endpoint
}
