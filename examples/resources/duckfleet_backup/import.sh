# A backup is imported as CLUSTER/BACKUP_ID.
terraform import duckfleet_backup.before_upgrade analytics/bk-20261125t101500-a1b2c3
