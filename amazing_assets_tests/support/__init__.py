"""Helpers shared by the tests: pipeline runs, servers, and the generators that only tests
and benchmarks use."""
