"""Amazing Segments: marketplace event logs → clean per-user features → customer segments.

The Dagster code location is :mod:`amazing_assets.definitions`. Each pipeline stage has one
folder under :mod:`amazing_assets.defs` (its assets, checks, logic, jobs and sensors); shared
plumbing is :mod:`amazing_assets.lib`, and :mod:`amazing_assets.lib.settings` alone reads the
environment. docs/architecture.md explains the layout and the rules the tests enforce.
"""
