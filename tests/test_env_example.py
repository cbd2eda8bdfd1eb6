"""`.env.example` is generated from `Settings` and cannot drift (issue 17: it set an old image model)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from app.settings import Settings
from app.tools.provider_registry_tool import settings_models

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / ".env.example"


def load_generator():
    spec = importlib.util.spec_from_file_location(
        "env_example", ROOT / "scripts" / "env_example.py"
    )
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(module)
    return module


def test_the_file_is_what_the_generator_writes_and_names_every_setting() -> None:
    generator = load_generator()
    assert generator.problems() == []
    text = EXAMPLE.read_text(encoding="utf-8")
    assert text == generator.render(), "run 'python scripts/env_example.py' and commit .env.example"
    written = {line.lstrip("# ").split("=", 1)[0] for line in text.splitlines() if "=" in line}
    assert {name.upper() for name in generator.all_fields()} <= written
    assert {name.upper() for name in Settings.model_fields} <= written


def everything(settings: Settings) -> dict[str, object]:
    """Every setting's value: Settings' own and each registered provider's settings model's."""
    own = {m.__name__: settings.provider(m).model_dump() for m in settings_models()}
    return settings.model_dump() | own


def test_every_default_written_is_the_real_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Uncomment every line of the example and load it: the settings are exactly the defaults."""
    fields = load_generator().all_fields()
    for name in fields:
        monkeypatch.delenv(name.upper(), raising=False)
    lines = []
    for line in EXAMPLE.read_text(encoding="utf-8").splitlines():
        body = line[2:] if line.startswith("# ") else line
        name, _, value = body.partition("=")
        # An empty value of a setting without a default (budget, price table) means "unset".
        if name.isupper() and (value or fields[name.lower()].default is not None):
            lines.append(body)
    env = tmp_path / "uncommented.env"
    env.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert everything(Settings(_env_file=env)) == everything(Settings(_env_file=None))


def test_a_description_of_a_setting_that_is_gone_is_an_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    generator = load_generator()
    monkeypatch.setattr(generator, "SECTIONS", [("X", [("gone", ["no_such_setting"])])])
    found = generator.problems()
    assert "not a setting any more: no_such_setting" in found
    assert any(p.startswith("no description: host") for p in found)
