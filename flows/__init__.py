"""Prefect flows: one module per dataflow pattern, the GitHub client and its offline snapshot."""
