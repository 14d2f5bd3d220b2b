data "duckfleet_cluster" "analytics" {
  name = "analytics"
}

output "analytics_status" {
  value = data.duckfleet_cluster.analytics.status
}
