# A cluster is imported by its name.
terraform import duckfleet_cluster.analytics analytics
