# The fleet that `make demo` applies: one cluster with a primary and a
# replica on the two local agents. The provider reads DUCKFLEET_ENDPOINT
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
