"""The provider registry: a provider is found by name, checks the specs it can serve, and is
built once per configuration."""

import pytest

from ai.providers import ModelSpec, ProviderError, TransientProviderError, provider_error
from ai.providers.registry import PROVIDERS, configured_spec, get_provider, spec_check


def test_every_provider_is_registered_under_its_own_name():
    assert set(PROVIDERS) >= {"local", "openai"}
    for name, provider in PROVIDERS.items():
        assert provider.name == name


def test_the_configured_spec_follows_the_settings(settings):
    settings.AI_PROVIDER = "local"
    assert configured_spec() == ModelSpec("local", "all-MiniLM-L6-v2", 384)
    settings.AI_PROVIDER = "openai"
    settings.OPENAI_EMBEDDING_MODEL, settings.EMBEDDING_DIMENSIONS = "text-embedding-3-large", 256
    assert configured_spec() == ModelSpec("openai", "text-embedding-3-large", 256)


def test_an_unknown_provider_or_a_spec_it_cannot_serve_is_refused():
    with pytest.raises(ValueError, match="unknown provider 'nope'"):
        spec_check(ModelSpec("nope", "m", 8))
    with pytest.raises(ValueError, match="serves only all-MiniLM-L6-v2"):
        spec_check(ModelSpec("local", "all-MiniLM-L6-v2", 768))
    with pytest.raises(ValueError, match="between 1 and 4000"):
        spec_check(ModelSpec("openai", "text-embedding-3-small", 5000))


def test_a_provider_is_built_once_per_configuration(settings):
    spec = ModelSpec("openai", "text-embedding-3-small", 384)
    settings.OPENAI_BASE_URL = "http://127.0.0.1:9/v1"
    first = get_provider(spec)
    assert get_provider(spec) is first
    settings.OPENAI_BASE_URL = "http://127.0.0.1:10/v1"
    assert get_provider(spec) is not first  # a changed setting builds a new client


def test_errors_say_whether_they_are_worth_retrying():
    assert isinstance(provider_error("503", transient=True), TransientProviderError)
    refused = provider_error("400", transient=False)
    assert type(refused) is ProviderError and not refused.transient
