"""A pytest plugin for `make stress`: every test marked `race` runs SFUMATO_REPEAT times.

Loaded only by that target (`-p tests.race_repeat`); without the variable it changes nothing.
A race test that passes once proves little: run 50 times, a lost update or a 500 that happens
one time in ten shows.
"""

from __future__ import annotations

import os

import pytest


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    times = int(os.environ.get("SFUMATO_REPEAT", "1"))
    if times > 1 and metafunc.definition.get_closest_marker("race"):
        metafunc.fixturenames.append("race_round")
        metafunc.parametrize("race_round", range(times), ids=lambda n: f"round{n + 1}")
