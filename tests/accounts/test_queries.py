"""The signed-in member's read model: one statement loads what every page needs, and
the services that views call with ``actor=current_user`` work with it."""

from __future__ import annotations

import dataclasses

import pytest
from flask_login import UserMixin

from offload.accounts.models import User
from offload.accounts.queries import SignedIn, member_named, member_row, signed_in
from offload.accounts.services import end_all_sessions, set_work_role
from offload.core.db import atomic, db, utcnow
from offload.notifications.services import notify
from offload.profiles.services import update_profile


def test_one_statement_loads_the_member_with_the_flags_and_badges(make_member,
                                                                 count_queries):
    ada = make_member("ada", display_name="Ada L.", confirmed=False, admin=True)
    notify(ada, "new_message", title="Hi")
    ada_id, token = ada.id, ada.session_token
    db.session.rollback()
    with count_queries() as statements:
        member = signed_in(ada_id, token)
    assert [s for s in statements if s.startswith("SELECT")] == statements[-1:]
    assert member == SignedIn(
        id=ada_id, username="ada", display_name="Ada L.", email="ada@example.com",
        account_type="individual", organization_name=None, work_role="both", is_admin=True,
        is_confirmed=False, session_token=token, unread_notifications=1,
        unread_messages=0)
    assert member.name == "Ada L." and member.get_id() == f"{ada_id}:{token}"
    assert member.is_authenticated and member.is_active and not member.is_anonymous
    # what Flask-Login asks of a user, as the ORM row answers it
    assert {name for name in dir(UserMixin) if not name.startswith("_")} <= set(dir(member))


def test_no_member_for_a_wrong_token_an_unknown_id_or_a_suspension(make_member):
    ada = make_member()
    assert signed_in(ada.id, "not-the-token") is None
    assert signed_in(ada.id + 1000, ada.session_token) is None
    with atomic():
        db.session.get(User, ada.id).suspended_at = utcnow()
    assert signed_in(ada.id, ada.session_token) is None


def test_the_read_model_is_immutable_and_reads_other_columns_from_the_row(make_member):
    ada = make_member()
    member = signed_in(ada.id, ada.session_token)
    with pytest.raises(dataclasses.FrozenInstanceError):
        member.display_name = "Someone else"
    assert member.password_hash == ada.password_hash  # from the row, loaded on first use
    assert member_row(member) is member.entity and isinstance(member.entity, User)
    assert member_row(ada) is ada
    with pytest.raises(AttributeError):
        member._sa_instance_state  # noqa: B018 - never handed to the ORM as an entity


def test_services_that_change_the_member_change_the_row(make_member):
    ada = make_member("ada")
    update_profile(actor=signed_in(ada.id, ada.session_token), display_name="Ada Lovelace",
                   headline="", bio="", location="")
    set_work_role(signed_in(ada.id, ada.session_token), "take_on")
    db.session.rollback()
    assert (signed_in(ada.id, ada.session_token).name,
            signed_in(ada.id, ada.session_token).work_role) == ("Ada Lovelace", "take_on")
    old = ada.session_token
    member = signed_in(ada.id, old)
    end_all_sessions(member)
    assert member.get_id() == f"{ada.id}:{member.entity.session_token}" != f"{ada.id}:{old}"
    assert signed_in(ada.id, old) is None


def test_member_named_takes_the_name_as_typed(app, make_member):
    bob = make_member("bob", confirmed=False)
    for typed in ("bob", "Bob", " @BOB "):
        assert member_named(typed) is bob
    for typed in ("", None, "  ", "@", "bobby"):
        assert member_named(typed) is None
