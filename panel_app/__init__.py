"""The business users' app: segments, profiles, actions, explorer, migration, one customer.

Served with ``panel serve panel_app/app.py``; reads the warehouse only, never imports Dagster.
"""
