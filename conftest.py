# Shared fixtures live in tests/fixtures.py so that every app's tests/ folder sees them.
pytest_plugins = ["tests.fixtures"]
