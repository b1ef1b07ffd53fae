"""Measurement: audiences exported with a control group, and what each action changed."""
