"""A provider's key is known everywhere from its registry entry (issue 20): the scrubber redacts
every registered provider's key, docs/providers.md's key table is the registry's, and the
environment variable names users' .env files hold still load."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from app.cli import main
from app.models.provider_models import ImageProvider
from app.settings import Settings, key_names
from app.tools.provider_registry_tool import PROVIDER_CLASSES, PROVIDER_KEY_ENV

DOCS = Path(__file__).resolve().parent.parent / "docs" / "providers.md"
KEYED = {name: env for name, env in PROVIDER_KEY_ENV.items() if env}


@pytest.mark.parametrize("provider", sorted(KEYED))
def test_the_scrubber_knows_every_registered_provider_s_key(
    provider: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = f"zz{provider}-0123456789abcdefghijklmnop"
    monkeypatch.setenv(KEYED[provider], key)
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert KEYED[provider] in key_names()
    assert key in settings.secret_values()
    assert PROVIDER_CLASSES[provider].key_env == KEYED[provider]


def test_the_docs_key_table_is_the_registry() -> None:
    rows = re.findall(r"^\| `([A-Z_]+)` \| provider `([a-z_]+)` \|", DOCS.read_text(), re.M)
    assert {name: env for env, name in rows} == KEYED


def test_the_existing_variable_names_still_load(monkeypatch: pytest.MonkeyPatch) -> None:
    values = {
        "OPENAI_IMAGE_BASE_URL": "https://openai.example/v1",
        "OPENAI_IMAGE_MODEL": "gpt-image-2.5-sunburst",
        "GROK_BASE_URL": "https://grok.example/v1",
        "GROK_IMAGE_MODEL": "grok-imagine-image-2.0",
        "GROK_RESPONSE_FORMAT": "url",
        "NANO_BANANA_BASE_URL": "https://gemini.example/v1beta",
        "NANO_BANANA_MODEL": "gemini-3-pro-image",
        "GROK_API_KEY": "   ",  # blank: no key
    }
    for env, value in values.items():
        monkeypatch.setenv(env, value)
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    for env, value in values.items():
        got = getattr(settings, env.lower())
        assert (got is None) if not value.strip() else (got == value), env


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
