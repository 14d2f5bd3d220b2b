# The fleet that `make demo` applies: one cluster with a primary and a
# replica on the two local agents, and a nightly backup policy. The provider reads DUCKFLEET_ENDPOINT
# and DUCKFLEET_TOKEN from the environment that make demo sets.
terraform {
  required_providers {
    duckfleet = {
      source = "duckfleet/duckfleet"
    }
  }
}

provider "duckfleet" {}

resource "duckfleet_cluster" "quickstart" {
  name         = "quickstart"
  replicas     = 1
  memory_limit = "512MiB"
  threads      = 2
}

resource "duckfleet_role" "analyst" {
  cluster       = duckfleet_cluster.quickstart.name
  name          = "analyst"
  privileges    = ["SELECT", "INSERT", "CREATE"]
  query_timeout = "1m"
}

resource "duckfleet_user" "demo" {
  cluster = duckfleet_cluster.quickstart.name
  name    = "demo"
  roles   = [duckfleet_role.analyst.name]
}

# Backups every night at 03:00 UTC into the cluster's storage (./.demo/storage
# here), as copies of the database file; the newest seven are kept.
resource "duckfleet_backup_policy" "nightly" {
  cluster   = duckfleet_cluster.quickstart.name
  name      = "nightly"
  schedule  = "0 3 * * *"
  keep_last = 7
  format    = "duckdb"
}

data "duckfleet_nodes" "all" {
  depends_on = [duckfleet_cluster.quickstart]
}

output "status" {
  value = duckfleet_cluster.quickstart.status
}

output "primary_endpoint" {
  value = duckfleet_cluster.quickstart.primary_endpoint
}

output "nodes" {
  value = {
    for n in duckfleet_cluster.quickstart.nodes :
    n.id => "${n.role} at ${n.endpoint}: generation ${n.observed_generation}, memory_limit ${n.memory_limit}, threads ${n.threads}"
  }
}

output "agents" {
  value = [for n in data.duckfleet_nodes.all.nodes : "${n.id} (${n.pool}) ${n.cluster == "" ? "free" : "runs ${n.cluster}"}, healthy=${n.healthy}"]
}

output "demo_token" {
  value     = duckfleet_user.demo.token
  sensitive = true
}

output "try_a_query" {
  value = "curl -s -H \"Authorization: Bearer $(terraform output -raw demo_token)\" -d '{\"sql\": \"SELECT 42 AS answer\"}' ${duckfleet_cluster.quickstart.primary_endpoint}/v1/query"
}
