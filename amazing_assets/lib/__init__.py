"""Shared plumbing of every stage: storage, the Delta data source, customer buckets, the Spark
session, partitions and months, table names, metadata helpers, the launch guard, pseudonymisation
and observability. Imports no stage (``amazing_assets.defs``); a test enforces it."""
