"""Wallet fixtures: funding members, fresh keys, a SQL statement counter, a thread race."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import func, select

from offload.core.db import db
from offload.ledger.models import Transfer
from offload.wallet.services import add_funds, request_withdrawal

_keys = itertools.count(1)


def new_key() -> str:
    return f"test-key-{next(_keys)}"


def transfer_count() -> int:
    db.session.rollback()  # see what other transactions committed
    return db.session.scalar(select(func.count()).select_from(Transfer))


@pytest.fixture
def admin(make_member):
    return make_member("boss", admin=True)


@pytest.fixture
def fund():
    """``fund(member, 50_00)``: add funds through the sandbox, as the member would."""

    def do(member, amount_minor: int):
        return add_funds(actor=member, amount_minor=amount_minor, idempotency_key=new_key())

    return do


@pytest.fixture
def withdraw():
    """``withdraw(member, 10_00)``: request a withdrawal to a sample IBAN."""

    def do(member, amount_minor: int, payout_details: str = "IBAN DE89 3704 0044 0532 0130 00"):
        return request_withdrawal(actor=member, amount_minor=amount_minor,
                                  payout_details=payout_details, idempotency_key=new_key())

    return do



@pytest.fixture
def race(app):
    """``race(n, work)`` runs ``work(i)`` in n threads (own app context and session each),
    released together; returns (results, exceptions)."""

    def run_all(n: int, work: Callable[[int], Any]) -> tuple[list[Any], list[BaseException]]:
        db.session.commit()
        barrier = threading.Barrier(n)
        results: list[Any] = []
        errors: list[BaseException] = []
        lock = threading.Lock()

        def run(i: int) -> None:
            with app.app_context():
                try:
                    barrier.wait(timeout=60)
                    result = work(i)
                    with lock:
                        results.append(result)
                except BaseException as e:  # noqa: BLE001 - every failure is counted
                    with lock:
                        errors.append(e)
                finally:
                    db.session.remove()

        threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
        assert not any(t.is_alive() for t in threads), "a thread hung"
        db.session.rollback()
        return results, errors

    return run_all
