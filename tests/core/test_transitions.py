"""``move_row`` and ``update_row``: the guarded single-row change every lifecycle uses."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from offload.contact.models import CONTACT_TRANSITIONS, ContactMessage, ContactState
from offload.contact.services import send_contact_message
from offload.core.db import atomic, db, utcnow
from offload.core.errors import Conflict
from offload.core.transitions import move_row, update_row
from tests.support.factories import fresh


@pytest.fixture
def message(app):
    return send_contact_message(actor=None, name="Vera", email="vera@example.com",
                                subject="Joining", body="How do I get an invite?")


def answer(message: ContactMessage, **values):
    with atomic():
        move_row(message, ContactState.ANSWERED, CONTACT_TRANSITIONS,
                 not_allowed=lambda frm: f"already {frm.value}", refused="moved on",
                 reply="Ask a member.", answered_at=utcnow(), **values)


def test_a_move_writes_the_row_and_the_loaded_object(message, make_member):
    admin = make_member("ada", admin=True)
    answer(message, answered_by_id=admin.id)
    assert (message.state, message.reply, message.answered_by_id) == (
        "answered", "Ask a member.", admin.id)
    row = fresh(message)
    assert (row.state, row.reply, row.answered_by_id) == ("answered", "Ask a member.", admin.id)


def test_a_move_the_table_lacks_is_refused_with_the_state_it_is_in(message, make_member):
    admin = make_member("ada", admin=True)
    answer(message, answered_by_id=admin.id)
    with pytest.raises(Conflict, match="already answered"):
        answer(message, answered_by_id=admin.id)


def test_a_row_that_moved_on_meanwhile_changes_nothing(message, make_member):
    admin = make_member("ada", admin=True)
    assert message.state == "open"  # as this session read it
    with atomic():  # another admin answers behind its back
        db.session.execute(update(ContactMessage).where(ContactMessage.id == message.id)
                           .values(state="answered", reply="Theirs.", answered_at=utcnow(),
                                   answered_by_id=admin.id)
                           .execution_options(synchronize_session=False))
        with pytest.raises(Conflict, match="moved on"):
            answer(message, answered_by_id=admin.id)
    assert fresh(message).reply == "Theirs."


def test_without_a_refusal_a_lost_race_answers_false(message):
    with atomic():
        assert update_row(message, ContactMessage.state == "open", refused=None,
                          subject="Renamed")
        assert not update_row(message, ContactMessage.state == "answered", refused=None,
                              subject="Again")
    assert fresh(message).subject == "Renamed"
