# A backup policy is imported as CLUSTER/NAME.
terraform import duckfleet_backup_policy.nightly analytics/nightly
