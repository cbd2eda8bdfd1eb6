"""No unexplained `# type: ignore` in `app/` (issue 20). mypy (strict on all of app/, with
`ignore-without-code`) checks that each one names its error code and is still needed; this checks
the rest of the rule: each one says why, beside it (`# type: ignore[code]  # why`) or in the
comment line(s) right above it.
"""

from __future__ import annotations

import re
from pathlib import Path

APP = Path(__file__).resolve().parent.parent / "app"
IGNORE = re.compile(r"#\s*type:\s*ignore(?P<codes>\[[^\]]*\])?(?P<after>.*)$")


def unexplained(source: str) -> list[tuple[int, str]]:
    """The (line number, line) of each ignore with no code, or with no reason beside or above."""
    lines = source.splitlines()
    found = []
    for number, line in enumerate(lines, start=1):
        match = IGNORE.search(line)
        if match is None:
            continue
        reason_beside = match.group("after").strip().startswith("#")
        above = lines[number - 2].strip() if number > 1 else ""
        if not match.group("codes") or not (reason_beside or above.startswith("#")):
            found.append((number, line.strip()))
    return found


def test_every_type_ignore_in_app_names_its_code_and_says_why() -> None:
    bare = {
        f"{path.relative_to(APP.parent)}:{number}": line
        for path in sorted(APP.rglob("*.py"))
        for number, line in unexplained(path.read_text("utf-8"))
    }
    assert bare == {}


def test_the_check_sees_a_bare_or_unexplained_ignore() -> None:
    source = "\n".join(
        [
            "x = f()  # type: ignore",
            "y = g()  # type: ignore[arg-type]",
            "# why: the stub lacks it",
            "z = h()  # type: ignore[attr-defined]",
            "w = k()  # type: ignore[misc]  # why: the stub lacks it",
        ]
    )
    assert [number for number, _ in unexplained(source)] == [1, 2]
