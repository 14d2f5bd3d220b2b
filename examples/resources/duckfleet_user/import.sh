# A user is imported as CLUSTER/USER. Its token cannot be imported (the
# control plane keeps only a hash): change token_version to issue a new one.
terraform import duckfleet_user.dashboards analytics/dashboards
