"""The image provider registry: provider name -> client, and provider name -> capabilities.

Adding a provider is one new tool file and one line in `PROVIDER_CLASSES`; nothing else branches on
provider names.
"""

from __future__ import annotations

from typing import Any, ClassVar, Protocol

import httpx

from app.errors import ProviderNotConfigured, ValidationFailed
from app.models.provider_models import ImageProvider, ProviderCapabilities
from app.settings import Settings
from app.tools.demo_image_tool import DemoImageTool
from app.tools.grok_image_tool import GrokImageTool
from app.tools.nano_banana_image_tool import NanoBananaImageTool
from app.tools.openai_image_tool import OpenAIImageTool


class RegisteredProvider(ImageProvider, Protocol):
    """What a provider class offers the registry: its name, its key's variable, its settings-built
    client and capabilities, besides the client's own `ImageProvider` methods."""

    name: ClassVar[str]
    key_env: ClassVar[str | None]

    def __init__(
        self, settings: Settings, transport: httpx.BaseTransport | None = None
    ) -> None: ...

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


class ProviderRegistry:
    """Holds one client per provider (`providers`) and their capabilities (`capabilities`)."""

    def __init__(self, settings: Settings, transport: httpx.BaseTransport | None = None) -> None:
        self.settings = settings
        self.providers: dict[str, RegisteredProvider] = {
            name: cls(settings, transport=transport) for name, cls in PROVIDER_CLASSES.items()
        }
        self.capabilities: dict[str, ProviderCapabilities] = {
            name: cls.capabilities(settings) for name, cls in PROVIDER_CLASSES.items()
        }

    def names(self) -> list[str]:
        return list(self.providers)

    def missing_key(self, name: str) -> str | None:
        """The variable to set before `name` can be used, or None when it is ready."""
        env = PROVIDER_CLASSES[self._known(name)].key_env
        return env if env and not self.settings.key_for(env) else None

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

    def _known(self, name: str) -> str:
        if name not in PROVIDER_CLASSES:
            raise ValidationFailed(
                f"Unknown provider '{name}'. Choose one of: {', '.join(PROVIDER_CLASSES)}.",
                details={"field": "provider", "allowed": list(PROVIDER_CLASSES)},
            )
        return name
