"""Monitoring: whether a month can be compared with the last, and alerts on segment moves."""
