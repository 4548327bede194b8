"""What a page costs in Python, without the server: the app called directly through
Flask's test client, each request timed as the CPU time of this thread
(``time.thread_time``), pages interleaved round by round, the median per page.

Run by ``bench/web.py`` beside each wrk table (the same database and settings, from the
environment), or alone on any database the app can reach::

    DATABASE_URL=sqlite:////tmp/x/bench.db OFFLOAD_SECRET_KEY=... \\
        .venv/bin/python bench/inprocess.py --rounds 50 \\
        '{"board": ["/gigs", "member1"], "bare endpoint": ["/healthz", ""]}'

It prints one JSON object: page name → median milliseconds of CPU. A page that answers
anything but 200 is an error (exit 1), not a number.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PASSWORD = "offload demo passphrase"  # offload.demo.data.DEMO_PASSWORD
CSRF = re.compile(r'name="csrf_token"(?: type="hidden")? value="([^"]+)"')


def log_in(app, username: str):
    client = app.test_client()
    if not username:
        return client
    token = CSRF.search(client.get("/login").get_data(as_text=True)).group(1)
    landed = client.post("/login", data={"login": username, "password": PASSWORD,
                                         "csrf_token": token})
    if landed.status_code != 302 or "/dashboard" not in landed.location:
        raise RuntimeError(f"log-in as {username} failed ({landed.status_code})")
    return client


def measure(pages: dict[str, tuple[str, str]], rounds: int, warm: int = 5) -> dict[str, float]:
    from offload import create_app

    app = create_app()
    clients = {name: log_in(app, username) for name, (_, username) in pages.items()}
    times: dict[str, list[float]] = {name: [] for name in pages}
    for round_no in range(warm + rounds):
        for name, (path, _) in pages.items():
            started = time.thread_time()
            response = clients[name].get(path)
            spent = time.thread_time() - started
            if response.status_code != 200:
                raise RuntimeError(f"{name}: {path} answered {response.status_code}")
            if round_no >= warm:
                times[name].append(spent * 1000)
    return {name: round(statistics.median(spent), 3) for name, spent in times.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("pages", help='JSON: {"name": ["/path", "username or empty"]}')
    parser.add_argument("--rounds", type=int, default=50)
    args = parser.parse_args()
    try:
        print(json.dumps(measure(json.loads(args.pages), args.rounds)))
    except RuntimeError as error:
        print(error, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
