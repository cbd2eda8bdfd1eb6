"""Money: what a run will cost (before), what it has cost (during and after), and the budget stop.

Prices per call come from what this session has already paid OpenRouter for the same role when it
has (the most honest figure), otherwise from the price table (typical token counts per role times
the model's list price). Images cost the price table's figure unless the provider reported a cost.
The offline stand-in and the demo provider cost nothing.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from app.models.domain_models import Iteration, RoleSpend, Session, Usage
from app.models.price_models import PriceTable
from app.settings import Settings

# Typical tokens (in, out) of one call per role with the shipped prompts (the revise and
# prompt_gen inputs carry the provider's guide). Vision calls include their images: about 1,100
# tokens for the judge's 1024 px copy, so one for the judge and two for a pairwise call.
IMAGE_TOKENS = 1100
TYPICAL_TOKENS: dict[str, tuple[int, int]] = {
    "prompt_gen": (1500, 500),
    "checklist": (700, 450),
    "revise": (2600, 700),
    "judge": (2300 + IMAGE_TOKENS, 600),
    "pairwise": (1200 + 2 * IMAGE_TOKENS, 120),
    "recommend": (1500, 400),
}
RETRY_MARGIN = 0.25  # the high estimate allows a quarter more for retries and long answers


def charge_text(session: Session, role: str, usage: Usage) -> None:
    """Adds one LLM call's usage to the session's totals and to its role's recorded spend."""
    session.total_cost = session.total_cost.plus(usage)
    spend = session.llm_spend.setdefault(role, RoleSpend())
    spend.calls += 1
    if usage.cost_usd is not None:
        spend.calls_with_cost += 1
        spend.usd = round(spend.usd + usage.cost_usd, 6)
        session.cost_usd = round(session.cost_usd + usage.cost_usd, 6)
    if session.run and session.status == "running":
        session.run.spent_usd = round(session.run.spent_usd + (usage.cost_usd or 0.0), 6)


def charge_image(session: Session, usd: float | None) -> None:
    if usd:
        session.cost_usd = round(session.cost_usd + usd, 6)
        if session.run and session.status == "running":
            session.run.spent_usd = round(session.run.spent_usd + usd, 6)


@dataclass
class Prices:
    """Dollars per call of each LLM role and per image, with where each figure came from."""

    per_call: dict[str, float]
    per_image: float
    basis: dict[str, Any]
    # Input images (references, the image being edited) sent with each image request.
    per_input_image: float = 0.0
    sources: int = 0

    def of(self, step: str) -> float:
        """One call of a step; an image's price includes the input images sent with it."""
        if step == "generate":
            return self.per_image + self.sources * self.per_input_image
        return self.per_call.get(step, 0.0)

    def candidate(self) -> float:
        """At most what one candidate costs: a revision asked twice, its image, its judgement."""
        return self.of("revise") * 2 + self.of("generate") + self.of("judge")

    def round(self, candidates: int) -> float:
        """At most what a round costs: its candidates and the two-order pairwise comparison."""
        return candidates * self.candidate() + 2 * self.of("pairwise")

    def spent_on(self, it: Iteration) -> float:
        """What an iteration cost: the reported figures, and these prices where a call reported none."""
        text = it.cost.text.cost_usd
        if text is None:
            text = self.of("revise") + (self.of("judge") if it.judge_score is not None else 0.0)
            text += 2 * self.of("pairwise") if it.pairwise else 0.0
        return text + (it.cost.image_cost_usd or 0.0)


class Budget:
    """A run's spending cap, shared by its concurrent candidates.

    Each round reserves its estimated price before it starts and settles at the real figure
    after; a round that would pass the cap runs with fewer candidates, or not at all.
    """

    def __init__(self, limit_usd: float | None) -> None:
        self.limit = limit_usd
        self.spent = 0.0
        self.reserved = 0.0
        self.refused = False
        self._lock = threading.Lock()

    def reserve(self, usd: float) -> bool:
        with self._lock:
            if self.limit is not None and self.spent + self.reserved + usd > self.limit + 1e-9:
                self.refused = True
                return False
            self.reserved += usd
            return True

    def settle(self, reserved: float, actual: float) -> None:
        with self._lock:
            self.reserved = max(0.0, self.reserved - reserved)
            self.spent += actual

    def affordable(self, prices: Prices, k: int) -> int:
        """How many candidates (with the round's pairwise calls) the budget still pays for."""
        if self.limit is None:
            return k
        left = self.limit - self.spent - self.reserved - 2 * prices.of("pairwise")
        each = prices.candidate()
        if each <= 0:
            return k if left >= -1e-9 else 0
        return max(0, min(k, int((left + 1e-9) // each)))


class CostService:
    def __init__(self, settings: Settings, text_models: dict[str, str], text_mode: str) -> None:
        self.settings = settings
        self.text_models = text_models
        self.text_mode = text_mode

    def table(self) -> PriceTable:
        return self.settings.price_table()

    def image_model(
        self, session: Session, caps_defaults: dict[str, Any], models: list[str]
    ) -> str | None:
        return (
            session.image_params.get("model")
            or caps_defaults.get("model")
            or (models[0] if models else None)
        )

    def prices(
        self, session: Session, image_model: str | None, sources: int | None = None
    ) -> Prices:
        """Prices per call; `sources` is how many input images each image request sends (by
        default the session's references; an edit adds the image being edited)."""
        table = self.table()
        per_call: dict[str, float] = {}
        text_basis: dict[str, Any] = {}
        for role, (tokens_in, tokens_out) in TYPICAL_TOKENS.items():
            spend = session.llm_spend.get(role)
            model = self.text_models.get(role, "")
            if self.text_mode == "offline":
                per_call[role], text_basis[role] = 0.0, {"from": "offline stand-in (free)"}
            elif spend and spend.calls_with_cost:
                per_call[role] = spend.usd / spend.calls_with_cost
                text_basis[role] = {
                    "from": f"this session's {spend.calls_with_cost} recorded call(s)",
                    "model": model,
                }
            elif price := table.text_price(model):
                per_call[role] = (
                    tokens_in * price.usd_per_mtok_in + tokens_out * price.usd_per_mtok_out
                ) / 1_000_000
                text_basis[role] = {
                    "from": f"price table (checked {price.checked}), ~{tokens_in}+{tokens_out} tokens",
                    "model": model,
                }
            else:
                per_call[role] = 0.0
                text_basis[role] = {"from": f"no price known for {model}", "model": model}
            per_call[role] = round(per_call[role], 6)
        entry = table.image_price(session.image_provider, image_model, session.image_params)
        image_basis = {
            "provider": session.image_provider,
            "model": image_model,
            "usd_per_image": entry.usd_per_image if entry else None,
            "checked": str(entry.checked) if entry else None,
            "source": entry.source if entry else "no price known: counted as $0",
        }
        count = len(session.references) if sources is None else max(0, sources)
        per_input, input_basis = self._input_image(session.image_provider, image_model, count)
        return Prices(
            per_call=per_call,
            per_image=entry.usd_per_image if entry else 0.0,
            basis={"text": text_basis, "image": image_basis, "input_images": input_basis},
            per_input_image=per_input,
            sources=count,
        )

    def _input_image(
        self, provider: str, model: str | None, count: int
    ) -> tuple[float, dict[str, Any]]:
        """Dollars per input image, and where the figure comes from."""
        entry = self.table().input_image_price(provider, model)
        usd = entry.usd_per_input_image if entry else 0.0
        return usd, {
            "count": count,
            "usd_per_input_image": entry.usd_per_input_image if entry else None,
            "checked": str(entry.checked) if entry else None,
            "source": entry.source if entry else "no price known: counted as $0",
        }

    def estimate(
        self,
        session: Session,
        image_model: str | None,
        rounds: int,
        candidates: int,
        budget_usd: float | None,
        rejudge: bool,
        sources: int | None = None,
    ) -> dict[str, Any]:
        """`{"usd", "low", "high", "llm_calls", "image_calls", "basis"}` for one optimize run.

        Every candidate's image request sends `sources` input images (by default the session's
        references), each priced by the table's input-image rows."""
        prices = self.prices(session, image_model, sources)
        p = prices.per_call
        image = prices.of("generate")
        round_usd = candidates * (p["revise"] + image + p["judge"]) + 2 * p["pairwise"]
        fixed = p["recommend"] + (p["judge"] if rejudge else 0.0)
        usd = rounds * round_usd + fixed
        low = min(usd, round_usd + fixed)  # the target can be reached in the first round
        # High: every revision asked twice (a "changed nothing" retry), answers a quarter longer.
        high = (usd + rounds * candidates * p["revise"]) * (1 + RETRY_MARGIN)
        notes = []
        if budget_usd is not None:
            usd, low, high = (min(x, budget_usd) for x in (usd, low, high))
            notes.append(f"capped by the run's budget of ${budget_usd:.2f}")
        return {
            "usd": round(usd, 4),
            "low": round(low, 4),
            "high": round(high, 4),
            "llm_calls": rounds * (2 * candidates + 2) + 1 + (1 if rejudge else 0),
            "image_calls": rounds * candidates,
            "basis": {
                **prices.basis,
                "rounds": rounds,
                "candidates": candidates,
                "rejudge_incumbent": rejudge,
                "notes": notes,
            },
        }
