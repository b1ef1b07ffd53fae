"""Dagster resources: Spark session, warehouse (storage), pseudonymisation key, settings."""
