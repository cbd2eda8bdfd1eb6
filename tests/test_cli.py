"""The `sfumato` command line through Click's CliRunner, with OpenRouter (scripted Grok) and the
OpenAI Images API faked at the transport level: a run, a batch with one failing goal, resume,
Ctrl+C, export and re-run, exit codes, and the report files against the schema of issue 12."""

from __future__ import annotations

import _thread
import contextlib
import io
import json
import socket
import threading
import time
import zipfile
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx
from click.testing import CliRunner, Result

from app.cli import Runtime, main, term_safe
from app.main import create_app
from app.server import BoundedWSGIServer
from app.settings import Settings
from app.tools.store_lock_tool import StoreLock, server_url
from tests.conftest import container_of, demo_settings
from tests.grok_script import ScriptedGrok
from tests.provider_fakes import (
    OPENAI_KEY,
    OPENAI_URL,
    OPENROUTER_KEY,
    OPENROUTER_URL,
    image_bytes,
    openai_error,
    openai_image_answer,
)

BLOCKED_WORD = "unicorn"


class GoalAwareGrok(ScriptedGrok):
    """Scripted Grok whose starting prompt names the goal's subject, so a goal can be refused."""

    def prompt_gen(self, body: dict) -> httpx.Response:
        names = ["style", "composition", "lighting", "camera", "constraints"]
        blocks = {n: f"{n} text" for n in names}
        subject = BLOCKED_WORD if BLOCKED_WORD in body["messages"][1]["content"] else "lighthouse"
        blocks.update(subject=f"a {subject} on a cliff", negative_constraints="blur")
        return self._answer({"blocks": blocks})


class FakeOpenAI:
    """The Images API: a different small PNG per call; refuses prompts with the blocked word.

    `on_call` runs before each answer (the Ctrl+C test presses Ctrl+C from there).
    """

    def __init__(self, on_call: Any = None) -> None:
        self.calls = 0
        self.prompts: list[str] = []
        self.on_call = on_call
        self.refuse = True
        self.lock = threading.Lock()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        prompt = json.loads(request.content)["prompt"]
        with self.lock:
            self.calls += 1
            n = self.calls
            self.prompts.append(prompt)
        if self.on_call:
            self.on_call(n)
        if self.refuse and BLOCKED_WORD in prompt:
            refusal = openai_error(
                "Your request was rejected by the safety system.",
                type_="image_generation_user_error",
                code="moderation_blocked",
            )
            return httpx.Response(400, json=refusal)
        return httpx.Response(200, json=openai_image_answer(image_bytes(size=(8 + n, 6))))


class Harness:
    """Settings, the faked network, and a CliRunner that invokes `sfumato` against them."""

    def __init__(self, tmp_path: Path, grok: ScriptedGrok, images: FakeOpenAI | None = None):
        self.grok, self.images = grok, images or FakeOpenAI()
        mock = respx.MockRouter(assert_all_called=False)
        mock.post(f"{OPENROUTER_URL}/chat/completions").mock(side_effect=grok)
        mock.post(f"{OPENAI_URL}/images/generations").mock(side_effect=self.images)
        self.transport = httpx.MockTransport(mock.handler)
        self.settings: Settings = demo_settings(
            tmp_path,
            openrouter_api_key=OPENROUTER_KEY,
            openrouter_base_url=OPENROUTER_URL,
            openai_image_api_key=OPENAI_KEY,
            openai_image_base_url=OPENAI_URL,
            http_backoff_base_s=0.0,
            http_backoff_cap_s=0.0,
            plateau_rounds_default=0,
            price_table_file=price_table(tmp_path),
        )
        self.tmp = tmp_path

    def invoke(self, *args: str) -> Result:
        runtime = Runtime(self.settings, self.transport)
        return CliRunner().invoke(main, list(args), obj=runtime, catch_exceptions=False)

    def invoke_caught(self, *args: str) -> Result:
        """As the terminal runs it: an exception escaping the CLI is the test's failure."""
        result = self.invoke(*args)
        assert result.exception is None or isinstance(result.exception, SystemExit)
        return result

    def session(self, session_id: str) -> dict[str, Any]:
        return json.loads(
            (self.settings.storage_dir / session_id / "session.json").read_text("utf-8")
        )


IMAGE_USD = 0.05


def price_table(tmp_path: Path) -> Path:
    """A fixed price table: every OpenAI image $0.05; text calls priced by what they report."""
    path = tmp_path / "prices.json"
    entry = {
        "provider": "openai",
        "model": "*",
        "usd_per_image": IMAGE_USD,
        "checked": "2026-11-29",
    }
    path.write_text(json.dumps({"image": [entry], "text": []}), encoding="utf-8")
    return path


def press_ctrl_c_and_wait(storage: Path) -> None:
    """Ctrl+C as the terminal sends it (SIGINT to the main thread), from inside a provider call;
    the call then returns only once the CLI has asked the run to stop, so what happens next does
    not depend on how fast the main thread notices."""
    _thread.interrupt_main()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        for path in storage.glob("*/session.json"):
            if '"cancel_requested": true' in path.read_text("utf-8"):
                return
        time.sleep(0.02)
    raise AssertionError("the CLI never asked the run to stop")


def scores(n: int = 200) -> list[int]:
    return [60, 80, 70, 75] * (n // 4)


def write_goals(tmp_path: Path, lines: list[str]) -> Path:
    path = tmp_path / "goals.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


# The report schema of issue 12 ----------------------------------------------------------------

NUM = (int, float)
OPT_NUM = (int, float, type(None))
GOAL_FIELDS = {
    "id": str,
    "goal": str,
    "session_id": (str, type(None)),
    "status": str,
    "first_score": (int, type(None)),
    "best_score": (int, type(None)),
    "best_index": (int, type(None)),
    "first_checklist_pass": OPT_NUM,
    "best_checklist_pass": OPT_NUM,
    "best_vs_first": (str, type(None)),
    "cost_usd": NUM,
    "seconds": NUM,
    "error": (dict, type(None)),
}
SUMMARY_FIELDS = {
    "goals": int,
    "done": int,
    "failed": int,
    "win_rate": OPT_NUM,
    "loss_rate": OPT_NUM,
    "tie_rate": OPT_NUM,
    "mean_score_uplift": OPT_NUM,
    "mean_checklist_uplift": OPT_NUM,
    "cost_usd": NUM,
    "seconds": NUM,
}


def check_report(out: Path) -> dict[str, Any]:
    """report.json against the issue's schema; report.md and report.html present and consistent."""
    report = json.loads((out / "report.json").read_text("utf-8"))
    top = {"provider", "models", "settings", "started_at", "finished_at", "goals", "summary"}
    assert top <= set(report), top - set(report)
    assert isinstance(report["provider"], str) and isinstance(report["models"], dict)
    assert isinstance(report["settings"], dict)
    datetime.fromisoformat(report["started_at"])
    for goal in report["goals"]:
        for name, kind in GOAL_FIELDS.items():
            assert name in goal, name
            assert isinstance(goal[name], kind), (name, goal[name])
        assert goal["status"] in ("pending", "running", "done", "failed", "interrupted")
        assert goal["best_vs_first"] in (None, "win", "loss", "tie")
        if goal["error"] is not None:
            assert set(goal["error"]) == {"code", "message"}
        if goal["status"] == "done":
            assert goal["best_vs_first"] is not None and goal["session_id"]
    for name, kind in SUMMARY_FIELDS.items():
        assert isinstance(report["summary"][name], kind), (name, report["summary"][name])
    rows = report["goals"]
    assert report["summary"]["goals"] == len(rows)
    assert report["summary"]["done"] == sum(g["status"] == "done" for g in rows)
    assert report["summary"]["failed"] == sum(g["status"] == "failed" for g in rows)
    md = (out / "report.md").read_text("utf-8")
    html = (out / "report.html").read_text("utf-8")
    for goal in rows:
        assert f"| {goal['id']} |" in md
        assert f'id="goal-{goal["id"]}"' in html
        for which in ("first", "best"):
            path = goal.get(f"{which}_image")
            if path:  # thumbnails link to full images, all inside the report folder
                assert not Path(path).is_absolute() and (out / path).is_file()
                thumb = f"images/{Path(path).stem}_thumb.jpg"
                assert f'<a href="{path}"><img src="{thumb}"' in html
                assert (out / thumb).is_file()
    assert "http://" not in html and "https://" not in html  # readable offline
    text = json.dumps(report) + md + html
    assert OPENROUTER_KEY not in text and OPENAI_KEY not in text and ";base64," not in text
    return report


# run ------------------------------------------------------------------------------------------


def test_run_takes_one_goal_end_to_end_and_the_session_shows_in_the_web_history(
    tmp_path: Path,
) -> None:
    grok = GoalAwareGrok(scores=[60, 80])
    h = Harness(tmp_path, grok)
    result = h.invoke(
        "run",
        "a lighthouse on a cliff",
        "--provider",
        "openai",
        "--iterations",
        "1",
        "--param",
        "quality=high",
        "--json",
    )
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    session = h.session(out["session_id"])
    assert out["status"] == "done" and out["exit_code"] == 0
    assert (out["first_score"], out["best_score"], out["best_index"]) == (60, 80, 1)
    assert out["score_uplift"] == 20 and out["checklist_uplift"] == 0
    assert out["best_vs_first"] == "win"
    assert Path(out["best_image"]).is_file()
    assert out["best_prompt"] == session["final_prompt_rendered"] == h.images.prompts[-1]
    assert out["cost_usd"] >= session["cost_usd"] > 0
    assert session["image_params"]["quality"] == "high"
    # best vs first is a fresh order-swapped pairwise call: the same two images, swapped
    first_url, best_url = grok.judged_order[0], grok.judged_order[1]
    assert sorted(map(tuple, grok.pairwise_calls[-2:])) == sorted(
        [(best_url, first_url), (first_url, best_url)]
    )
    assert len(grok.pairwise_calls) == 4  # the round's comparison, then best vs first
    # the same session through the web app's API
    app = create_app(h.settings)
    listed = app.test_client().get("/api/sessions").json["sessions"]
    container_of(app).close()
    assert [s["session_id"] for s in listed] == [out["session_id"]]


def test_run_prints_a_readable_result(tmp_path: Path) -> None:
    h = Harness(tmp_path, GoalAwareGrok(scores=[60, 80]))
    result = h.invoke("run", "a lighthouse on a cliff", "-p", "openai", "-n", "1")
    assert result.exit_code == 0, result.output
    for line in ("Session ", "Best image ", "Score          60 -> 80 (+20)", "Best vs first  win"):
        assert line in result.stdout
    assert "Prompt the provider received:" in result.stdout
    assert "pairwise" in result.stderr  # the progress bar names the steps


def test_run_stopped_by_the_budget_exits_3(tmp_path: Path) -> None:
    # start (2 calls at $0.001) + first image ($0.05 by the price table) + judge ($0.001): the
    # $0.007 left cannot pay for a candidate's image
    h = Harness(tmp_path, GoalAwareGrok(scores=scores()))
    result = h.invoke("run", "a lighthouse", "-p", "openai", "-n", "3", "--budget-usd", "0.06")
    assert result.exit_code == 3, result.output
    assert "Stopped        budget" in result.stdout
    assert h.images.calls == 1


def test_run_of_a_failing_goal_exits_1_with_the_reason(tmp_path: Path) -> None:
    h = Harness(tmp_path, GoalAwareGrok(scores=scores()))
    result = h.invoke("run", f"a {BLOCKED_WORD} in a meadow", "-p", "openai", "--json")
    assert result.exit_code == 1
    out = json.loads(result.stdout)
    assert out["status"] == "failed" and out["error"]["code"] == "content_blocked"
    assert out["session_id"]  # the failed session is kept, like in the web app


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["run"], "Give a GOAL or --from"),
        (["run", "a fox", "-p", "nope"], "nope"),
        (["run", "a fox", "-p", "grok"], "GROK_API_KEY"),
        (["run", "a fox", "-p", "openai", "--param", "size"], "NAME=VALUE"),
        (["run", "a fox", "-p", "openai", "--param", "colour=red"], "colour"),
        (["run", "a fox", "--candidates", "9"], "candidates"),
        (["batch", "missing.txt", "--out", "x"], "missing.txt"),
        (["export", "0" * 32], "No session"),
    ],
)
def test_bad_usage_exits_2_before_anything_is_paid(
    tmp_path: Path, args: list[str], message: str
) -> None:
    h = Harness(tmp_path, GoalAwareGrok(scores=[]))
    result = h.invoke(*args)
    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert h.grok.calls == [] and h.images.calls == 0


def test_ctrl_c_during_a_run_stops_cleanly_with_130(tmp_path: Path) -> None:
    def press_ctrl_c(n: int) -> None:
        if n == 2:  # the first candidate's image: Ctrl+C reaches the CLI's main thread
            press_ctrl_c_and_wait(h.settings.storage_dir)

    h = Harness(tmp_path, GoalAwareGrok(scores=scores()), FakeOpenAI(on_call=press_ctrl_c))
    result = h.invoke("run", "a lighthouse", "-p", "openai", "-n", "5", "--json")
    assert result.exit_code == 130, result.output
    out = json.loads(result.stdout)
    session = h.session(out["session_id"])
    assert out["status"] == "interrupted"
    assert session["status"] != "running" and session["run"]["stop_reason"] == "cancelled"
    assert h.images.calls == 2  # stopped after the step in flight: no later round started
    assert session["iterations"][0]["judge_score"] == 60  # what finished is kept


# batch ----------------------------------------------------------------------------------------


def test_batch_with_one_failing_goal_finishes_the_others_and_says_why(tmp_path: Path) -> None:
    goals = write_goals(
        tmp_path,
        [
            "a lighthouse at dusk",
            json.dumps({"id": "refused", "goal": f"a {BLOCKED_WORD} with a horn"}),
            "# a comment line",
            json.dumps({"goal": "a lighthouse in fog", "feedback": "warmer light"}),
        ],
    )
    h = Harness(tmp_path, GoalAwareGrok(scores=scores()))
    out = tmp_path / "out"
    result = h.invoke(
        "batch", str(goals), "-p", "openai", "-j", "2", "-n", "1", "--out", str(out), "--json"
    )
    assert result.exit_code == 1, result.output
    report = check_report(out)
    rows = {g["id"]: g for g in report["goals"]}
    assert list(rows) == ["g001", "refused", "g003"]
    assert rows["refused"]["status"] == "failed"
    assert rows["refused"]["error"]["code"] == "content_blocked"
    assert "safety system" in rows["refused"]["error"]["message"]
    assert rows["g001"]["status"] == rows["g003"]["status"] == "done"
    assert report["summary"]["done"] == 2 and report["summary"]["failed"] == 1
    fog = h.session(rows["g003"]["session_id"])
    assert fog["user_feedback"] == "warmer light" and fog["checklist"][-1]["source"] == "feedback"
    md_row = next(r for r in (out / "report.md").read_text().splitlines() if "| refused |" in r)
    assert "| failed |" in md_row and "content_blocked: openai refused the content" in md_row
    printed = json.loads(result.stdout)
    assert printed["exit_code"] == 1 and printed["summary"] == report["summary"]


def test_batch_resumes_skipping_goals_already_done(tmp_path: Path) -> None:
    goals = write_goals(
        tmp_path, ["a lighthouse at dusk", f"a {BLOCKED_WORD} at dawn", "a lighthouse at noon"]
    )
    h = Harness(tmp_path, GoalAwareGrok(scores=scores()))
    out = tmp_path / "out"
    first = h.invoke("batch", str(goals), "-p", "openai", "-n", "1", "--out", str(out))
    assert first.exit_code == 1, first.output
    before = check_report(out)
    done_ids = {g["id"]: g["session_id"] for g in before["goals"] if g["status"] == "done"}
    assert set(done_ids) == {"g001", "g003"}

    h.images.refuse = False  # the provider would now draw it
    calls_before = h.images.calls
    again = h.invoke("batch", str(goals), "-p", "openai", "-n", "1", "--out", str(out), "--json")
    assert again.exit_code == 0, again.output
    after = check_report(out)
    assert json.loads(again.stdout)["skipped"] == 2
    assert {g["id"]: g["session_id"] for g in after["goals"] if g["id"] != "g002"} == done_ids
    assert all(g["status"] == "done" for g in after["goals"])
    assert h.images.calls - calls_before == 2  # only the failed goal ran again (first + 1 round)
    assert after["started_at"] == before["started_at"]
    assert after["summary"]["seconds"] >= before["summary"]["seconds"]


def test_ctrl_c_stops_a_batch_keeping_what_finished_and_resume_completes_it(
    tmp_path: Path,
) -> None:
    def press_ctrl_c(n: int) -> None:
        if n == 3:  # goal 2's first image (goal 1: first image + one round)
            press_ctrl_c_and_wait(h.settings.storage_dir)

    goals = write_goals(tmp_path, ["a lighthouse one", "a lighthouse two", "a lighthouse three"])
    h = Harness(tmp_path, GoalAwareGrok(scores=scores()), FakeOpenAI(on_call=press_ctrl_c))
    out = tmp_path / "out"
    result = h.invoke("batch", str(goals), "-p", "openai", "-j", "1", "-n", "1", "--out", str(out))
    assert result.exit_code == 130, result.output
    report = check_report(out)
    statuses = [g["status"] for g in report["goals"]]
    assert statuses == ["done", "interrupted", "pending"]
    assert report["finished_at"] is not None
    interrupted = h.session(report["goals"][1]["session_id"])
    assert interrupted["status"] != "running"
    assert "finished goals are kept" in result.stderr

    h.images.on_call = None
    resumed = h.invoke("batch", str(goals), "-p", "openai", "-j", "1", "-n", "1", "--out", str(out))
    assert resumed.exit_code == 0, resumed.output
    final = check_report(out)
    assert [g["status"] for g in final["goals"]] == ["done", "done", "done"]
    assert final["goals"][0]["session_id"] == report["goals"][0]["session_id"]


def test_batch_estimate_prices_the_run_without_running_it(tmp_path: Path) -> None:
    goals = write_goals(tmp_path, ["a lighthouse", "a fox"])
    h = Harness(tmp_path, GoalAwareGrok(scores=[]))
    result = h.invoke(
        "batch",
        str(goals),
        "-p",
        "openai",
        "-n",
        "3",
        "-k",
        "2",
        "--out",
        "x",
        "--estimate",
        "--json",
    )
    assert result.exit_code == 0, result.output
    figures = json.loads(result.stdout)
    # per goal: 1 + 3 rounds x 2 candidates images by the price table (no text price is known)
    assert figures["goals"] == 2 and figures["usd"] == pytest.approx(2 * 7 * IMAGE_USD)
    assert figures["low"] <= figures["usd"] <= figures["high"]
    assert h.grok.calls == [] and h.images.calls == 0 and not (tmp_path / "x").exists()


def test_demo_batch_runs_with_no_keys(tmp_path: Path) -> None:
    goals = write_goals(tmp_path, ["three red apples", "a sign that says OPEN"])
    out = tmp_path / "out"
    runtime = Runtime(demo_settings(tmp_path))
    result = CliRunner().invoke(
        main, ["batch", str(goals), "-j", "2", "-n", "2", "--out", str(out)], obj=runtime
    )
    assert result.exit_code == 0, result.output
    report = check_report(out)
    assert report["provider"] == "demo" and report["settings"]["text_mode"] == "offline"
    assert "2/2 done" in result.stdout and "report.html" in result.stdout


def test_a_demo_run_says_so_and_carries_the_negative_prompt(tmp_path: Path) -> None:
    """Offline results never pass for real ones: the screen and --json say demo; the negative
    prompt the provider got apart is printed and in --json."""
    runtime = lambda: Runtime(demo_settings(tmp_path))  # noqa: E731
    shown = CliRunner().invoke(main, ["run", "a red fox", "-n", "1"], obj=runtime())
    assert shown.exit_code == 0, shown.output
    assert shown.stdout.startswith("Demo ") and "not real results" in shown.stdout
    assert "Negative prompt it received apart:" in shown.stdout
    data = json.loads(
        CliRunner().invoke(main, ["run", "a red fox", "-n", "1", "--json"], obj=runtime()).stdout
    )
    assert data["demo"] is True and data["best_negative"]


def test_a_demo_batch_says_so_and_a_resumed_one_counts_what_it_skipped(tmp_path: Path) -> None:
    goals = write_goals(tmp_path, ["three red apples", "a sign that says OPEN"])
    args = ["batch", str(goals), "-n", "1", "--out", str(tmp_path / "out")]
    first = CliRunner().invoke(main, args, obj=Runtime(demo_settings(tmp_path)))
    assert first.exit_code == 0 and "Demo: " in first.stdout and "Resumed" not in first.stdout
    again = CliRunner().invoke(main, [*args, "--json"], obj=Runtime(demo_settings(tmp_path)))
    data = json.loads(again.stdout)
    assert data["demo"] is True and data["skipped"] == 2
    shown = CliRunner().invoke(main, args, obj=Runtime(demo_settings(tmp_path)))
    assert "Resumed: 2 goal(s) already done were skipped" in shown.stdout


# export and re-run ----------------------------------------------------------------------------


def test_export_writes_a_recipe_and_run_from_it_reruns_it(tmp_path: Path) -> None:
    h = Harness(tmp_path, GoalAwareGrok(scores=scores()))
    first = h.invoke(
        "run",
        "a lighthouse on a cliff",
        "-p",
        "openai",
        "-n",
        "1",
        "--param",
        "quality=low",
        "--feedback",
        "warmer light",
        "--lock",
        "style",
        "--json",
    )
    assert first.exit_code == 0, first.output
    sid = json.loads(first.stdout)["session_id"]
    source = h.session(sid)
    recipe_path = tmp_path / "recipe.json"
    exported = h.invoke("export", sid, "-o", str(recipe_path))
    assert exported.exit_code == 0, exported.output
    recipe = json.loads(recipe_path.read_text("utf-8"))
    assert recipe["goal"] == "a lighthouse on a cliff" and recipe["provider"] == "openai"
    best = next(it for it in source["iterations"] if it["index"] == source["best_index"])
    assert recipe["model"] == best["image_model"] and recipe["image_params"]["quality"] == "low"
    assert recipe["locked_blocks"] == ["style"] and recipe["feedback"] == "warmer light"
    assert recipe["checklist"] == source["checklist"] and recipe["checklist"][-1]["source"] == (
        "feedback"
    )
    assert recipe["final_prompt"] == source["final_prompt_text"]
    # OpenAI takes no negative prompt apart (it is in the prompt): none to carry, and not demo
    assert recipe["final_prompt_negative"] == best["rendered_negative"] is None
    assert recipe["demo"] is False
    assert recipe["sfumato_version"] == "0.1.0"
    assert (
        OPENROUTER_KEY not in recipe_path.read_text() and OPENAI_KEY not in recipe_path.read_text()
    )

    checklist_calls = len(h.grok.checklist_calls)
    rerun = h.invoke("run", "--from", str(recipe_path), "-n", "1", "--json")
    assert rerun.exit_code == 0, rerun.output
    again = h.session(json.loads(rerun.stdout)["session_id"])
    assert again["session_id"] != sid
    assert again["iterations"][0]["prompt_text"] == recipe["final_prompt"]
    assert again["checklist"] == recipe["checklist"]
    assert again["locked_blocks"] == ["style"] and again["user_feedback"] == "warmer light"
    assert again["image_params"] == source["image_params"]
    # only the session start writes a checklist; the recipe's replaces it, feedback is not re-asked
    assert len(h.grok.checklist_calls) == checklist_calls + 1
    printed = h.invoke("export", sid)
    assert json.loads(printed.stdout) == recipe


def test_run_from_a_broken_recipe_is_bad_usage(tmp_path: Path) -> None:
    h = Harness(tmp_path, GoalAwareGrok(scores=[]))
    path = tmp_path / "recipe.json"
    path.write_text('{"goal": "a fox"}', encoding="utf-8")
    assert h.invoke("run", "--from", str(path)).exit_code == 2
    path.write_text("not json", encoding="utf-8")
    assert h.invoke("run", "--from", str(path)).exit_code == 2


def test_estimate_needs_no_key_for_the_provider(tmp_path: Path) -> None:
    goals = write_goals(tmp_path, ["a lighthouse"])
    h = Harness(tmp_path, GoalAwareGrok(scores=[]))  # no GROK_API_KEY in these settings
    result = h.invoke("batch", str(goals), "-p", "grok", "--out", "x", "--estimate")
    assert result.exit_code == 0, result.output
    assert "1 goals on grok" in result.stdout and "by the price table" in result.stdout
    refused = h.invoke("batch", str(goals), "-p", "grok", "--out", str(tmp_path / "x"))
    assert refused.exit_code == 2 and "GROK_API_KEY" in refused.stderr


def test_serve_is_what_make_run_serves(monkeypatch: pytest.MonkeyPatch) -> None:
    import app.main

    served: list[bool] = []
    monkeypatch.setattr(app.main, "run", lambda: served.append(True))
    result = CliRunner().invoke(main, ["serve"], obj=Runtime())
    assert result.exit_code == 0 and served == [True]


# One owner per store: the CLI beside a server (issue 16) ----------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class StreamWatch:
    """WSGI middleware: sets `seen` once an event stream has sent a chunk containing `needle`."""

    def __init__(self, app: Any, needle: bytes) -> None:
        self.app, self.needle, self.seen = app, needle, threading.Event()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        chunks = self.app(environ, start_response)
        if not environ["PATH_INFO"].endswith("/events"):
            return chunks
        return self._watched(chunks)

    def _watched(self, chunks: Any) -> Iterator[bytes]:
        try:
            for chunk in chunks:
                yield chunk
                if self.needle in chunk:
                    self.seen.set()
        finally:
            if hasattr(chunks, "close"):
                chunks.close()


@contextlib.contextmanager
def served(h: Harness, watch: bytes = b"\x00") -> Iterator[tuple[httpx.Client, StreamWatch]]:
    """The real app and server on an ephemeral port, owning h's store, as `make run` serves it."""
    h.settings = h.settings.model_copy(update={"port": free_port()})
    app = create_app(h.settings, transport=h.transport)
    watched = StreamWatch(app, watch)
    server = BoundedWSGIServer(
        "127.0.0.1", h.settings.port, watched, threads=8, read_timeout_s=10, write_timeout_s=10
    )
    thread = threading.Thread(target=server.serve_forever, name="test-server", daemon=True)
    thread.start()
    lock = container_of(app).lock
    lock.announce(server_url(h.settings.host, h.settings.port))  # as app.main.run does
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{h.settings.port}", timeout=30) as client:
            yield client, watched
    finally:
        server.shutdown()
        server.server_close()
        container_of(app).close()


def follow_to_end(client: httpx.Client, sid: str) -> dict[str, Any]:
    """Reads the session's event stream until it closes; the last snapshot."""
    last: dict[str, Any] = {}
    with client.stream("GET", f"/api/sessions/{sid}/events") as response:
        for line in response.iter_lines():
            if line.startswith("data: "):
                last = json.loads(line.removeprefix("data: "))
    return last


def test_export_beside_a_server_with_a_live_run_leaves_the_run_alone(tmp_path: Path) -> None:
    in_flight, release = threading.Event(), threading.Event()

    def hold_the_candidate(n: int) -> None:
        if n == 2:  # the first round's candidate image: the run is live until released
            in_flight.set()
            release.wait(30)

    h = Harness(tmp_path, GoalAwareGrok(scores=scores()), FakeOpenAI(on_call=hold_the_candidate))
    with served(h) as (api, _):
        body = {"goal": "a lighthouse on a cliff", "provider": "openai"}
        sid = api.post("/api/sessions", json=body).json()["session_id"]
        assert api.post(f"/api/sessions/{sid}/generate", json={}).status_code == 200
        run = {"iterations_count": 1, "wait": False}
        assert api.post(f"/api/sessions/{sid}/optimize/run", json=run).status_code == 202
        assert in_flight.wait(20)
        folder = h.settings.storage_dir / sid
        temp = folder / ".iter_1.png.inflight.tmp"  # the server's write in flight
        temp.write_bytes(b"\x89PNG half")
        exported = h.invoke("export", sid)
        live = api.get(f"/api/sessions/{sid}").json()
        release.set()
        final = follow_to_end(api, sid)
    assert exported.exit_code == 0, exported.output
    assert json.loads(exported.stdout)["goal"] == "a lighthouse on a cliff"
    assert live["status"] == "running"  # the CLI marked nothing interrupted
    assert temp.exists()  # and swept nothing
    assert final["status"] == "done" and final["error"] is None
    assert [it["status"] for it in final["iterations"]] == ["ok", "ok"]


def test_run_beside_a_server_goes_through_it_and_is_in_its_list_at_once(tmp_path: Path) -> None:
    def hold_until_streamed(n: int) -> None:
        if n == 2:  # the candidate's image waits until the CLI's event stream has shown its step
            assert watch.seen.wait(20), "the CLI never streamed the run's progress"

    h = Harness(tmp_path, GoalAwareGrok(scores=[60, 80]), FakeOpenAI(on_call=hold_until_streamed))
    step = b'"current_step":{"iteration":1,"step":"generate","round":1'
    with served(h, watch=step) as (api, watch):
        result = h.invoke("run", "a lighthouse on a cliff", "-p", "openai", "-n", "1")
        listed = [s["session_id"] for s in api.get("/api/sessions").json()["sessions"]]
        batches = api.get("/api/batches").json()["batches"]
    assert result.exit_code == 0, result.output
    assert "Score          60 -> 80 (+20)" in result.stdout
    assert "Best vs first  win" in result.stdout
    session_id = result.stdout.split("Session", 1)[1].split()[0]
    assert listed == [session_id]  # in the server's own list, no restart
    assert len(batches) == 1  # run_goal ran once, in the server
    assert "round 1 #" in result.stderr and "generate" in result.stderr  # the progress bar


def test_batch_beside_a_server_runs_there_and_mirrors_the_report(tmp_path: Path) -> None:
    goals = write_goals(tmp_path, ["a lighthouse at dusk", f"a {BLOCKED_WORD} at dawn"])
    h = Harness(tmp_path, GoalAwareGrok(scores=scores()))
    out = tmp_path / "out"
    with served(h) as (api, _):
        result = h.invoke("batch", str(goals), "-p", "openai", "-n", "1", "--out", str(out))
        server_batches = api.get("/api/batches").json()["batches"]
    assert result.exit_code == 1, result.output  # one goal refused by the provider
    report = check_report(out)
    assert [g["status"] for g in report["goals"]] == ["done", "failed"]
    recorded = json.loads((out / ".sfumato-batch.json").read_text("utf-8"))
    assert [b["batch_id"] for b in server_batches] == [recorded["batch_id"]]
    assert "1/2 done" in result.stdout


def test_another_cli_holding_the_store_is_bad_usage(tmp_path: Path) -> None:
    h = Harness(tmp_path, GoalAwareGrok(scores=[]))
    holder = StoreLock(h.settings.storage_dir)
    holder.acquire("cli")
    try:
        result = h.invoke("run", "a fox", "-n", "0")
    finally:
        holder.release()
    assert result.exit_code == 2, result.output
    assert "in use by a sfumato command" in result.stderr and "Try again" in result.stderr
    assert h.grok.calls == []


def test_an_unexpected_error_is_one_line_and_exit_1(tmp_path: Path) -> None:
    def broken(_: httpx.Request) -> httpx.Response:
        raise RuntimeError("boom")

    h = Harness(tmp_path, GoalAwareGrok(scores=[]))
    holder = StoreLock(h.settings.storage_dir)
    holder.acquire("server", url="http://127.0.0.1:9", port=9)
    try:
        runtime = Runtime(h.settings, h.transport, api_transport=httpx.MockTransport(broken))
        quiet = CliRunner().invoke(main, ["export", "0" * 32], obj=runtime)
        runtime = Runtime(h.settings, h.transport, api_transport=httpx.MockTransport(broken))
        loud = CliRunner().invoke(main, ["-v", "export", "0" * 32], obj=runtime)
    finally:
        holder.release()
    assert quiet.exit_code == 1
    assert "internal error: RuntimeError: boom; run with -v for details" in quiet.stderr
    assert "Traceback" not in quiet.output
    assert loud.exit_code == 1 and "Traceback" in loud.stderr


# Usage errors: exit 2, one line, nothing created ------------------------------------------------


def recipe_with(tmp_path: Path, **fields: Any) -> str:
    path = tmp_path / "recipe.json"
    path.write_text(json.dumps({"goal": "a fox", "provider": "demo", **fields}), "utf-8")
    return str(path)


@pytest.mark.parametrize(
    ("make_args", "message"),
    [
        (lambda t: ["run", "   "], "goal: must not be empty"),
        (lambda t: ["run", "--from", recipe_with(t, iterations=100)], "iterations"),
        (lambda t: ["run", "--from", recipe_with(t, iterations="abc")], "iterations"),
        (lambda t: ["run", "--from", recipe_with(t, iterations=-1)], "iterations"),
        (lambda t: ["run", "--from", recipe_with(t, iterations=11)], "more than 10"),
        (lambda t: ["run", "--from", recipe_with(t, candidates=9)], "candidates"),
        (lambda t: ["run", "a fox", "--budget-usd", "nan"], "nan"),
        (lambda t: ["run", "a fox", "--budget-usd", "inf"], "budget-usd"),
        (lambda t: ["run", "a fox", "-n", "11"], "more than 10 (MAX_ITERATIONS)"),
        (lambda t: ["run", "a fox", "--lock", "hat"], "no such block: hat"),
        (lambda t: ["run", "a fox", "-p", "openai", "--param", "colour=red"], "colour"),
        (lambda t: ["batch", str(latin1_goals(t)), "--out", str(t / "o")], "UTF-8"),
        (lambda t: ["batch", str(write_goals(t, ["a fox", "{"])), "--out", str(t / "o")], "line 2"),
    ],
)
def test_bad_input_exits_2_with_one_line_and_creates_nothing(
    tmp_path: Path, make_args: Any, message: str
) -> None:
    h = Harness(tmp_path, GoalAwareGrok(scores=[]))
    result = h.invoke_caught(*make_args(tmp_path))
    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert "Traceback" not in result.output
    store = h.settings.storage_dir
    assert not store.exists() or [p for p in store.iterdir() if p.is_dir()] == []
    assert h.grok.calls == [] and h.images.calls == 0


def latin1_goals(tmp_path: Path) -> Path:
    path = tmp_path / "goals.txt"
    path.write_bytes("un caf\xe9 cr\xe8me\n".encode("latin-1"))
    return path


def test_help_states_the_real_ranges(tmp_path: Path) -> None:
    h = Harness(tmp_path, GoalAwareGrok(scores=[]))
    text = " ".join(h.invoke("run", "--help").stdout.split())
    assert "0..10 (MAX_ITERATIONS" in text and "[0<=x<=10]" in text and "x>=0" not in text
    assert "1..4" in text and "SIGTERM" in text
    at_the_limit = ["run", "a fox", "-n", "10", "--target", "1", "--json"]
    result = CliRunner().invoke(main, at_the_limit, obj=Runtime(demo_settings(tmp_path)))
    assert result.exit_code == 0, result.output  # 10 is allowed (the old range refused 11 < 50)


def test_what_came_from_input_is_escaped_for_the_terminal(tmp_path: Path) -> None:
    assert term_safe("a\x1b[31mred\x07 \u202efox\x85\n\tok") == (
        "a\\u001b[31mred\\u0007 \\u202efox\\u0085\n\tok"
    )
    h = Harness(tmp_path, GoalAwareGrok(scores=[]))
    result = h.invoke_caught("export", "\x1b[2Jgone")
    assert result.exit_code == 2
    assert "\x1b" not in result.output and "\\u001b[2Jgone" in result.stderr


def test_a_server_that_holds_the_store_but_does_not_answer_is_bad_usage(tmp_path: Path) -> None:
    def refused(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    h = Harness(tmp_path, GoalAwareGrok(scores=[]))
    holder = StoreLock(h.settings.storage_dir)
    holder.acquire("server", url="http://127.0.0.1:9", port=9)
    try:
        runtime = Runtime(h.settings, h.transport, api_transport=httpx.MockTransport(refused))
        runtime.server_wait_s = 0.3
        result = CliRunner().invoke(main, ["export", "0" * 32], obj=runtime)
    finally:
        holder.release()
    assert result.exit_code == 2, result.output
    assert "in use by a SFUMATO server" in result.stderr
    assert "does not answer at http://127.0.0.1:9/api/health" in result.stderr


class FakeServerApi:
    """The owning server's API at the transport level: a batch that ends `done` at once."""

    def __init__(self, resume_status: int = 202) -> None:
        self.calls: list[tuple[str, str]] = []
        self.resume_status = resume_status

    def state(self, batch_id: str, status: str) -> dict[str, Any]:
        row = {
            "id": "g001",
            "goal": "a lighthouse",
            "status": "done" if status == "done" else "running",
        }
        row.update(session_id="s" * 32, best_vs_first="tie", cost_usd=0.0, seconds=1.0)
        summary = {"goals": 1, "done": int(status == "done"), "failed": 0, "cost_usd": 0.0}
        return {
            "batch_id": batch_id, "status": status, "skipped": 0, "provider": "demo",
            "started_at": "2026-12-05T08:00:00+00:00", "finished_at": None,
            "goals": [row], "summary": {**summary, "seconds": 1.0},
        }  # fmt: skip

    def __call__(self, request: httpx.Request) -> httpx.Response:
        method, path = request.method, request.url.path
        self.calls.append((method, path))
        if path == "/api/health":
            return httpx.Response(200, json={"status": "ok"})
        if method == "POST" and path == "/api/batches":
            return httpx.Response(202, json=self.state("new", "running"))
        if path.endswith("/resume"):
            if self.resume_status != 202:
                error = {"code": "not_found", "message": "No batch.", "details": {}}
                return httpx.Response(self.resume_status, json=error)
            return httpx.Response(202, json=self.state(path.split("/")[3], "running"))
        if path.endswith("/download"):
            archive = io.BytesIO()
            with zipfile.ZipFile(archive, "w") as zipped:
                zipped.writestr("report.json", json.dumps(self.state("x", "done")))
                zipped.writestr("../escape.txt", "never written")
            return httpx.Response(200, content=archive.getvalue())
        return httpx.Response(200, json=self.state(path.split("/")[3], "done"))


@pytest.mark.parametrize(
    ("recorded", "resume_status", "expected"),
    [
        ("b1", 202, ("POST", "/api/batches/b1/resume")),
        (None, 202, ("POST", "/api/batches")),
        ("gone", 404, ("POST", "/api/batches")),
    ],
)
def test_batch_through_a_server_resumes_the_batch_its_out_folder_records(
    tmp_path: Path, recorded: str | None, resume_status: int, expected: tuple[str, str]
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    if recorded:
        (out / ".sfumato-batch.json").write_text(json.dumps({"batch_id": recorded}), "utf-8")
    goals = write_goals(tmp_path, ["a lighthouse"])
    h = Harness(tmp_path, GoalAwareGrok(scores=[]))
    api = FakeServerApi(resume_status)
    holder = StoreLock(h.settings.storage_dir)
    holder.acquire("server", port=9)
    holder.announce("http://127.0.0.1:9")
    try:
        runtime = Runtime(h.settings, h.transport, api_transport=httpx.MockTransport(api))
        result = CliRunner().invoke(main, ["batch", str(goals), "--out", str(out)], obj=runtime)
    finally:
        holder.release()
    assert result.exit_code == 0, result.output
    starts = [c for c in api.calls if c[0] == "POST" and not c[1].endswith("/cancel")]
    assert starts[-1] == expected and len([c for c in starts if c == expected]) == 1
    batch_id = json.loads((out / ".sfumato-batch.json").read_text("utf-8"))["batch_id"]
    assert batch_id == (recorded if resume_status == 202 and recorded else "new")
    assert json.loads((out / "report.json").read_text("utf-8"))["status"] == "done"  # mirrored
    assert not (tmp_path / "escape.txt").exists()  # nothing outside the report's own files


def test_bad_input_through_a_server_exits_2_and_creates_nothing_there(tmp_path: Path) -> None:
    h = Harness(tmp_path, GoalAwareGrok(scores=[]))
    with served(h) as (api, _):
        no_key = h.invoke_caught("run", "a fox", "-p", "grok")  # the server has no GROK_API_KEY
        unknown = h.invoke_caught("export", "0" * 32)
        sessions = api.get("/api/sessions").json()["sessions"]
        batches = api.get("/api/batches").json()["batches"]
    assert no_key.exit_code == 2 and "GROK_API_KEY" in no_key.stderr
    assert unknown.exit_code == 2 and "No session" in unknown.stderr
    assert "Traceback" not in no_key.output + unknown.output
    assert sessions == [] and batches == []
