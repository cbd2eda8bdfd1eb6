"""A provider owns its settings (issue 20): its key variable, base URL and model live in its own
settings model next to its tool; the scrubber, the key checks, the docs' key table, `.env.example`
and the CLI's provider list derive from the registry; the variable names users' .env files hold
still load. A fake provider registered in a test registry is scrubbed, listed and priced without
a line of `Settings`."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

import pytest
from click.testing import CliRunner
from pydantic_settings import SettingsConfigDict

from app.cli import main
from app.errors import ProviderNotConfigured
from app.models.domain_models import Session
from app.models.price_models import DEFAULT_PRICE_TABLE
from app.models.provider_models import (
    GeneratedImage,
    ImageProvider,
    ProviderCapabilities,
    RenderedPrompt,
    SourceImage,
)
from app.services.cost_service import CostService
from app.settings import ProviderSettings, Settings
from app.tools.grok_image_tool import GrokImageSettings
from app.tools.nano_banana_image_tool import NanoBananaImageSettings
from app.tools.openai_image_tool import OpenAIImageSettings
from app.tools.provider_registry_tool import (
    PROVIDER_CLASSES,
    PROVIDER_KEY_ENV,
    ProviderRegistry,
    settings_models,
)
from app.utils.scrub import REDACTED, register_secrets, scrub_text
from scripts import env_example

DOCS = Path(__file__).resolve().parent.parent / "docs" / "providers.md"
KEYED = {name: env for name, env in PROVIDER_KEY_ENV.items() if env}
ACME_KEY = "acme-k3y-0123456789abcdefghij"


class AcmeImageSettings(ProviderSettings):
    """A provider the app has never heard of: ACME_IMAGE_API_KEY, ACME_IMAGE_MODEL."""

    model_config = SettingsConfigDict(env_prefix="ACME_IMAGE_")

    base_url: str = "https://acme.example/v1"
    model: str = "acme-paint-1"


class AcmeImageTool:
    """Its client: the registry's contract and nothing else (it never draws in these tests)."""

    name: ClassVar[str] = "acme"
    settings_model: ClassVar[type[ProviderSettings] | None] = AcmeImageSettings
    key_env: ClassVar[str | None] = AcmeImageSettings.key_env()

    def __init__(self, settings: Settings, transport: Any = None) -> None:
        self.own = settings.provider(AcmeImageSettings)

    @classmethod
    def capabilities(cls, settings: Settings) -> ProviderCapabilities:
        model = settings.provider(AcmeImageSettings).model
        return ProviderCapabilities(
            name=cls.name, label="Acme", key_env=cls.key_env, models=[model]
        )

    def generate(
        self, prompt: RenderedPrompt, params: dict[str, Any], sources: Sequence[SourceImage] = ()
    ) -> GeneratedImage:
        raise AssertionError("not called")

    def close(self) -> None:
        pass


WITH_ACME = {**PROVIDER_CLASSES, "acme": AcmeImageTool}


def acme_settings(tmp_path: Path, **values: Any) -> Settings:
    return Settings(_env_file=None, storage_dir=tmp_path / "s", **values)


@pytest.mark.parametrize("provider", sorted(KEYED))
def test_the_scrubber_knows_every_registered_provider_s_key(
    provider: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = f"zz{provider}-0123456789abcdefghijklmnop"
    monkeypatch.setenv(KEYED[provider], key)
    settings = Settings(_env_file=None)
    assert key in settings.secret_values(settings_models())
    assert key in settings.secret_values()  # by default: every provider settings model defined
    assert PROVIDER_CLASSES[provider].key_env == KEYED[provider]
    model = PROVIDER_CLASSES[provider].settings_model
    assert model is not None and model.key_env() == KEYED[provider]


def test_the_docs_key_table_is_the_registry() -> None:
    rows = re.findall(r"^\| `([A-Z_]+)` \| provider `([a-z_]+)` \|", DOCS.read_text(), re.M)
    assert {name: env for env, name in rows} == KEYED


def test_the_existing_variable_names_still_load(monkeypatch: pytest.MonkeyPatch) -> None:
    values = {
        (OpenAIImageSettings, "base_url", "OPENAI_IMAGE_BASE_URL"): "https://openai.example/v1",
        (OpenAIImageSettings, "model", "OPENAI_IMAGE_MODEL"): "gpt-image-2.5-sunburst",
        (GrokImageSettings, "base_url", "GROK_BASE_URL"): "https://grok.example/v1",
        (GrokImageSettings, "image_model", "GROK_IMAGE_MODEL"): "grok-imagine-image-2.0",
        (GrokImageSettings, "response_format", "GROK_RESPONSE_FORMAT"): "url",
        (NanoBananaImageSettings, "base_url", "NANO_BANANA_BASE_URL"): "https://g.example/v1b",
        (NanoBananaImageSettings, "model", "NANO_BANANA_MODEL"): "gemini-3-pro-image",
        (GrokImageSettings, "api_key", "GROK_API_KEY"): "   ",  # blank: no key
    }
    for (_, _, env), value in values.items():
        monkeypatch.setenv(env, value)
    settings = Settings(_env_file=None)
    for (model, field, env), value in values.items():
        assert model.env_name(field) == env
        got = getattr(settings.provider(model), field)
        assert (got is None) if not value.strip() else (got == value), env


def test_a_provider_s_values_come_from_the_env_file_and_keywords_win(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("GROK_IMAGE_MODEL=grok-imagine-image-pro\nGROK_BASE_URL=https://a/v1\n")
    settings = Settings(_env_file=env_file, grok_base_url="https://b/v1")
    own = settings.provider(GrokImageSettings)
    assert (own.image_model, own.base_url) == ("grok-imagine-image-pro", "https://b/v1")
    assert Settings(_env_file=None).provider(GrokImageSettings).image_model == "grok-imagine-image"


def test_env_example_lists_every_provider_s_variables() -> None:
    text = env_example.render()
    for model in settings_models():
        for field in model.model_fields:
            assert re.search(rf"^#? ?{model.env_name(field)}=", text, re.M), field


def test_the_cli_lists_every_registered_provider() -> None:
    text = " ".join(CliRunner().invoke(main, ["run", "--help"]).output.split())
    assert f"Image provider: {', '.join(PROVIDER_CLASSES)}" in text


def test_every_registered_class_is_an_image_provider() -> None:
    """The registry is typed by the ImageProvider protocol; its members exist on each class."""
    wanted = [n for n in vars(ImageProvider) if not n.startswith("_")]
    assert {"generate", "close"} <= set(wanted)
    for name, cls in PROVIDER_CLASSES.items():
        assert cls.name == name
        assert all(callable(getattr(cls, member, None)) for member in wanted), name


def test_a_new_provider_s_key_is_scrubbed_without_touching_settings(tmp_path: Path) -> None:
    assert "acme_image_api_key" not in Settings.model_fields
    registry = ProviderRegistry(
        acme_settings(tmp_path, acme_image_api_key=ACME_KEY), classes=WITH_ACME
    )
    assert ACME_KEY in registry.secret_values()
    register_secrets(registry.secret_values())
    assert ACME_KEY[:20] not in scrub_text(f"acme said: bad key {ACME_KEY[:20]}...")
    assert REDACTED in scrub_text(f"echo {ACME_KEY.upper()}")


def test_a_new_provider_is_listed_and_its_key_checked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bare = ProviderRegistry(acme_settings(tmp_path), classes=WITH_ACME)
    acme = next(p for p in bare.describe() if p["name"] == "acme")
    assert (acme["available"], acme["missing_key"]) == (False, "ACME_IMAGE_API_KEY")
    with pytest.raises(ProviderNotConfigured):
        bare.get("acme")
    monkeypatch.setenv("ACME_IMAGE_API_KEY", ACME_KEY)
    monkeypatch.setenv("ACME_IMAGE_MODEL", "acme-paint-2")
    keyed = ProviderRegistry(acme_settings(tmp_path), classes=WITH_ACME)
    assert keyed.names()[-1] == "acme" and keyed.missing_key("acme") is None
    assert isinstance(keyed.get("acme"), AcmeImageTool)
    assert keyed.capabilities["acme"].models == ["acme-paint-2"]


def test_a_new_provider_is_priced_from_its_price_rows(tmp_path: Path) -> None:
    table = DEFAULT_PRICE_TABLE.model_dump(mode="json")
    row = {"provider": "acme", "model": "acme-paint-1", "usd_per_image": 0.07}
    table["image"].append({**row, "checked": "2026-12-01", "source": "acme.example/pricing"})
    prices = tmp_path / "prices.json"
    prices.write_text(json.dumps(table))
    settings = acme_settings(tmp_path, price_table_file=prices)
    costs = CostService(settings, {}, "offline")
    session = Session(session_id="s1", user_goal="a fox", image_provider="acme")
    assert costs.prices(session, "acme-paint-1").per_image == 0.07
