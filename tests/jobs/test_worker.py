"""``flask jobs worker``: delivery, claims across workers, schedules, stopping, NOTIFY."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import update

from offload.accounts.services import request_password_reset
from offload.core.db import atomic, db, utcnow
from offload.jobs import registry, worker
from offload.jobs.models import JobRun
from offload.jobs.runner import run_claimed
from offload.jobs.worker import Worker
from offload.notifications import services
from offload.notifications.services import notify, queue_email
from offload.webhooks.services import create_webhook_endpoint
from tests.support.app import listening_worker
from tests.support.webhooks import Receiver

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def sent(monkeypatch):
    """Sending is recorded (with a little of SMTP's slowness), not done."""
    messages: list[str] = []
    lock = threading.Lock()

    def send(**mail):
        time.sleep(0.005)
        with lock:
            messages.append(mail["to"])

    monkeypatch.setattr(services, "send_email", send)
    return messages


def in_threads(app, *targets, timeout: float = 60) -> None:
    """Run each target at the same moment, each in a thread with its own app context."""
    barrier, errors = threading.Barrier(len(targets)), []

    def run(target):
        with app.app_context():
            try:
                barrier.wait()
                target()
            except Exception as error:  # shown by the assertion below
                errors.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(t,)) for t in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    assert not errors, errors
    assert not any(thread.is_alive() for thread in threads)


def test_the_worker_delivers_committed_mail_and_resolves_resets(app, make_member, outbox, sent):
    make_member("ada")
    with atomic():
        queue_email("bob@example.com", "notification", title="Hi", link_url=None)
    request_password_reset("ada@example.com")
    request_password_reset("nobody@example.com")
    Worker(app, jobs=()).run_once()
    assert sorted(sent) == ["ada@example.com", "bob@example.com"]
    assert all(mail.sent_at is not None for mail in outbox.all())
    assert outbox.to("ada@example.com")[0].template == "reset_password"


def test_two_workers_at_once_never_send_a_mail_twice(app, outbox, sent):
    with atomic():
        for n in range(40):
            queue_email(f"m{n}@example.com", "notification", title="Hi", link_url=None)
    workers = [Worker(app, jobs=()), Worker(app, jobs=())]
    in_threads(app, *(worker.run_once for worker in workers))
    assert sorted(sent) == sorted(f"m{n}@example.com" for n in range(40))
    assert all(mail.sent_at is not None for mail in outbox.all())


def test_a_periodic_job_runs_once_per_schedule_across_workers(app):
    runs = []
    job = registry.Job("count", lambda: runs.append(1) or f"run {len(runs)}",
                       timedelta(hours=1))
    workers = [Worker(app, jobs=(job,)), Worker(app, jobs=(job,))]
    in_threads(app, *(worker.run_once for worker in workers))
    assert len(runs) == 1
    in_threads(app, *(worker.run_once for worker in workers))
    assert len(runs) == 1  # not due for an hour
    row = db.session.get(JobRun, "count")
    assert row.locked_until is None and row.last_outcome == "run 1"
    assert row.next_run_at - row.last_started_at == timedelta(hours=1)

    with atomic():  # an hour later
        db.session.execute(update(JobRun).values(next_run_at=utcnow() - timedelta(seconds=1)))
    in_threads(app, *(worker.run_once for worker in workers))
    assert len(runs) == 2


def test_a_job_running_somewhere_is_not_started_again(app):
    started, release = threading.Event(), threading.Event()

    def slow() -> str:
        started.set()
        release.wait(10)
        return "done"

    job = registry.Job("slow", slow, timedelta(minutes=1))

    def first():
        assert run_claimed(job) == "done"

    def second():
        started.wait(10)
        # neither a worker (due or not) nor cron runs it while it runs elsewhere
        assert run_claimed(job, now=utcnow() + timedelta(minutes=2)) is None
        assert run_claimed(job, on_schedule=False) is None
        release.set()

    in_threads(app, first, second)
    assert run_claimed(job, on_schedule=False) == "done"  # cron: once it is free


def test_a_failing_job_releases_its_claim_and_the_worker_goes_on(app, caplog):
    def broken() -> str:
        raise RuntimeError("boom")

    ran = []
    jobs = (registry.Job("broken", broken, timedelta(minutes=1)),
            registry.Job("next", lambda: ran.append(1) or "ok", timedelta(minutes=1)))
    Worker(app, jobs=jobs).run_once()
    assert ran == [1] and "job broken failed" in caplog.text
    row = db.session.get(JobRun, "broken")
    assert row.locked_until is None and row.last_outcome == "FAILED: RuntimeError: boom"


def _start_worker(app, tmp_path: Path, *args: str) -> tuple[subprocess.Popen, Path]:
    log_path = tmp_path / "worker.log"
    env = {**os.environ, "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
           "OFFLOAD_INSTANCE_PATH": str(tmp_path), "OFFLOAD_MAIL_BACKEND": "log",
           "OFFLOAD_CANONICAL_URL": "https://offload.example"}
    with open(log_path, "wb") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "offload", "jobs", "worker", *args],
            cwd=ROOT, env=env, stdout=log_file, stderr=subprocess.STDOUT)
    return process, log_path


def _wait_for_log(process, log_path: Path, text: str, timeout: float = 30) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        output = log_path.read_text()
        if text in output:
            return output
        assert process.poll() is None, output
        time.sleep(0.05)
    raise AssertionError(f"{text!r} not in the worker's log:\n{log_path.read_text()}")


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_the_worker_command_sends_mail_and_stops_cleanly_on_a_signal(app, outbox, tmp_path,
                                                                     signum):
    process, log_path = _start_worker(app, tmp_path, "--poll", "0.2")
    try:
        _wait_for_log(process, log_path, "started")
        with atomic():
            queue_email("ada@example.com", "notification", title="Hello", link_url=None)
        _wait_for_log(process, log_path, "mail to ada@example.com: Hello")
        _wait_for_log(process, log_path, "deliver_outbox: sent 1")
        process.send_signal(signum)
        assert process.wait(timeout=15) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    output = log_path.read_text()
    assert f"stopping ({signum.name})" in output and "stopped" in output
    assert "Traceback" not in output
    db.session.rollback()
    assert outbox.all()[0].sent_at is not None


@pytest.mark.postgres_only
def test_a_notify_wakes_the_worker_long_before_its_poll(app, outbox, sent):
    with listening_worker(app):
        with atomic():
            queue_email("ada@example.com", "notification", title="Hi", link_url=None)
        committed = time.monotonic()
        while not sent and time.monotonic() - committed < 10:
            time.sleep(0.01)
        assert sent == ["ada@example.com"]
        assert time.monotonic() - committed < 2  # the poll would take 60 s


def test_a_flood_of_unknown_addresses_does_not_hold_back_a_real_reset(app, make_member, sent):
    from offload.jobs.worker import BATCH

    make_member("ada", email="ada@example.com")
    for n in range(BATCH + 5):  # queue nothing, but fill more than one batch
        request_password_reset(f"nobody{n}@example.com")
    request_password_reset("ada@example.com")
    Worker(app, jobs=[]).deliver_mail()  # one wake-up
    assert sent == ["ada@example.com"]


def test_a_run_that_outlived_its_lease_does_not_free_the_next_runners_claim(app):
    from offload.jobs.runner import claim_job, release_job

    job = registry.Job("long", lambda: "done", timedelta(minutes=1))
    t0 = utcnow()
    first = claim_job(job, now=t0)
    lease = timedelta(seconds=app.config["JOB_LEASE_SECONDS"])
    second = claim_job(job, now=t0 + lease + timedelta(seconds=1), on_schedule=False)
    assert first is not None and second is not None  # the first lease ran out
    release_job(job, "done late", first)  # the first runner finishes late
    with atomic() as session:
        held = session.get(JobRun, "long")
        assert held.locked_until == second  # still the second runner's
    assert claim_job(job, now=t0 + lease + timedelta(seconds=2), on_schedule=False) is None


def test_slow_webhooks_hand_the_loop_back_to_mail_between_slices(app, make_member,
                                                                  monkeypatch):
    """Each pass sends webhooks for WEBHOOK_SLICE_SECONDS at most, then mail and resets
    have their turn: slow receivers don't hold the outbox for a whole batch."""
    ada = make_member("ada")
    passes = []
    deliver = worker.deliver_webhooks

    def counted(**kwargs):
        passes.append(deliver(**kwargs))
        return passes[-1]

    with Receiver() as receiver:
        create_webhook_endpoint(actor=ada, url=receiver.url, events=["message.received"])
        for i in range(4):
            notify(ada, "new_message", title=f"message {i}", link="/dashboard")
        db.session.commit()
        receiver.delay = 0.4
        monkeypatch.setattr(worker, "WEBHOOK_SLICE_SECONDS", 0.5)
        monkeypatch.setattr(worker, "deliver_webhooks", counted)
        Worker(app, jobs=()).deliver_mail()
    assert len(receiver.received) == sum(p.delivered for p in passes) == 4
    assert max(p.delivered for p in passes) < 4 and len(passes) >= 3


def test_a_failed_run_keeps_when_the_job_last_succeeded(app):
    outcomes = iter(["fine", "boom"])

    def flaky() -> str:
        outcome = next(outcomes)
        if outcome == "boom":
            raise RuntimeError(outcome)
        return outcome

    job = registry.Job("flaky", flaky, timedelta(minutes=1))
    run_claimed(job, on_schedule=False)
    succeeded = db.session.get(JobRun, "flaky").last_succeeded_at
    assert succeeded is not None
    db.session.rollback()
    with pytest.raises(RuntimeError):
        run_claimed(job, on_schedule=False)
    row = db.session.get(JobRun, "flaky")
    assert row.last_outcome == "FAILED: RuntimeError: boom"
    assert row.last_succeeded_at == succeeded and row.last_finished_at > succeeded
