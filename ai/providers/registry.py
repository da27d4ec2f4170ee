"""Every AI provider by name. A new provider is a module in this package and one line here."""

from __future__ import annotations

import functools

from django.conf import settings

from ai.providers import ModelSpec, Provider
from ai.providers.local import LocalProvider
from ai.providers.openai import OpenAIProvider

PROVIDERS: dict[str, type[Provider]] = {
    LocalProvider.name: LocalProvider,
    OpenAIProvider.name: OpenAIProvider,
}


def provider_class(name: str) -> type[Provider]:
    """The provider called `name`; raises ValueError for an unknown one."""
    try:
        return PROVIDERS[name]
    except KeyError:
        known = ", ".join(repr(known) for known in PROVIDERS)
        raise ValueError(f"unknown provider {name!r}: use one of {known}") from None


def configured_spec() -> ModelSpec:
    """The model the settings name (AI_PROVIDER and its settings); used until `manage.py
    reembed` makes another one active."""
    return provider_class(settings.AI_PROVIDER).configured_spec()


def spec_check(spec: ModelSpec) -> None:
    """Raise ValueError when no provider here can serve `spec`."""
    provider_class(spec.provider).check(spec)
    if not 1 <= spec.dimensions <= 4000:
        raise ValueError("dimensions must be between 1 and 4000")


@functools.cache
def _provider(spec: ModelSpec, *_settings: object) -> Provider:
    spec_check(spec)
    return provider_class(spec.provider).from_spec(spec)


def get_provider(spec: ModelSpec | None = None) -> Provider:
    """The provider of `spec` (default: the configured model), built once per process and per
    configuration."""
    spec = spec or configured_spec()
    return _provider(spec, *provider_class(spec.provider).settings_key())
