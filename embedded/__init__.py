"""The embedded stack: Postgres + pgvector and Redis from PyPI packages, run under honcho."""
