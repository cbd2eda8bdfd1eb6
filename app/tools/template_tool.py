"""Jinja2 prompt templates and provider guides from `app/prompts/`, rendered strictly."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from app.models.domain_models import FLEX_BLOCKS
from app.utils.language import language_name

PROMPTS_DIR = Path(__file__).resolve().parent.parent / "prompts"


class TemplateTool:
    """One strict Environment: a missing variable fails loudly instead of blanking a prompt."""

    def __init__(self, root: Path = PROMPTS_DIR) -> None:
        self.root = root
        self.env = Environment(
            loader=FileSystemLoader(str(root)),
            undefined=StrictUndefined,
            autoescape=False,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=False,
        )
        # `{{ language | language_name }}`: contexts carry codes ("ru"), prompts say "Russian".
        self.env.filters["language_name"] = language_name

    def render(self, name: str, **variables: Any) -> str:
        return self.env.get_template(name).render(**variables).strip()

    def system(self, task: str, language: str = "en", prompt_language: str = "en") -> str:
        """The system prompt every text role shares (sys_cmd_prompt.jinja2): its `task`, the
        FLEX blocks, the person's `language` and the image prompt's."""
        return self.render(
            "sys_cmd_prompt.jinja2",
            task=task,
            blocks=FLEX_BLOCKS,
            language=language,
            prompt_language=prompt_language,
        )

    def guide(self, file_name: str | None) -> str:
        """A provider's prompting guide, or "" when the provider has none (the demo)."""
        return _read_guide(self.root, file_name) if file_name else ""


@cache
def _read_guide(root: Path, file_name: str) -> str:
    path = (root / "providers" / file_name).resolve()
    if path.parent != (root / "providers").resolve() or not path.is_file():
        return ""
    return path.read_text(encoding="utf-8").strip()
