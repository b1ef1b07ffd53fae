"""Privacy: erasure on request (erasure_audit, its job and request sensor) and retention
(housekeeping)."""
