"""Cleaning: the rules that keep, drop or quarantine each raw row, pseudonymisation in the same
tasks; clean_events and event_quarantine."""
