"""Times the scrubber on 10 KB of text and on a short log line, with four 57-character keys known.

The scrubber runs on every log record and every error, so its cost per line matters: this prints
the best of 5 runs, in microseconds per call, of `scrub_text` (keys, auth values, base64) and `redact_keys` (keys only) on
clean prose and on prose that echoes a key cut by its last two characters.

Usage: poetry run python scripts/bench_scrub.py [--repeat 300]
"""

from __future__ import annotations

import argparse
import random
import string
import sys
import timeit
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.utils import scrub

WORDS = "the provider answered with an error because the request was malformed retry later"


def texts() -> dict[str, str]:
    rng = random.Random(7)
    keys = [
        "sk-or-v1-" + "".join(random.Random(n).choices(string.ascii_letters + string.digits, k=48))
        for n in range(4)
    ]
    scrub.register_secrets(keys)
    prose = " ".join(rng.choice(WORDS.split()) for _ in range(2000))[:10_000]
    return {
        "10 KB of prose": prose,
        "10 KB echoing a cut key": prose[:5000] + " key " + keys[0][:-2] + " " + prose[5000:],
        "a short log line": "calling the image provider for session 1234 step judge",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=300)
    args = parser.parse_args()
    for name, text in texts().items():
        for function in (scrub.scrub_text, scrub.redact_keys):
            runs = timeit.repeat(lambda f=function, t=text: f(t), number=args.repeat, repeat=5)
            print(f"{function.__name__:12} {name:26} {min(runs) / args.repeat * 1e6:8.1f} us")


if __name__ == "__main__":
    main()
