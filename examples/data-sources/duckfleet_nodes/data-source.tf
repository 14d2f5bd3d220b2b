data "duckfleet_nodes" "default_pool" {
  pool = "default"
}

output "free_nodes" {
  value = [for n in data.duckfleet_nodes.default_pool.nodes : n.id if n.cluster == ""]
}
