"""The member's unread notifications counter (``User.unread_notifications``): kept by
notify() and the read marks in their own transactions, never negative, checked against
a COUNT (invariant 11, in the money checks), and exact when writers race (PostgreSQL)."""

from __future__ import annotations

import pytest
from sqlalchemy import event, select, update
from sqlalchemy.exc import IntegrityError

from offload.accounts.checks import COUNTER_CHECKS
from offload.accounts.models import User
from offload.core.db import atomic, db
from offload.health import MONEY_CHECKS
from offload.ledger.checks import run_checks
from offload.notifications.queries import unread_count
from offload.notifications.services import (
    mark_all_notifications_read,
    mark_notification_read,
    notify,
    set_notification_preferences,
)


def counter(member_id: int) -> int:
    db.session.rollback()
    return db.session.scalar(select(User.unread_notifications).where(User.id == member_id))


def test_notify_and_the_read_marks_keep_the_counter(make_member):
    ada, bob = make_member(), make_member()
    first = notify(ada, "new_message", title="One")
    notify(ada, "new_message", title="Two")
    notify(ada, "new_message", title="Three")
    notify(bob, "new_message", title="Bob's")
    assert (counter(ada.id), counter(bob.id)) == (3, 1)
    mark_notification_read(first, actor=ada)
    mark_notification_read(first, actor=ada)  # again: nothing more comes off
    assert counter(ada.id) == 2 == unread_count(ada.id)
    assert mark_all_notifications_read(actor=ada) == 2
    assert mark_all_notifications_read(actor=ada) == 0
    assert (counter(ada.id), counter(bob.id)) == (0, 1)
    assert run_checks(COUNTER_CHECKS) == []


def test_a_kind_turned_off_writes_nothing_and_counts_nothing(make_member):
    ada = make_member()
    set_notification_preferences(actor=ada, channels={"new_offer": "off"})
    assert notify(ada, "new_offer", title="Hidden") is None
    assert counter(ada.id) == 0


def test_a_notification_rolled_back_is_not_counted(make_member):
    ada = make_member()
    with pytest.raises(RuntimeError), atomic():
        notify(ada, "new_message", title="Gone")
        raise RuntimeError("the caller's change failed")
    assert counter(ada.id) == 0 == unread_count(ada.id)


def test_a_notification_undone_with_its_savepoint_is_not_counted(make_member):
    ada = make_member()
    with atomic() as session:
        notify(ada, "new_message", title="Kept")
        with pytest.raises(RuntimeError), session.begin_nested():
            notify(ada, "new_message", title="Undone")
            raise RuntimeError("this part failed; the caller carries on")
    assert counter(ada.id) == 1 == unread_count(ada.id)


def test_counters_move_at_commit_in_member_order(make_member):
    """The counters are the last rows a transaction locks, in ascending member order,
    whatever order it notified in: two such transactions can't deadlock on them."""
    ada, bob, cleo = make_member(), make_member(), make_member()
    locked: list[int] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        if statement.startswith("UPDATE users"):
            locked.append(context.compiled_parameters[0]["id_1"])

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        with atomic():
            for member in (cleo, ada, cleo, bob):
                notify(member, "new_message", title="Hi")
            assert locked == []  # nothing locked before the commit
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    assert locked == sorted([ada.id, bob.id, cleo.id])
    assert (counter(ada.id), counter(bob.id), counter(cleo.id)) == (1, 1, 2)


def test_a_short_counter_stops_at_zero_and_the_check_says_so(make_member):
    ada = make_member()
    notify(ada, "new_message", title="One")
    notify(ada, "new_message", title="Two")
    with atomic() as session:  # left short, as by a worker of the release before
        session.execute(update(User).where(User.id == ada.id).values(unread_notifications=1))
    assert mark_all_notifications_read(actor=ada) == 2
    assert counter(ada.id) == 0 and run_checks(COUNTER_CHECKS) == []


def test_the_counter_is_never_negative(make_member):
    ada = make_member()
    with pytest.raises(IntegrityError), atomic() as session:
        session.execute(update(User).where(User.id == ada.id)
                        .values(unread_notifications=User.unread_notifications - 1))


def test_a_counter_that_drifted_fails_the_check(make_member):
    ada, _bob = make_member(), make_member()
    notify(ada, "new_message", title="Hi")
    assert run_checks(MONEY_CHECKS) == []
    with atomic() as session:  # a write that went around notify()
        session.execute(update(User).where(User.id == ada.id).values(unread_notifications=3))
    failures = run_checks(MONEY_CHECKS)
    assert [f.invariant for f in failures] == [11]
    assert f"member {ada.id}: unread notifications counter 3, 1 unread rows" in str(failures[0])


def test_the_top_bar_shows_the_counter(client, login, make_member):
    ada = make_member()
    login(ada)
    notify(ada, "new_message", title="Hi")
    notify(ada, "new_message", title="Again")
    html = client.get("/dashboard").get_data(as_text=True)
    assert 'Notifications <span class="badge">2<span class="visually-hidden"> unread' in html
    mark_all_notifications_read(actor=db.session.get(User, ada.id))
    assert "Notifications</a>" in " ".join(client.get("/dashboard").get_data(as_text=True)
                                           .split())


@pytest.mark.postgres_only
def test_notifications_written_at_once_all_count(make_member, race):
    ada = make_member()
    notify(ada, "new_message", title="Before")
    ada_id = ada.id  # read here: race() commits, and an expired ada would refresh through
    # this thread's session from every thread at once

    def write(i: int):
        with atomic():
            return notify(db.session.get(User, ada_id), "new_message", title=f"At once {i}").id

    for _ in range(5):
        results, errors = race(4, write)
        assert errors == [] and len(results) == 4
    assert counter(ada.id) == 21 == unread_count(ada.id)

    def read_all(i: int):
        return mark_all_notifications_read(actor=db.session.get(User, ada_id))

    results, errors = race(3, read_all)  # each unread row comes off once
    assert errors == [] and sorted(results) == [0, 0, 21]
    assert counter(ada.id) == 0
    assert run_checks(COUNTER_CHECKS) == []
