"""Provider registry: names map to dotted paths, imported on first use (SDKs load only when needed)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from importlib import import_module

from django.conf import settings

from routing.providers.base import Provider

PROVIDER_PATHS: dict[str, str] = {
    "local": "routing.providers.local.LocalProvider",
    "gemini": "routing.providers.gemini.GeminiProvider",
    "openai": "routing.providers.openai.OpenAIProvider",
    "anthropic": "routing.providers.anthropic.AnthropicProvider",
}
# The setting holding each provider's key: without it the provider is unavailable (and never imported).
PROVIDER_KEY_SETTINGS: dict[str, str] = {
    "gemini": "GEMINI_API_KEY",
    "openai": "OPENAI_API_KEY",
    "anthropic": "ANTHROPIC_API_KEY",
}
_instances: dict[str, Provider] = {}
_overrides: dict[str, Provider] = {}

UNKNOWN_PROVIDER = "Unknown provider {name!r}; known: {known}"


def get_provider(name: str) -> Provider:
    if name in _overrides:
        return _overrides[name]
    if name not in _instances:
        if name not in PROVIDER_PATHS:
            raise KeyError(UNKNOWN_PROVIDER.format(name=name, known=", ".join(sorted(PROVIDER_PATHS))))
        module_path, _, class_name = PROVIDER_PATHS[name].rpartition(".")
        provider: Provider = getattr(import_module(module_path), class_name)()
        _instances[name] = provider
    return _instances[name]


def is_available(name: str) -> bool:
    key_setting = PROVIDER_KEY_SETTINGS.get(name)
    if name not in _overrides and key_setting and not getattr(settings, key_setting, ""):
        return False
    try:
        return get_provider(name).available()
    except KeyError:
        return False


def reset() -> None:
    """Forget constructed providers (their keys are read at construction)."""
    _instances.clear()


@contextmanager
def override_providers(providers: Mapping[str, Provider]) -> Iterator[None]:
    """Serve these instances under these names (tests, benchmarks)."""
    saved = dict(_overrides)
    _overrides.update(providers)
    try:
        yield
    finally:
        _overrides.clear()
        _overrides.update(saved)
