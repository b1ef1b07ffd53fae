"""Ingestion: the month's landing exports become the typed, bucketed raw_events table (and
rejected_events for refused months); the landing sensor."""
