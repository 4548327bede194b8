"""The README's deployment settings table against the code: every key of ``config.py``
and every environment variable the app or gunicorn.conf.py reads has a row, every row
names one of them, and a plain default (a number, a flag, a word) is the one in
``config.py``. A new setting without its row fails here, not in an operator's hands.

(No ``hosts`` marker: this reads files, and runs in every suite.)
"""

from __future__ import annotations

import json
import re

from config import Config
from tests.support.gunicorn import ROOT

README = ROOT / "README.md"
# where settings are read from the environment other than through config.py's keys
READERS = [ROOT / "config.py", ROOT / "wsgi.py", ROOT / "gunicorn.conf.py",
           *sorted((ROOT / "offload").rglob("*.py"))]
ENVIRON = re.compile(r"""os\.environ(?:\.get\(|\[)\s*["']([A-Z][A-Z0-9_]*)["']""")


def settings_table() -> dict[str, str]:
    """The rows of the table under Deployment → Settings: name → default cell."""
    text = README.read_text()
    deployment = text[text.index("\n## Deployment\n"):]
    section = deployment[deployment.index("\n### Settings\n"):]
    section = section[:section.index("\n### ", 1)]
    rows = [line.split(" | ") for line in section.splitlines() if line.startswith("| `")]
    return {cells[0].removeprefix("| ").strip("`"): cells[1] for cells in rows}


def config_keys() -> set[str]:
    return {name for name in vars(Config) if name.isupper()}


def environment_read() -> set[str]:
    return {name for path in READERS for name in ENVIRON.findall(path.read_text())}


def test_every_setting_has_a_row():
    names = set(settings_table())
    missing = sorted({f"OFFLOAD_{key}" for key in config_keys()} - names)
    assert not missing, f"README's Deployment → Settings has no row for {missing}"
    unread = sorted(environment_read() - names)
    assert not unread, f"read from the environment, not in the README's settings: {unread}"


def test_every_row_is_a_setting():
    known = {f"OFFLOAD_{key}" for key in config_keys()} | environment_read()
    stale = sorted(set(settings_table()) - known)
    assert not stale, f"README's settings name what nothing reads: {stale}"


def test_plain_defaults_are_config_pys():
    table = settings_table()
    for key in config_keys() - {"SECRET_KEY"}:  # its development value is not repeated
        value = getattr(Config, key)
        if isinstance(value, bool | int | float) or (isinstance(value, str) and value):
            shown = value if isinstance(value, str) else json.dumps(value)
            assert table[f"OFFLOAD_{key}"].startswith(f"`{shown}`"), (key, value)


def test_the_reader_finds_the_environment_variables():
    # the pattern above is what keeps the table whole: it must see the known readers
    assert {"DATABASE_URL", "OFFLOAD_INSTANCE_PATH", "WEB_CONCURRENCY", "OFFLOAD_BIND",
            "FORWARDED_ALLOW_IPS", "OFFLOAD_ACCESS_LOG", "PROMETHEUS_MULTIPROC_DIR"} \
        <= environment_read()
