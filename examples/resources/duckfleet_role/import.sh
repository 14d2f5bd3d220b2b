# A role is imported as CLUSTER/ROLE.
terraform import duckfleet_role.analyst analytics/analyst
