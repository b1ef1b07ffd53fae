"""Segments: embedding, K-Means, named profiles with actions, month-to-month migration, and the
predictor the app uses."""
