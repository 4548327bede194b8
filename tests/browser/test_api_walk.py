"""The README's referral walk with curl (gig → offer → award → accept → timeline →
completion), run as it is written, by bash, curl and jq, against the live server."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import select

from offload.accounts.services import create_personal_token
from offload.commissions.models import Commission
from offload.core.db import db
from offload.ledger.checks import run_checks
from offload.projects.models import Project

pytestmark = pytest.mark.browser

README = Path(__file__).resolve().parents[2] / "README.md"


def readme_walk() -> str:
    """The shell block after the README's ``<!-- api-walk -->`` mark."""
    text = README.read_text()
    found = re.search(r"<!-- api-walk -->\n```sh\n(.*?)\n```", text, flags=re.S)
    assert found, "the README has lost its API walk"
    return found.group(1)


def test_the_readmes_referral_walk_runs_with_curl(live_server, make_member):
    assert shutil.which("curl") and shutil.which("jq"), "the walk needs curl and jq"
    ada, bo = make_member("ada"), make_member("bo")
    tokens = {
        "ADA_TOKEN": create_personal_token(actor=ada, name="walk", days=30,
                                           scopes=["read", "offers", "projects"]).secret,
        "BO_TOKEN": create_personal_token(actor=bo, name="walk", days=30,
                                          scopes=["read", "offers", "projects", "wallet"]).secret,
    }
    db.session.commit()
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", readme_walk()], capture_output=True, text=True,
        timeout=120, env={"PATH": os.environ["PATH"], "BASE": f"{live_server}/api/v1",
                          **tokens})
    assert done.returncode == 0, (done.stdout, done.stderr)

    lines = done.stdout.splitlines()
    assert any(line.endswith("Port a shop from PHP to Flask") for line in lines)  # board
    assert "1. bo 500000" in lines  # the ranked offers
    assert "client_contacted: Kick-off call with Acme done." in lines  # the timeline
    db.session.expire_all()
    project = db.session.scalars(select(Project)).one()
    commission = db.session.scalars(select(Commission)).one()
    assert (project.performer_id, commission.payer_id, commission.referrer_id,
            commission.state) == (bo.id, bo.id, ada.id, "paid")
    assert (commission.invoiced_minor, commission.commission_minor) == (500000, 50000)
    assert '"commission": "paid"' in done.stdout
    assert run_checks() == []
