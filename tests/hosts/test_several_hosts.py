"""Two gunicorn instances and two workers on one PostgreSQL and one Redis
(tests/hosts/conftest.py), driven over HTTP as members' browsers and tools drive them.

The ledger tests' races, each sent to both instances at once: one milestone funded from
two tabs, then released from two; two withdrawals that together overdraw; one award
accepted twice; one API request with one ``Idempotency-Key`` sent to both. During a
burst of deposits one gunicorn worker is killed (SIGKILL); the requests it lost are sent
again, with their keys, to the other instance. Then: the log-in limit counted once for
both instances, each mail sent once, each periodic job run once per due time, the
ledger check clean, the outbox empty.
"""

from __future__ import annotations

import os
import signal
import socket
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from email.header import decode_header, make_header
from html.parser import HTMLParser

import pytest
import requests
from sqlalchemy import func, select

from offload.accounts.models import PasswordResetRequest
from offload.accounts.services import create_personal_token
from offload.core.db import db
from offload.jobs.models import JobRun
from offload.jobs.registry import JOBS
from offload.ledger.services import wallet_account
from offload.milestones.models import Milestone, MilestoneState
from offload.notifications.models import OutboxEmail
from offload.offers.models import Offer
from offload.offers.services import award_offer
from offload.projects.models import Project
from offload.wallet.models import Deposit, Withdrawal
from tests.support.factories import PASSWORD, fund, new_gig, new_member, new_offer, new_project
from tests.support.milestones import add

from .conftest import FAILED_LOGINS_ALLOWED

pytestmark = pytest.mark.hosts

TIMEOUT = 30  # seconds any one request may take


class _Forms(HTMLParser):
    """Every form of a page: its action and the values its inputs would send."""

    def __init__(self):
        super().__init__()
        self.forms: dict[str, dict[str, str]] = {}
        self._current: dict[str, str] | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self._current = self.forms.setdefault(attrs.get("action") or "", {})
        elif (tag == "input" and self._current is not None and attrs.get("name")
              and (attrs.get("type") not in {"checkbox", "radio", "submit"}
                   or "checked" in attrs)):
            self._current[attrs["name"]] = attrs.get("value") or ""

    def handle_endtag(self, tag):
        if tag == "form":
            self._current = None


class Tab:
    """One browser tab of a member's: the member's cookies, on whichever instance."""

    def __init__(self, cookies=None):
        self.http = requests.Session()
        if cookies is not None:
            self.http.cookies.update(cookies)

    def form(self, base: str, page: str, action: str) -> dict[str, str]:
        """The form posting to ``action`` as ``page`` shows it (its CSRF token, its own
        one-time key)."""
        response = self.http.get(base + page, timeout=TIMEOUT)
        assert response.status_code == 200, (page, response.status_code)
        parser = _Forms()
        parser.feed(response.text)
        assert action in parser.forms, f"no form posting to {action} on {page}"
        return dict(parser.forms[action])

    def post(self, base: str, action: str, data: dict[str, str]) -> int:
        return self.http.post(base + action, data=data, allow_redirects=False,
                              timeout=TIMEOUT).status_code

    def log_in(self, base: str, username: str, password: str = PASSWORD) -> int:
        data = self.form(base, "/login", "")  # the log-in form posts to its own URL
        return self.post(base, "/login", {**data, "login": username, "password": password})

    def tab(self) -> Tab:
        """Another tab of the same browser: the same session."""
        return Tab(self.http.cookies)


def at_once(*calls):
    """Run the calls in threads released together; their results, in order."""
    barrier = threading.Barrier(len(calls))

    def run(call):
        barrier.wait()
        return call()

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(run, calls))


def from_two_tabs(cluster, browser: Tab, page: str, action: str,
                  **typed: str) -> list[int]:
    """Two tabs of ``browser`` open ``page``, one on each instance, each with its own
    copy of the form (its own one-time key); both post it at once (with ``typed``
    filled in). The two statuses, sorted."""
    tabs = [browser.tab(), browser.tab()]
    forms = [{**tab.form(base, page, action), **typed}
             for tab, base in zip(tabs, cluster.instances, strict=True)]
    return sorted(at_once(*(lambda t=t, base=base, f=f: t.post(base, action, f)
                            for t, base, f in zip(tabs, cluster.instances, forms,
                                                  strict=True))))


def logged_in(cluster, username: str) -> Tab:
    browser = Tab()
    assert browser.log_in(cluster.instances[0], username) == 302
    return browser


def read(cluster, query):
    with cluster.app.app_context():
        return query()


def wallets(cluster, *user_ids: int) -> list[tuple[int, int]]:
    """(available, held) of each member's wallet, as committed now."""
    def balances():
        accounts = [wallet_account(user_id) for user_id in user_ids]
        return [(account.available, account.held) for account in accounts]

    return read(cluster, balances)


def test_failed_log_ins_on_both_instances_count_against_one_limit(cluster):
    with cluster.app.app_context():
        new_member("lena")
    a, b = cluster.instances
    browser = Tab()
    statuses = [browser.log_in((a, b)[i % 2], "lena", "not the password")
                for i in range(FAILED_LOGINS_ALLOWED + 2)]
    # each instance has two workers: counted apart, 4 × the limit would go through
    assert statuses == [422] * FAILED_LOGINS_ALLOWED + [429] * 2, statuses
    # from now on even the right password waits; another member still logs in
    assert Tab().log_in(b, "lena", PASSWORD) == 429
    with cluster.app.app_context():
        new_member("mira")
    assert Tab().log_in(a, "mira") == 302


def test_money_races_across_both_instances_settle_once(cluster):
    a, b = cluster.instances
    app = cluster.app
    with app.app_context():
        customer, performer = new_member("hana"), new_member("omar")
        fund(customer, 1000_00)
        fund(performer, 10_00)  # a task offer's prepaid click
        project = new_project(customer, performer, kind="task")
        milestone_id = add(project, customer, amount=150_00).id
        project_id = project.id
        gig = new_gig(customer, kind="referral")
        offer = new_offer(gig, performer)
        award_offer(offer, actor=customer)
        offer_id, gig_id = offer.id, gig.id
        wendy = new_member("wendy")
        fund(wendy, 100_00)
        dora = new_member("dora")
        token = create_personal_token(actor=dora, name="several hosts",
                                      scopes=["read", "wallet"], days=7).secret
        ids = {"customer": customer.id, "performer": performer.id, "wendy": wendy.id,
               "dora": dora.id}

    before = wallets(cluster, ids["customer"], ids["performer"])
    hana, omar, wendy_browser = (logged_in(cluster, name) for name in ("hana", "omar", "wendy"))
    page = f"/projects/{project_id}"

    # the same milestone funded from two tabs (each with its own one-time key), one on
    # each instance: one hold
    assert from_two_tabs(cluster, hana, page, f"/milestones/{milestone_id}/fund") == [302, 422]
    assert wallets(cluster, ids["customer"], ids["performer"]) == [
        (before[0][0] - 150_00, before[0][1] + 150_00), before[1]]

    # ...then released from two: paid out once
    assert from_two_tabs(cluster, hana, page, f"/milestones/{milestone_id}/release") \
        == [302, 422]
    assert wallets(cluster, ids["customer"], ids["performer"]) == [
        (before[0][0] - 150_00, before[0][1]), (before[1][0] + 150_00, before[1][1])]
    assert read(cluster, lambda: db.session.get(Milestone, milestone_id).state) \
        == MilestoneState.RELEASED

    # two withdrawals of $70 from a $100 wallet, one on each instance: one is held
    assert from_two_tabs(cluster, wendy_browser, "/wallet", "/wallet/withdrawals",
                         **{"withdrawal-amount": "70", "withdrawal-payout_details":
                            "IBAN DE89 3704 0044 0532 0130 00"}) == [302, 422]
    assert wallets(cluster, ids["wendy"]) == [(30_00, 70_00)]
    assert read(cluster, lambda: db.session.scalar(select(func.count(Withdrawal.id)).where(
        Withdrawal.member_id == ids["wendy"]))) == 1

    # one award accepted from two tabs, one on each instance: one project (the button
    # goes back to the offer either way, saying why when refused)
    statuses = from_two_tabs(cluster, omar, f"/offers/{offer_id}",
                             f"/offers/{offer_id}/accept-award")
    assert statuses == [302, 302], statuses
    assert read(cluster, lambda: db.session.scalar(select(func.count(Project.id)).where(
        Project.gig_id == gig_id))) == 1
    assert read(cluster, lambda: db.session.get(Offer, offer_id).state) == "accepted"

    # one API deposit, one key, sent to both instances at once: one deposit
    api = {"Authorization": f"Bearer {token}", "Idempotency-Key": "hosts-one-deposit"}

    def deposit(base: str, amount: int = 25_00, headers=api) -> requests.Response:
        return requests.post(f"{base}/api/v1/wallet/deposits", json={"amount_minor": amount},
                             headers=headers, timeout=TIMEOUT)

    answers = at_once(lambda: deposit(a), lambda: deposit(b))
    # one makes it; the other answers as the first did, or says to retry (409)
    assert {r.status_code for r in answers} <= {201, 409}, [r.text for r in answers]
    again = deposit(b)
    assert again.status_code == 201
    assert {r.json()["id"] for r in [*answers, again] if r.status_code == 201} \
        == {again.json()["id"]}
    assert wallets(cluster, ids["dora"]) == [(25_00, 0)]

    # a burst of deposits at instance a, one of whose workers is killed meanwhile; what
    # it lost goes again, with the same keys, to instance b: each key credited once
    keys = [f"hosts-burst-{i}" for i in range(12)]
    killed = _children(cluster.servers[0].pid)[0]

    def burst(key: str) -> int | None:
        try:
            return deposit(a, 10_00, {**api, "Idempotency-Key": key}).status_code
        except requests.ConnectionError:
            return None

    with ThreadPoolExecutor(len(keys)) as pool:
        answered = pool.map(burst, keys)
        time.sleep(0.05)
        os.kill(killed, signal.SIGKILL)
        answered = list(answered)
    lost = [key for key, status in zip(keys, answered, strict=True) if status != 201]
    for key in lost:
        assert deposit(b, 10_00, {**api, "Idempotency-Key": key}).status_code == 201
    assert wallets(cluster, ids["dora"]) == [(25_00 + 12 * 10_00, 0)]
    assert read(cluster, lambda: db.session.scalar(select(func.count(Deposit.id)).where(
        Deposit.member_id == ids["dora"]))) == 1 + 12
    _wait_for(lambda: len(_children(cluster.servers[0].pid)) == 2
              and killed not in _children(cluster.servers[0].pid), "a new gunicorn worker")
    assert requests.get(a + "/healthz", timeout=TIMEOUT).status_code == 200

    # password resets asked on both instances: mailed by whichever worker claims them
    for base, email in ((a, "hana@example.com"), (b, "omar@example.com")):
        browser = Tab()
        assert browser.post(base, "/reset", {**browser.form(base, "/reset", ""),
                                             "email": email}) == 302

    _every_mail_sent_once(cluster)
    _fragments_shared(cluster, hana)
    started = _periodic_runs(cluster)
    assert cluster.stop_workers() == [0, 0]  # SIGTERM: each finished and released its claim
    _each_periodic_job_ran_once_per_due_time(cluster, started)

    checked = cluster.flask("ledger", "check")
    assert checked.returncode == 0, checked.stdout + checked.stderr


def _children(pid: int) -> list[int]:
    """A process's children (a gunicorn master's: its workers)."""
    return [int(child) for child in
            open(f"/proc/{pid}/task/{pid}/children").read().split()]


def _wait_for(condition, what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"no {what} after {timeout} s"
        time.sleep(0.1)


def _every_mail_sent_once(cluster) -> None:
    """The resets are resolved and the outbox empties, and the SMTP server got each
    row's letter exactly once."""
    def waiting() -> int:  # a reset request's mail is queued as the request is taken
        return db.session.scalar(select(func.count(PasswordResetRequest.id))) \
            + db.session.scalar(select(func.count(OutboxEmail.id)).where(
                OutboxEmail.sent_at.is_(None)))

    def drained() -> bool:
        return read(cluster, waiting) == 0

    _wait_for(drained, "empty outbox")
    rows = read(cluster, lambda: Counter(
        (to, subject) for to, subject in db.session.execute(
            select(OutboxEmail.to_address, OutboxEmail.subject))))
    assert sum(rows.values()) >= 6  # funded, released, awarded... and two resets
    _wait_for(lambda: len(cluster.smtp.messages) >= sum(rows.values()), "all the mail")
    time.sleep(0.5)  # a letter sent twice would arrive about now
    sent = Counter((message["X-Envelope-To"].lower(),
                    str(make_header(decode_header(message["Subject"]))))
                   for message in cluster.smtp.messages)
    assert sent == rows


def _fragments_shared(cluster, browser: Tab) -> None:
    """The board's fragments land in the one Redis, whichever instance renders them,
    beside the rate limits' counts."""
    for base in cluster.instances:
        assert browser.http.get(base + "/gigs", timeout=TIMEOUT).status_code == 200
    keys = _redis(cluster.redis_port, "SELECT 1", "DBSIZE")
    assert keys > 0, "no cache key in Redis"
    assert _redis(cluster.redis_port, "SELECT 0", "DBSIZE") > 0, "no limit in Redis"


def _redis(port: int, *commands: str) -> int:
    """The integer answer of the last of ``commands`` (inline protocol)."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
        conn.sendall("".join(f"{c}\r\n" for c in commands).encode())
        answer = b""
        while answer.count(b"\r\n") < len(commands):
            answer += conn.recv(4096)
    last = answer.split(b"\r\n")[len(commands) - 1]
    assert last.startswith(b":"), answer
    return int(last[1:])


def _periodic_runs(cluster) -> dict[str, list[str]]:
    """When each periodic job started, by the workers' log lines (both workers)."""
    periodic = {job.name for job in JOBS if job.is_periodic}
    runs: dict[str, list[str]] = {name: [] for name in periodic}
    for line in cluster.job_lines():
        name = line.get("job")
        if name in periodic and line["message"].startswith(f"{name}: "):
            runs[name].append(line["time"])
    return runs


def _each_periodic_job_ran_once_per_due_time(cluster, runs: dict[str, list[str]]) -> None:
    every = {job.name: job.every for job in JOBS if job.is_periodic}
    assert all(runs.values()), {name: len(times) for name, times in runs.items()}
    for name, times in runs.items():
        started = sorted(datetime.fromisoformat(t) for t in times)
        # the two workers took turns at most once per interval: never two runs in one
        assert all(later - earlier >= every[name] - (every[name] / 60)
                   for earlier, later in zip(started, started[1:], strict=False)), (name, started)
    claims = read(cluster, lambda: {run.name: run for run in db.session.scalars(
        select(JobRun))})
    for name in runs:
        assert claims[name].locked_until is None, name  # released, not left to expire
        assert claims[name].last_succeeded_at is not None, (name, claims[name].last_outcome)
