"""OpenRouter tool: payloads, the judge's image data URL, parsing, usage/cost, the corrective retry."""

from __future__ import annotations

import base64
import io
import json
import logging

import httpx
import pytest
import respx
from PIL import Image

from app.errors import ProviderError, ProviderNotConfigured, ValidationFailed
from app.models.llm_models import JudgeOutput, PairwiseOutput, PromptGenOutput, strict_json_schema
from app.models.provider_models import ImageInput, LLMRequest
from app.tools.openrouter_tool import OpenRouterTool
from tests.provider_fakes import (
    OPENROUTER_KEY,
    OPENROUTER_URL,
    FakeSleep,
    b64,
    chat_completion,
    image_bytes,
    make_settings,
    openrouter_error,
    router,
    sent_json,
    transport_for,
)

CHAT_URL = f"{OPENROUTER_URL}/chat/completions"
BLOCKS = {
    "subject": "a red fox curled up asleep in fresh snow",
    "style": "natural wildlife photograph",
    "composition": "fox on the left third, empty snow to the right",
    "lighting": "soft blue dawn light",
    "camera": "300mm telephoto, eye level",
    "constraints": "sharp fur detail",
    "negative_constraints": "people, text",
}
GOOD_GEN = json.dumps({"blocks": BLOCKS})
GOOD_JUDGE = json.dumps(
    {"score": 72, "notes": "Fox reads well; light too warm.", "strengths": ["subject"], "weaknesses": ["lighting"]}
)  # fmt: skip


@pytest.fixture
def mock() -> respx.MockRouter:
    return router()


def make_tool(mock: respx.MockRouter, **overrides: object) -> OpenRouterTool:
    return OpenRouterTool(
        make_settings(**overrides), transport=transport_for(mock), sleep=FakeSleep()
    )


def gen_request() -> LLMRequest:
    return LLMRequest(
        role="prompt_gen",
        system="You write image prompts.",
        user="Goal: a sleeping fox",
        output=PromptGenOutput,
        temperature=0.5,
        max_tokens=900,
    )


def judge_request(png: bytes) -> LLMRequest:
    return LLMRequest(
        role="judge",
        system="You judge images.",
        user="Judge this image against the goal.",
        output=JudgeOutput,
        images=[ImageInput(data=png, mime="image/png")],
    )


def test_prompt_gen_payload_and_headers(mock):
    route = mock.post(CHAT_URL).respond(200, json=chat_completion(GOOD_GEN))
    make_tool(mock).complete(gen_request())

    request = route.calls.last.request
    assert request.headers["authorization"] == f"Bearer {OPENROUTER_KEY}"
    assert request.headers["http-referer"] == "https://github.com/sfumato-app/sfumato"
    assert request.headers["x-openrouter-title"] == "SFUMATO"
    assert "x-title" not in request.headers
    body = sent_json(route)
    assert body["model"] == "x-ai/grok-4.3"
    assert body["messages"] == [
        {"role": "system", "content": "You write image prompts."},
        {"role": "user", "content": "Goal: a sleeping fox"},
    ]
    assert body["response_format"] == {
        "type": "json_schema",
        "json_schema": {
            "name": "prompt_gen",
            "strict": True,
            "schema": strict_json_schema(PromptGenOutput),
        },
    }
    assert (body["temperature"], body["max_completion_tokens"]) == (0.5, 900)
    assert "max_tokens" not in body
    assert body["reasoning"] == {"effort": "low"}


def test_reasoning_is_left_out_when_not_configured(mock):
    route = mock.post(CHAT_URL).respond(200, json=chat_completion(GOOD_GEN))
    make_tool(mock, openrouter_reasoning_effort="").complete(gen_request())

    assert "reasoning" not in sent_json(route)


def test_judge_sends_the_image_as_a_data_url_to_the_judge_model(mock):
    png = image_bytes("PNG")
    route = mock.post(CHAT_URL).respond(
        200, json=chat_completion(GOOD_JUDGE, model="x-ai/grok-4.7")
    )
    result = make_tool(mock).complete(judge_request(png))

    body = sent_json(route)
    assert body["model"] == "x-ai/grok-4.7"
    assert body["messages"][1]["content"] == [
        {"type": "text", "text": "Judge this image against the goal."},
        {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{b64(png)}"}},
    ]
    assert isinstance(result.data, JudgeOutput)
    assert result.data.score == 72


@pytest.mark.parametrize(
    ("fmt", "mime", "size", "sent_mime"),
    [
        ("WEBP", "image/webp", (40, 30), "image/jpeg"),
        ("PNG", "image/png", (3000, 1000), "image/jpeg"),
    ],
)
def test_judge_image_is_made_png_or_jpeg_and_not_too_big(mock, fmt, mime, size, sent_mime):
    route = mock.post(CHAT_URL).respond(200, json=chat_completion(GOOD_JUDGE))
    request = judge_request(image_bytes(fmt, size=size))
    request.images = [ImageInput(data=image_bytes(fmt, size=size), mime=mime)]
    make_tool(mock).complete(request)

    url = sent_json(route)["messages"][1]["content"][1]["image_url"]["url"]
    assert url.startswith(f"data:{sent_mime};base64,")
    with Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1]))) as sent:
        assert max(sent.size) <= 2048


def test_success_is_parsed_with_usage_cost_model_and_latency(mock):
    mock.post(CHAT_URL).respond(200, json=chat_completion(GOOD_GEN, model="x-ai/grok-4.3-0522"))
    result = make_tool(mock).complete(gen_request())

    assert isinstance(result.data, PromptGenOutput)
    assert result.data.blocks.subject == BLOCKS["subject"]
    assert result.model == "x-ai/grok-4.3-0522"
    assert (result.usage.prompt_tokens, result.usage.completion_tokens) == (420, 96)
    assert result.usage.cost_usd == pytest.approx(0.00077)
    assert result.latency_ms >= 0


def test_missing_cost_is_none_not_zero(mock):
    usage = {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}
    mock.post(CHAT_URL).respond(200, json=chat_completion(GOOD_GEN, usage=usage))

    assert make_tool(mock).complete(gen_request()).usage.cost_usd is None


def test_code_fenced_json_is_accepted(mock):
    mock.post(CHAT_URL).respond(200, json=chat_completion(f"```json\n{GOOD_GEN}\n```"))

    assert isinstance(make_tool(mock).complete(gen_request()).data, PromptGenOutput)


def test_bad_json_gets_one_corrective_retry(mock):
    route = mock.post(CHAT_URL)
    route.side_effect = [
        httpx.Response(200, json=chat_completion('{"blocks": {"subject": "fox"')),
        httpx.Response(200, json=chat_completion(GOOD_GEN)),
    ]
    result = make_tool(mock).complete(gen_request())

    assert route.call_count == 2
    messages = sent_json(route)["messages"]
    assert messages[2] == {"role": "assistant", "content": '{"blocks": {"subject": "fox"'}
    assert messages[3]["role"] == "user" and "not valid JSON" in messages[3]["content"]
    assert result.usage.prompt_tokens == 840  # both calls are paid for
    assert result.usage.cost_usd == pytest.approx(0.00154)


def test_off_schema_answer_names_the_problem_in_the_correction(mock):
    off = json.dumps({"score": 150, "notes": "great", "strengths": [], "weaknesses": []})
    route = mock.post(CHAT_URL)
    route.side_effect = [
        httpx.Response(200, json=chat_completion(off)),
        httpx.Response(200, json=chat_completion(GOOD_JUDGE)),
    ]
    result = make_tool(mock).complete(judge_request(image_bytes()))

    correction = sent_json(route)["messages"][-1]["content"]
    assert "score" in correction and "schema" in correction
    assert result.data.score == 72


def test_two_bad_answers_are_a_bad_response(mock):
    route = mock.post(CHAT_URL).respond(200, json=chat_completion("I think the image is nice."))

    with pytest.raises(ProviderError) as caught:
        make_tool(mock).complete(gen_request())
    assert caught.value.code == "provider_bad_response"
    assert route.call_count == 2


@pytest.mark.parametrize(
    "first",
    [
        chat_completion(""),
        chat_completion(None, finish_reason="length"),
        {**chat_completion(""), "error": {"code": 502, "message": "upstream died mid-stream"}},
    ],
)
def test_empty_or_errored_200_is_retried_once(mock, first):
    route = mock.post(CHAT_URL)
    route.side_effect = [
        httpx.Response(200, json=first),
        httpx.Response(200, json=chat_completion(GOOD_GEN)),
    ]

    assert isinstance(make_tool(mock).complete(gen_request()).data, PromptGenOutput)
    assert route.call_count == 2
    assert sent_json(route)["messages"][-1]["role"] == "user"


def test_refusal_is_content_blocked_without_retry(mock):
    body = chat_completion(None, finish_reason="content_filter")
    route = mock.post(CHAT_URL).respond(200, json=body)

    with pytest.raises(ProviderError) as caught:
        make_tool(mock).complete(judge_request(image_bytes()))
    assert caught.value.code == "content_blocked"
    assert route.call_count == 1


@pytest.mark.parametrize(
    ("status", "code"),
    [(401, "provider_auth"), (402, "provider_quota"), (400, "unsupported_param")],
)
def test_http_errors_are_mapped(mock, status, code):
    route = mock.post(CHAT_URL).respond(status, json=openrouter_error(status, "nope"))

    with pytest.raises(ProviderError) as caught:
        make_tool(mock).complete(gen_request())
    assert caught.value.code == code
    assert route.call_count == 1


def test_moderation_403_is_content_blocked(mock):
    body = openrouter_error(403, "Your input was flagged", reasons=["sexual"], flagged_input="x")
    mock.post(CHAT_URL).respond(403, json=body)

    with pytest.raises(ProviderError) as caught:
        make_tool(mock).complete(gen_request())
    assert caught.value.code == "content_blocked"


def test_rate_limit_is_retried_after_the_asked_wait(mock):
    sleep = FakeSleep()
    route = mock.post(CHAT_URL)
    route.side_effect = [
        httpx.Response(429, headers={"Retry-After": "3"}, json=openrouter_error(429, "slow down")),
        httpx.Response(200, json=chat_completion(GOOD_GEN)),
    ]
    tool = OpenRouterTool(make_settings(), transport=transport_for(mock), sleep=sleep)

    assert isinstance(tool.complete(gen_request()).data, PromptGenOutput)
    assert sleep.waits == [3.0]


def test_missing_key_is_a_clear_error_and_sends_nothing(mock):
    route = mock.post(CHAT_URL).respond(200, json=chat_completion(GOOD_GEN))

    with pytest.raises(ProviderNotConfigured) as caught:
        make_tool(mock, openrouter_api_key=None).complete(gen_request())
    assert "OPENROUTER_API_KEY" in caught.value.message
    assert route.call_count == 0


def test_pairwise_sends_two_labelled_images_in_order(mock):
    first, second = image_bytes("PNG", size=(8, 6)), image_bytes("PNG", size=(9, 6))
    answer = json.dumps({"preferred": "second", "reason": "sharper"})
    route = mock.post(CHAT_URL).respond(200, json=chat_completion(answer, model="x-ai/grok-4.7"))
    request = LLMRequest(
        role="pairwise",
        system="You compare images.",
        user="Which is better?",
        output=PairwiseOutput,
        images=[
            ImageInput(data=first, mime="image/png"),
            ImageInput(data=second, mime="image/png"),
        ],
    )
    result = make_tool(mock).complete(request)

    body = sent_json(route)
    assert body["model"] == "x-ai/grok-4.7"
    assert body["messages"][1]["content"] == [
        {"type": "text", "text": "Which is better?"},
        {"type": "text", "text": "FIRST IMAGE:"},
        {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{b64(first)}"}},
        {"type": "text", "text": "SECOND IMAGE:"},
        {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{b64(second)}"}},
    ]
    assert result.data.preferred == "second"


def test_models_per_role_come_from_settings(mock):
    tool = make_tool(mock, model_judge="x-ai/grok-4.3")

    assert tool.models == {
        "prompt_gen": "x-ai/grok-4.3",
        "revise": "x-ai/grok-4.3",
        "judge": "x-ai/grok-4.3",
        "recommend": "x-ai/grok-4.3",
        "checklist": "x-ai/grok-4.3",
        "pairwise": "x-ai/grok-4.7",
    }
    with pytest.raises(ValidationFailed):
        tool.model_for("poet")


def test_logs_carry_neither_key_nor_image(mock, caplog):
    png = image_bytes("PNG", size=(64, 64))
    mock.post(CHAT_URL).respond(200, json=chat_completion(GOOD_JUDGE))
    with caplog.at_level(logging.DEBUG, logger="sfumato"):  # whatever level a CLI test left
        make_tool(mock).complete(judge_request(png))

    text = caplog.text + " ".join(str(r.__dict__) for r in caplog.records)
    assert any(r.getMessage() == "outside call" for r in caplog.records)
    assert OPENROUTER_KEY not in text
    assert b64(png)[:40] not in text
