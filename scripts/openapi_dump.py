"""Prints the API's OpenAPI description, as `GET /api/openapi.json` serves it with default settings.

`make types` feeds it to openapi-typescript to write `frontend/src/lib/api.gen.ts`; `make lint`
(part of `make test`) does the same into a temporary file and fails when the checked-in types differ.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.openapi import build_spec
from app.settings import Settings


def main() -> None:
    # The types come from the schemas, which no setting changes; .env is left out all the same.
    spec = build_spec(Settings(_env_file=None))  # type: ignore[call-arg]  # pydantic-settings reads _env_file
    json.dump(spec, sys.stdout, indent=2, sort_keys=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
