"""Pattern Lab: one GitHub-statistics job in Prefect's four dataflow patterns, compared."""
