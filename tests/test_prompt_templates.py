"""Payload templates render, under StrictUndefined, to valid JSON of each vendor's documented shape."""

from __future__ import annotations

import json
from typing import Any

import pytest
from jinja2 import UndefinedError

from app.models.llm_models import JudgeOutput, strict_json_schema
from app.tools.template_tool import TemplateTool
from tests.provider_fakes import b64, image_bytes

TRICKY = 'Judge "this" image.\nLine two: naïve café, <tags> & {braces}'
SCHEMA = strict_json_schema(JudgeOutput)


def variables(with_image: bool) -> dict[str, Any]:
    image = {"mime": "image/png", "b64": b64(image_bytes())} if with_image else None
    return {
        "model": "some-model",
        "system": "You judge images.",
        "user": TRICKY,
        "schema_name": "judge",
        "schema": SCHEMA,
        "temperature": 0.4,
        "max_tokens": 800,
        "image": image,
    }


def render(name: str, **values: Any) -> dict[str, Any]:
    return json.loads(TemplateTool().render(f"templates/{name}", **values))


@pytest.mark.parametrize("name", ["openai_text_llm.jinja2", "grok_text_llm.jinja2"])
@pytest.mark.parametrize("with_image", [False, True])
def test_openai_shaped_chat_payloads(name, with_image):
    body = render(name, **variables(with_image))

    assert body["model"] == "some-model"
    system, user = body["messages"]
    assert system == {"role": "system", "content": "You judge images."}
    assert user["role"] == "user"
    assert user["content"][0] == {"type": "text", "text": TRICKY}
    assert body["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "judge", "strict": True, "schema": SCHEMA},
    }
    assert body["temperature"] == 0.4
    assert 800 in (body.get("max_tokens"), body.get("max_completion_tokens"))
    if with_image:
        part = user["content"][1]
        assert part["type"] == "image_url"
        assert part["image_url"]["url"] == f"data:image/png;base64,{b64(image_bytes())}"
    else:
        assert len(user["content"]) == 1


@pytest.mark.parametrize("with_image", [False, True])
def test_gemini_generate_content_payload(with_image):
    body = render("gemini_text_llm.jinja2", **variables(with_image))

    assert body["systemInstruction"] == {"parts": [{"text": "You judge images."}]}
    content = body["contents"][0]
    assert content["role"] == "user"
    assert content["parts"][0] == {"text": TRICKY}
    assert body["generationConfig"] == {
        "temperature": 0.4,
        "maxOutputTokens": 800,
        "responseMimeType": "application/json",
        "responseJsonSchema": SCHEMA,
    }
    if with_image:
        assert content["parts"][1] == {
            "inlineData": {"mimeType": "image/png", "data": b64(image_bytes())}
        }
    else:
        assert len(content["parts"]) == 1


@pytest.mark.parametrize(
    "name", ["openai_text_llm.jinja2", "grok_text_llm.jinja2", "gemini_text_llm.jinja2"]
)
def test_a_missing_variable_fails_loudly(name):
    values = variables(False)
    del values["system"]

    with pytest.raises(UndefinedError):
        render(name, **values)
