"""Synthetic REES46-like export generator (demo, tests, benchmarks). Imports nothing else here."""

from amazing_assets.datagen.generator import GenerationResult, GenerationSpec, generate_month

__all__ = ["GenerationResult", "GenerationSpec", "generate_month"]
