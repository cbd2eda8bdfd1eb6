"""`make smoke` also lists the models each configured account can use and flags a missing default."""

from __future__ import annotations

import respx

from scripts import smoke
from tests.provider_fakes import (
    ALL_KEYS,
    GEMINI_URL,
    GROK_URL,
    OPENAI_URL,
    OPENROUTER_URL,
    make_settings,
)


def test_smoke_lists_usable_models_and_flags_a_default_the_account_lacks(capsys):
    with respx.mock(assert_all_called=True) as mock:
        mock.get(f"{OPENROUTER_URL}/models").respond(
            200, json={"data": [{"id": "x-ai/grok-4.3"}, {"id": "openai/gpt-5"}]}
        )
        mock.get(f"{OPENAI_URL}/models").respond(
            200, json={"data": [{"id": "gpt-image-2.5-flare"}, {"id": "gpt-5"}]}
        )
        mock.get(f"{GROK_URL}/image-generation-models").respond(
            200, json={"models": [{"id": "grok-imagine-image"}, {"id": "grok-imagine-image-pro"}]}
        )
        gemini = mock.get(f"{GEMINI_URL}/models").respond(
            200, json={"models": [{"name": "models/gemini-nano-banana-2.1"}]}
        )
        smoke.print_models(make_settings())
    out = capsys.readouterr().out

    assert "MODELS openai       1 usable: gpt-image-2.5-flare" in out
    assert "MODELS grok         2 usable: grok-imagine-image, grok-imagine-image-pro" in out
    assert "default model_prompt_gen = x-ai/grok-4.3: listed" in out
    assert "default model_judge = x-ai/grok-4.7: NOT LISTED" in out
    assert "default nano_banana_model = gemini-nano-banana-2.1: listed" in out
    assert gemini.calls.last.request.headers["x-goog-api-key"]
    assert not any(key in out for key in ALL_KEYS)


def test_smoke_reports_a_listing_that_fails_and_goes_on(capsys):
    with respx.mock(assert_all_called=False) as mock:
        mock.get(url__regex=r".*/models$").respond(401, json={"error": "bad key"})
        mock.get(url__regex=r".*/image-generation-models$").respond(
            200, json={"models": [{"id": "grok-imagine-image"}]}
        )
        smoke.print_models(make_settings())
    out = capsys.readouterr().out

    assert "MODELS openai       could not list: HTTPStatusError" in out
    assert "default grok_image_model = grok-imagine-image: listed" in out
