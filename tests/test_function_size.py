"""No function in app/ is over 40 lines (issue 20): a long function does several jobs, and each job
deserves a name. Counted as the `ast` does, from `def` (decorators excluded) to the last line."""

from __future__ import annotations

import ast
from pathlib import Path

APP = Path(__file__).resolve().parent.parent / "app"
MAX_LINES = 40

# Exceptions by "file:function": none. Split a function rather than add it here.
ALLOWED: set[str] = set()


def long_functions(root: Path = APP) -> dict[str, int]:
    """Every function over MAX_LINES lines under `root`, as "file:function" -> its lines."""
    found: dict[str, int] = {}
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                lines = (node.end_lineno or node.lineno) - node.lineno + 1
                if lines > MAX_LINES:
                    found[f"{path.relative_to(root).as_posix()}:{node.name}"] = lines
    return found


def test_no_function_in_app_is_over_40_lines() -> None:
    over = {name: n for name, n in long_functions().items() if name not in ALLOWED}
    assert not over, f"split these (over {MAX_LINES} lines): {over}"


def test_the_count_sees_a_long_function(tmp_path: Path) -> None:
    body = "\n".join(f"    x{i} = {i}" for i in range(MAX_LINES))
    (tmp_path / "long.py").write_text(f"def long():\n{body}\n", encoding="utf-8")
    (tmp_path / "short.py").write_text("def short():\n    return 1\n", encoding="utf-8")
    assert long_functions(tmp_path) == {"long.py:long": MAX_LINES + 1}
