"""The browser suite: a live server on loopback, a real SMTP server, Debian's Chromium.

Run with ``pytest -m browser`` (``make test-browser``). CSRF is on, mail really goes
through SMTP (sent by a mail worker running beside the live server), and each step's
screenshot is saved under tests/artifacts/.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from offload import create_app
from offload.core.db import db
from tests.support.app import app_config, running_mail_worker, session_database
from tests.support.smtp import SMTPServer, free_port

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {**browser_type_launch_args, "executable_path": "/usr/bin/chromium",
            "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def smtp():
    with SMTPServer() as server:
        yield server


@pytest.fixture(scope="session")
def app(tmp_path_factory, smtp):
    port = free_port()
    with session_database() as database:
        app = create_app(app_config(
            tmp_path_factory.mktemp("browser"), WTF_CSRF_ENABLED=True,
            CANONICAL_URL=f"http://127.0.0.1:{port}", MAIL_BACKEND="smtp",
            MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp.port, MAIL_SUPPRESS_SEND=False,
            **database))
        app.config["LIVE_PORT"] = port
        with app.app_context():
            db.create_all()
        yield app


@pytest.fixture(scope="session")
def live_server(app):
    server = make_server("127.0.0.1", app.config["LIVE_PORT"], app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    with running_mail_worker(app):  # the mail, as `make run` sends it: beside the site
        yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture
def shot():
    """``shot(page, "01-login")`` saves a full-page screenshot under tests/artifacts/."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)

    def take(page, name: str) -> Path:
        path = ARTIFACTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take
