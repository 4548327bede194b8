"""Making, replacing and revoking a feed link; the token is derived, never stored."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import select

from offload.accounts.services import change_password
from offload.cases.services import open_case, resolve_case
from offload.core.db import db
from offload.core.errors import Conflict, Invalid
from offload.feeds.models import FeedToken
from offload.feeds.queries import feed_link_of, feed_reader
from offload.feeds.services import make_feed_link, revoke_feed_link
from tests.support.factories import PASSWORD, new_key


def test_a_link_is_shown_again_but_only_its_salt_and_hash_are_stored(make_member):
    ada = make_member("ada")
    made = make_feed_link(actor=ada, once_key=new_key())
    row = db.session.scalar(select(FeedToken))
    assert row.token_hash == hashlib.sha256(made.token.encode()).hexdigest()
    assert all(made.token not in str(value) for value in (row.salt, row.token_hash))
    assert feed_link_of(ada.id).token == made.token  # the settings page shows it again
    assert feed_reader(made.token).member.id == ada.id


def test_a_new_link_ends_the_old_one(make_member):
    ada = make_member("ada")
    old = make_feed_link(actor=ada, once_key=new_key()).token
    new = make_feed_link(actor=ada, once_key=new_key()).token
    assert new != old
    assert feed_reader(old) is None and feed_reader(new).member.id == ada.id
    assert db.session.scalar(select(db.func.count()).select_from(FeedToken)) == 1


def test_the_same_form_twice_makes_one_link(make_member):
    ada = make_member("ada")
    key = new_key()
    made = make_feed_link(actor=ada, once_key=key).token
    with pytest.raises(Conflict, match="already made"):
        make_feed_link(actor=ada, once_key=key)
    assert feed_link_of(ada.id).token == made
    with pytest.raises(Invalid, match="one-time key"):
        make_feed_link(actor=ada, once_key="")


def test_revoking_ends_the_link_once(make_member):
    ada = make_member("ada")
    token = make_feed_link(actor=ada, once_key=new_key()).token
    revoke_feed_link(actor=ada)
    assert feed_reader(token) is None and feed_link_of(ada.id) is None
    with pytest.raises(Conflict, match="no feed link"):
        revoke_feed_link(actor=ada)


def test_each_members_token_is_their_own(make_member):
    ada, bob = make_member("ada"), make_member("bob")
    tokens = [make_feed_link(actor=m, once_key=new_key()).token for m in (ada, bob)]
    assert [feed_reader(t).member.id for t in tokens] == [ada.id, bob.id]


def test_a_changed_secret_key_ends_every_link(app, make_member):
    ada = make_member("ada")
    token = make_feed_link(actor=ada, once_key=new_key()).token
    app.config["SECRET_KEY"] = "another-secret"
    try:
        assert feed_link_of(ada.id) is None  # the settings page offers a new one
        assert feed_reader(token).member.id == ada.id  # until a new one is made
        fresh = make_feed_link(actor=ada, once_key=new_key()).token
        assert feed_reader(token) is None and feed_link_of(ada.id).token == fresh
    finally:
        app.config["SECRET_KEY"] = "test-secret"


@pytest.mark.parametrize("token", ["", "offload_feed_", "offload_pat_x", "x" * 500,
                                   "offload_feed_" + "A" * 43])
def test_what_is_no_live_token_speaks_for_nobody(make_member, token):
    make_feed_link(actor=make_member(), once_key=new_key())
    assert feed_reader(token) is None


def test_a_password_change_revokes_the_link(make_member):
    ada = make_member("ada")
    token = make_feed_link(actor=ada, once_key=new_key()).token
    change_password(ada, current_password=PASSWORD, new_password="a new long passphrase")
    assert feed_reader(token) is None and feed_link_of(ada.id) is None


def test_a_suspension_revokes_the_link(make_member):
    admin = make_member("root", admin=True)
    ada = make_member("ada", inviter=admin)
    token = make_feed_link(actor=ada, once_key=new_key()).token
    case = open_case(actor=admin, subject=ada, kind="other", summary="Took a deposit")
    resolve_case(case, actor=admin, resolution="suspended", reason="Took a deposit.")
    assert db.session.scalar(select(FeedToken)) is None
    assert feed_reader(token) is None
