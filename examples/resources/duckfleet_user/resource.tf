resource "duckfleet_user" "dashboards" {
  cluster = duckfleet_cluster.analytics.name
  name    = "dashboards"
  roles   = [duckfleet_role.analyst.name]

  # Bump to rotate the token; the old one stops working when apply returns.
  token_version = 1
}

# Queries go straight to the nodes:
#   curl -H "Authorization: Bearer $TOKEN" -d '{"sql": "SELECT 42"}' \
#     ${duckfleet_cluster.analytics.primary_endpoint}/v1/query
output "dashboards_token" {
  value     = duckfleet_user.dashboards.token
  sensitive = true
}
