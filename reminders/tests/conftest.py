import pytest


@pytest.fixture
def berliner(user):
    """The test's user, living in Berlin."""
    user.time_zone = "Europe/Berlin"
    user.save()
    return user
