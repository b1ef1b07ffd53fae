"""One folder per pipeline stage: its assets, checks, logic, jobs, sensors and schedules.

Stages in data order: ingestion, cleaning, features, value, segments, privacy. A stage imports
``amazing_assets.lib`` and earlier stages only; a test enforces it.
"""
