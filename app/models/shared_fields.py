"""Building one model from another by the fields they share by name (issue 20).

A body becomes run options, a recipe becomes a goal, a session becomes its list row: each time
the two models name the same thing alike, so the copy says which fields differ, not which agree.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel


def shared_fields(
    source: BaseModel, target: type[BaseModel], skip: Iterable[str] = ()
) -> dict[str, Any]:
    """`source`'s values of every field `target` has under the same name, but those in `skip`
    (the ones the caller sets itself because they mean something else there)."""
    names = (set(target.model_fields) & set(type(source).model_fields)) - set(skip)
    return {name: getattr(source, name) for name in names}
