resource "duckfleet_role" "analyst" {
  cluster         = duckfleet_cluster.analytics.name
  name            = "analyst"
  privileges      = ["SELECT"]
  query_timeout   = "2m"
  max_result_rows = 100000

  # Only tables (and views over tables) in these schemas.
  schemas = ["sales", "marketing"]
}

resource "duckfleet_role" "loader" {
  cluster    = duckfleet_cluster.analytics.name
  name       = "loader"
  privileges = ["SELECT", "INSERT", "CREATE"]
}
