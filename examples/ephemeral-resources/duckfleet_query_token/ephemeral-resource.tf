# A token good for ten minutes, never written to plan or state. Pass it to
# something that accepts ephemeral values, such as a write-only attribute or
# another provider's configuration.
ephemeral "duckfleet_query_token" "etl" {
  cluster = duckfleet_cluster.analytics.name
  user    = duckfleet_user.dashboards.name
  ttl     = "10m"
}
