"""Each web process loads the local embedding model as it starts, not on its first search."""

from ai.providers.registry import get_provider
from ai.warm import warm_local_model


def test_the_local_model_is_loaded_in_the_background_at_start(settings):
    settings.AI_PROVIDER = "local"
    get_provider().__dict__.pop("_model", None)  # as in a fresh process

    thread = warm_local_model()

    assert thread is not None and thread.daemon
    thread.join(timeout=120)
    assert "_model" in get_provider().__dict__


def test_nothing_is_loaded_for_openai(settings):
    settings.AI_PROVIDER = "openai"
    assert warm_local_model() is None
