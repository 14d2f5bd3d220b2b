data "duckfleet_backups" "analytics" {
  cluster = "analytics"
}

output "newest_backup" {
  value = try(data.duckfleet_backups.analytics.backups[0].backup_id, null)
}
