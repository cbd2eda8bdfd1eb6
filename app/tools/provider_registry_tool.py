"""The image provider registry: provider name -> client, and provider name -> capabilities.

Adding a provider is one new tool file (its client and its settings model) and one line in
`PROVIDER_CLASSES`; nothing else branches on provider names. Its key reaches the scrubber, the
provider list and the key checks from here (`settings_models`), not from `Settings` fields.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, Protocol

from app.errors import ProviderNotConfigured, ValidationFailed
from app.models.provider_models import ImageProvider, ProviderCapabilities
from app.settings import ProviderSettings, Settings
from app.tools.demo_image_tool import DemoImageTool
from app.tools.grok_image_tool import GrokImageTool
from app.tools.http_tool import Transport
from app.tools.nano_banana_image_tool import NanoBananaImageTool
from app.tools.openai_image_tool import OpenAIImageTool


class RegisteredProvider(ImageProvider, Protocol):
    """What a provider class offers the registry: its name, its own settings model (None: it has
    none, and needs no key) and that model's key variable, its settings-built client and
    capabilities, besides the client's own `ImageProvider` methods."""

    name: ClassVar[str]
    settings_model: ClassVar[type[ProviderSettings] | None]
    key_env: ClassVar[str | None]

    def __init__(self, settings: Settings, transport: Transport = None) -> None: ...

    @classmethod
    def capabilities(cls, settings: Settings) -> ProviderCapabilities: ...


PROVIDER_CLASSES: dict[str, type[RegisteredProvider]] = {
    "demo": DemoImageTool,
    "openai": OpenAIImageTool,
    "grok": GrokImageTool,
    "nano_banana": NanoBananaImageTool,
}
# Provider name -> the variable that holds its key (None: needs no key), from each provider's class.
PROVIDER_KEY_ENV: dict[str, str | None] = {n: c.key_env for n, c in PROVIDER_CLASSES.items()}
ProviderClasses = Mapping[str, type[RegisteredProvider]]


def settings_models(classes: ProviderClasses = PROVIDER_CLASSES) -> list[type[ProviderSettings]]:
    """Every registered provider's own settings model: what `Settings.secret_values` and
    `Settings.short_keys` take so that every provider's key is redacted and checked."""
    return [c.settings_model for c in classes.values() if c.settings_model is not None]


class ProviderRegistry:
    """Holds one client per provider (`providers`) and their capabilities (`capabilities`)."""

    def __init__(
        self,
        settings: Settings,
        transport: Transport = None,
        *,
        classes: ProviderClasses = PROVIDER_CLASSES,
    ) -> None:
        self.settings = settings
        self.classes = classes
        self.providers: dict[str, RegisteredProvider] = {
            name: cls(settings, transport=transport) for name, cls in classes.items()
        }
        self.capabilities: dict[str, ProviderCapabilities] = {
            name: cls.capabilities(settings) for name, cls in classes.items()
        }

    def names(self) -> list[str]:
        return list(self.providers)

    def missing_key(self, name: str) -> str | None:
        """The variable to set before `name` can be used, or None when it is ready."""
        model = self.classes[self._known(name)].settings_model
        if model is None or self.settings.provider(model).key():
            return None
        return model.key_env()

    def get(self, name: str) -> RegisteredProvider:
        """The client for a usable provider; a clear 4xx for unknown or unconfigured ones."""
        missing = self.missing_key(name)
        if missing:
            raise ProviderNotConfigured(
                f"Provider '{name}' needs {missing}: set it in .env and restart, or use 'demo'.",
                details={"provider": name, "missing_key": missing},
            )
        return self.providers[name]

    def describe(self) -> list[dict[str, Any]]:
        """Every provider with its availability and capabilities, for `GET /api/providers`."""
        return [
            {
                "name": name,
                "label": caps.label,
                "description": caps.description,
                "is_demo": caps.is_demo,
                "available": self.missing_key(name) is None,
                "missing_key": self.missing_key(name),
                "capabilities": caps.model_dump(),
            }
            for name, caps in self.capabilities.items()
        ]

    def close(self) -> None:
        for provider in self.providers.values():
            provider.close()

    def secret_values(self) -> list[str]:
        """Every configured key, this registry's providers' included (for the scrubber)."""
        return self.settings.secret_values(settings_models(self.classes))

    def _known(self, name: str) -> str:
        if name not in self.classes:
            raise ValidationFailed(
                f"Unknown provider '{name}'. Choose one of: {', '.join(self.classes)}.",
                details={"field": "provider", "allowed": list(self.classes)},
            )
        return name
