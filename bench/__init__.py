"""Benchmarks: each script prints figures; run them with .venv/bin/python bench/<name>.py."""
