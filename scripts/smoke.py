"""Live smoke test against the real providers: `poetry run python scripts/smoke.py` (`make smoke`).

For every image provider whose key is set (environment or .env) it runs one short real session
through the app's HTTP API in-process: create (prompt_gen) -> generate (image + judge) -> one
optimize iteration (revise -> image -> judge). It prints OK/FAILED per provider with timings and
cost, and says plainly which providers it skipped for lack of a key. It spends real money (a few
cents per provider) and is not part of the test suite. It also prints, per configured provider,
the models the account can use where the API lists them, and whether each default is among them,
so a retired default is caught on day one.

Without OPENROUTER_API_KEY the text steps use the offline stand-in (said in the output); with it
but with no image key, the OpenRouter calls are still exercised once against the demo provider.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from anywhere

import httpx
from flask.testing import FlaskClient

from app.main import create_app
from app.settings import Settings
from app.tools.provider_registry_tool import PROVIDER_KEY_ENV, settings_models

GOAL = "a small red paper boat on a calm lake at sunrise, minimalist photograph"
# Cheapest sensible settings per provider: a smoke test checks the wiring, not the quality.
CHEAP_PARAMS: dict[str, dict[str, Any]] = {
    "openai": {"aspect_ratio": "1:1", "quality": "low"},
    "grok": {"aspect_ratio": "1:1", "resolution": "1k"},
    "nano_banana": {"aspect_ratio": "1:1", "resolution": "1K"},
    "demo": {"aspect_ratio": "1:1"},
}


@dataclass
class Outcome:
    provider: str
    ok: bool = False
    steps_ms: dict[str, int] = field(default_factory=dict)
    cost: str = "n/a"
    detail: str = ""


def call(client: FlaskClient, method: str, url: str, outcome: Outcome, step: str, **body: Any):
    """One API call, timed; a non-2xx answer raises with the API's own error message."""
    started = time.perf_counter()
    response = client.open(url, method=method, json=body or None)
    outcome.steps_ms[step] = int((time.perf_counter() - started) * 1000)
    data = response.get_json(silent=True) or {}
    if response.status_code >= 300:
        raise RuntimeError(
            f"{step}: HTTP {response.status_code} {data.get('code')}: {data.get('message')}"
        )
    return data


def first_failure(session: dict[str, Any]) -> str | None:
    for iteration in session.get("iterations", []):
        if iteration.get("status") == "failed" and iteration.get("error"):
            error = iteration["error"]
            return f"iteration {iteration['index']}: {error['code']}: {error['message']}"
    error = session.get("error")
    return f"{error['code']}: {error['message']}" if error else None


def run_one(client: FlaskClient, provider: str) -> Outcome:
    """create -> generate -> one optimize iteration, as a person would through the API."""
    outcome = Outcome(provider)
    try:
        created = call(client, "POST", "/api/sessions", outcome, "prompt_gen", goal=GOAL,
                       provider=provider, image_params=CHEAP_PARAMS[provider], iterations_count=1)  # fmt: skip
        sid = created["session_id"]
        call(client, "POST", f"/api/sessions/{sid}/generate", outcome, "generate+judge", wait=True)
        session = call(client, "POST", f"/api/sessions/{sid}/optimize/run", outcome,
                       "optimize(1)", iterations_count=1, wait=True)  # fmt: skip
        failure = first_failure(session)
        outcome.ok = failure is None and any(it.get("image_url") for it in session["iterations"])
        outcome.detail = failure or describe(session)
        outcome.cost = cost_of(session)
    except Exception as exc:  # a smoke test reports every failure instead of stopping
        outcome.detail = str(exc)[:400]
    return outcome


def describe(session: dict[str, Any]) -> str:
    scores = [it.get("judge_score") for it in session["iterations"]]
    models = {it.get("image_model") for it in session["iterations"]} | {
        it.get("text_model") for it in session["iterations"]
    }
    return f"scores {scores}, models {sorted(m for m in models if m)}"


def cost_of(session: dict[str, Any]) -> str:
    text = (session.get("total_cost") or {}).get("cost_usd")
    images = [it["cost"].get("image_cost_usd") for it in session["iterations"] if it.get("cost")]
    known = [c for c in images if c is not None]
    parts = [f"text ${text:.4f}" if text is not None else "text cost not reported"]
    parts.append(f"images ${sum(known):.4f}" if known else "image cost not reported (see usage)")
    return ", ".join(parts)


# Provider -> (base URL setting, key variable, path, auth header, how to read ids, ids that count:
# any containing one of these words).
MODEL_LISTS: dict[str, tuple[str, str, str, str, str, tuple[str, ...]]] = {
    "openrouter": ("openrouter_base_url", "OPENROUTER_API_KEY", "models", "bearer", "data.id", ("x-ai/",)),
    "openai": ("openai_image_base_url", "OPENAI_IMAGE_API_KEY", "models", "bearer", "data.id", ("image",)),
    "grok": ("grok_base_url", "GROK_API_KEY", "image-generation-models", "bearer", "models.id", ("",)),
    "nano_banana": ("nano_banana_base_url", "NANO_BANANA_API_KEY", "models", "goog", "models.name", ("image", "banana")),
}  # fmt: skip
DEFAULTS = {
    "openrouter": ("model_prompt_gen", "model_judge"),
    "openai": ("openai_image_model",),
    "grok": ("grok_image_model",),
    "nano_banana": ("nano_banana_model",),
}
AUTH = {
    "bearer": lambda key: {"Authorization": f"Bearer {key}"},
    "goog": lambda key: {"x-goog-api-key": key},
}


def setting(settings: Settings, name: str) -> Any:
    """A setting by its variable's name in lower case: one of `Settings`' own, or a field of a
    provider's own settings model (`openai_image_base_url` is `OpenAIImageSettings.base_url`)."""
    for model in settings_models():
        field = name.removeprefix(model.env_name("").lower())
        if field != name and field in model.model_fields:
            return getattr(settings.provider(model), field)
    return getattr(settings, name)


def key_for(settings: Settings, env: str | None) -> str | None:
    """The value of a key variable, the image providers' included (None: unset)."""
    return settings.keys(settings_models()).get(env or "")


def listed_models(settings: Settings, provider: str) -> list[str]:
    """The model ids the account can use, as the provider's own listing endpoint says."""
    base, env, path, auth, where, wanted = MODEL_LISTS[provider]
    url = setting(settings, base).rstrip("/") + "/" + path
    response = httpx.get(url, headers=AUTH[auth](key_for(settings, env)), timeout=20)
    response.raise_for_status()
    group, key = where.split(".")
    ids = [str(item.get(key, "")).removeprefix("models/") for item in response.json()[group]]
    return sorted(i for i in ids if any(word in i for word in wanted))


def print_models(settings: Settings) -> None:
    """Per configured provider: the usable models and whether each configured default is one."""
    for provider, (_, env, *_rest) in MODEL_LISTS.items():
        if not key_for(settings, env):
            continue
        try:
            ids = listed_models(settings, provider)
        except Exception as exc:  # report and go on: a listing is informative, not the smoke test
            print(f"MODELS {provider:<12} could not list: {type(exc).__name__}: {str(exc)[:120]}")
            continue
        print(f"MODELS {provider:<12} {len(ids)} usable: {', '.join(ids[:25])}")
        for name in DEFAULTS[provider]:
            default = setting(settings, name)
            state = "listed" if default in ids else "NOT LISTED: retired or not enabled?"
            print(f"       default {name} = {default}: {state}")


def plan(settings: Settings, only: list[str] | None) -> tuple[list[str], dict[str, str]]:
    """Providers to run and, for the others, the variable that is missing."""
    chosen, skipped = [], {}
    for name, env in PROVIDER_KEY_ENV.items():
        if name == "demo" or (only and name not in only):
            continue
        if key_for(settings, env):
            chosen.append(name)
        else:
            skipped[name] = env
    if not chosen and settings.text_mode == "openrouter" and (not only or "demo" in only):
        chosen.append("demo")  # still exercises the real OpenRouter calls once
    return chosen, skipped


def print_report(settings: Settings, outcomes: list[Outcome], skipped: dict[str, str]) -> None:
    text = settings.text_mode
    print(f"text model: {text}" + ("" if text == "openrouter" else
          " (offline stand-in: set OPENROUTER_API_KEY to smoke-test Grok via OpenRouter)"))  # fmt: skip
    for o in outcomes:
        steps = ", ".join(f"{k} {v / 1000:.1f}s" for k, v in o.steps_ms.items())
        print(f"{'OK    ' if o.ok else 'FAILED'} {o.provider:<12} {steps} | {o.cost} | {o.detail}")
    for name, env in skipped.items():
        print(f"SKIP   {name:<12} no key: set {env} in .env to include it")
    if not outcomes:
        print("Nothing to run: no provider key is set.")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", help="provider names to run (default: all with keys)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="sfumato-smoke-") as storage:
        settings = Settings(
            storage_dir=Path(storage),
            demo_step_delay_s=0.0,
            log_level="WARNING",
            allowed_hosts=["localhost"],  # the in-process test client's host name
        )
        chosen, skipped = plan(settings, args.only)
        app = create_app(settings)
        try:
            outcomes = [run_one(app.test_client(), name) for name in chosen]
        finally:
            app.extensions["sfumato_container"].close()
    print_report(settings, outcomes, skipped)
    print_models(settings)
    return 0 if all(o.ok for o in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
