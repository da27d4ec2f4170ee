import pytest


@pytest.fixture(autouse=True)
def _clean_ai_state(clean_ai_state):
    """Every test here starts without breaker, budget and alert state (tests/fixtures.py)."""
