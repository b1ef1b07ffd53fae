"""Storage: warehouse locations, Delta tables, Spark data sources and Dagster IO managers."""
