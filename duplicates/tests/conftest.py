import pytest

from duplicates.tests.helpers import set_flag, uncache_flags


@pytest.fixture(autouse=True)
def _clean_state(clean_ai_state):
    uncache_flags()
    yield
    uncache_flags()


@pytest.fixture
def flag_on():
    set_flag(everyone=True)
