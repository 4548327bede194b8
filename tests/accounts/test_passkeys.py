"""Passkeys' ceremonies against a software authenticator (tests/support/webauthn.py):
adding one, using it once, and what is refused (a replay, another origin, a counter
that went back, another member's or an expired challenge), and where passkeys go
with two-factor log-in."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from offload.accounts import two_factor
from offload.accounts.models import Passkey, User
from offload.accounts.passkeys import (
    add_passkey,
    check_passkey,
    passkey_authentication_options,
    passkey_registration_options,
    relying_party,
    remove_passkey,
)
from offload.accounts.queries import passkeys_of
from offload.core.db import db
from offload.core.errors import Conflict, Invalid, InvalidField
from offload.moderation.account_recovery import reset_member_two_factor
from tests.support.factories import PASSWORD
from tests.support.two_factor import code_for, turn_on_two_factor
from tests.support.webauthn import SoftAuthenticator, from_b64url


def _authenticator(**kwargs) -> SoftAuthenticator:
    rp_id, origin = relying_party()
    return SoftAuthenticator(rp_id, origin, **kwargs)


def _added(member, authenticator=None, name="Laptop") -> tuple[SoftAuthenticator, Passkey]:
    authenticator = authenticator or _authenticator()
    ceremony = passkey_registration_options(member)
    return authenticator, add_passkey(actor=member, name=name, ceremony=ceremony.token,
                                      credential=authenticator.register(ceremony.options))


def _use(member, authenticator, **kwargs) -> Passkey:
    ceremony = passkey_authentication_options(member)
    return check_passkey(member, authenticator.assert_(ceremony.options, **kwargs),
                         ceremony.token)


def _count(member_id: int) -> int:
    return db.session.scalar(select(func.count()).select_from(Passkey)
                             .where(Passkey.user_id == member_id))


def test_a_passkey_is_added_then_used(make_member, outbox):
    alice = make_member("alice")
    turn_on_two_factor(alice)
    ceremony = passkey_registration_options(alice)
    options = json.loads(ceremony.options)
    assert options["rp"]["id"] == relying_party()[0] and options["user"]["name"] == "alice"
    authenticator = _authenticator()
    passkey = add_passkey(actor=alice, name="  Work   laptop ", ceremony=ceremony.token,
                          credential=authenticator.register(options))
    assert passkey.credential_id == authenticator.credential_id
    assert (passkey.name, passkey.transports, passkey.sign_count) == ("Work laptop",
                                                                      "internal", 0)
    assert outbox.to("alice@example.com")[-1].template == "passkey_added"
    # the next ceremony excludes it (the authenticator holds one of alice's already)
    excluded = json.loads(passkey_registration_options(alice).options)["excludeCredentials"]
    assert [from_b64url(c["id"]) for c in excluded] == [authenticator.credential_id]
    used = _use(alice, authenticator)
    db.session.refresh(used)
    assert used.sign_count == 1 and used.last_used_at is not None
    assert [p.name for p in passkeys_of(alice.id)] == ["Work laptop"]


def test_the_user_handle_says_nothing_of_the_member(app, make_member, monkeypatch):
    alice, bob = make_member("alice"), make_member("bob")
    turn_on_two_factor(alice)

    def handle(member) -> bytes:
        return from_b64url(json.loads(passkey_registration_options(member).options)
                           ["user"]["id"])

    first = handle(alice)
    # 64 bytes (as WebAuthn advises), the same at each ceremony, no id or name in it,
    # and unlike another member's: what an authenticator keeps identifies no one
    assert len(first) == 64 and handle(alice) == first and handle(bob) != first
    assert b"member" not in first and b"alice" not in first
    # derived with the site's secret: no one without it can work one out
    monkeypatch.setitem(app.config, "SECRET_KEY", "another secret")
    assert handle(alice) != first


def test_an_assertion_is_accepted_once(make_member):
    alice = make_member("alice")
    turn_on_two_factor(alice)
    authenticator, _ = _added(alice)
    ceremony = passkey_authentication_options(alice)
    answer = authenticator.assert_(ceremony.options)
    check_passkey(alice, answer, ceremony.token)
    with pytest.raises(InvalidField):  # the same answer again: its counter no longer grows
        check_passkey(alice, answer, ceremony.token)


def test_a_passkey_without_a_counter_is_still_single_use(make_member):
    """Synced passkeys report 0 every time: the challenge's issue time is what spends it."""
    alice = make_member("alice")
    turn_on_two_factor(alice)
    authenticator, _ = _added(alice)
    ceremony = passkey_authentication_options(alice)
    answer = authenticator.assert_(ceremony.options, step=0)
    assert check_passkey(alice, answer, ceremony.token).sign_count == 0
    with pytest.raises(InvalidField, match="used already"):
        check_passkey(alice, answer, ceremony.token)
    _use(alice, authenticator, step=0)  # a new challenge works


def test_another_origin_is_refused(make_member):
    alice = make_member("alice")
    turn_on_two_factor(alice)
    ceremony = passkey_registration_options(alice)
    authenticator = _authenticator()
    with pytest.raises(InvalidField, match="not accepted"):
        add_passkey(actor=alice, name="Phish", ceremony=ceremony.token,
                    credential=authenticator.register(ceremony.options,
                                                      origin="https://offload.example.evil"))
    assert _count(alice.id) == 0
    authenticator, _ = _added(alice, authenticator)
    with pytest.raises(InvalidField, match="not accepted"):
        _use(alice, authenticator, origin="https://offload.example.evil")


def test_another_relying_party_is_refused(make_member):
    alice = make_member("alice")
    turn_on_two_factor(alice)
    _, origin = relying_party()
    with pytest.raises(InvalidField):
        _added(alice, SoftAuthenticator("evil.example", origin))


def test_a_counter_that_went_back_is_refused(make_member):
    alice = make_member("alice")
    turn_on_two_factor(alice)
    authenticator, passkey = _added(alice, _authenticator(counter=5))
    _use(alice, authenticator)
    db.session.refresh(passkey)
    assert passkey.sign_count == 6
    authenticator.counter = 2  # a clone, or an old answer
    with pytest.raises(InvalidField, match="not accepted"):
        _use(alice, authenticator)
    db.session.refresh(passkey)
    assert passkey.sign_count == 6


def test_a_challenge_is_the_members_and_its_purposes_and_expires(app, make_member,
                                                                monkeypatch):
    alice, bob = make_member("alice"), make_member("bob")
    turn_on_two_factor(alice)
    turn_on_two_factor(bob)
    authenticator, _ = _added(alice)
    bobs = passkey_authentication_options(bob)
    with pytest.raises(InvalidField):
        check_passkey(alice, authenticator.assert_(bobs.options), bobs.token)
    registering = passkey_registration_options(alice)
    with pytest.raises(InvalidField):  # a registration's challenge is not an assertion's
        check_passkey(alice, authenticator.assert_(registering.options), registering.token)
    with pytest.raises(InvalidField, match="not one of this account's"):
        ceremony = passkey_authentication_options(bob)
        check_passkey(bob, authenticator.assert_(ceremony.options), ceremony.token)
    ceremony = passkey_authentication_options(alice)
    monkeypatch.setitem(app.config, "WEBAUTHN_CHALLENGE_SECONDS", -1)
    with pytest.raises(InvalidField, match="took too long"):
        check_passkey(alice, authenticator.assert_(ceremony.options), ceremony.token)


def test_passkeys_come_after_the_app_and_go_with_it(make_member, outbox, totp_clock):
    alice = make_member("alice")
    with pytest.raises(Conflict, match="Turn on two-factor authentication"):
        _added(alice)
    secret = turn_on_two_factor(alice, at=totp_clock.now).secret
    _added(alice)
    _added(alice, name="Phone")
    with pytest.raises(Conflict, match="registered already"):
        authenticator = _authenticator()
        _added(alice, authenticator)
        _added(alice, authenticator)
    assert _count(alice.id) == 3
    totp_clock.tick()
    two_factor.disable_two_factor(actor=alice, password=PASSWORD,
                                  code=code_for(secret, totp_clock.now))
    assert _count(alice.id) == 0


def test_an_admins_reset_removes_the_passkeys(make_member):
    boss, alice = make_member("boss", admin=True), make_member("alice")
    turn_on_two_factor(alice)
    _added(alice)
    reset_member_two_factor(alice, actor=boss, password=PASSWORD, reason="Checked by phone")
    assert _count(alice.id) == 0


def test_removing_one_mails_the_member(make_member, outbox):
    alice, bob = make_member("alice"), make_member("bob")
    turn_on_two_factor(alice)
    _, passkey = _added(alice)
    with pytest.raises(Conflict):
        remove_passkey(passkey.id, actor=bob)
    remove_passkey(passkey.id, actor=alice)
    assert _count(alice.id) == 0
    assert outbox.to("alice@example.com")[-1].template == "passkey_removed"


def test_a_log_in_completes_with_a_passkey_once(make_member):
    alice = make_member("alice")
    turn_on_two_factor(alice)
    authenticator, _ = _added(alice)
    token = two_factor.start_login(db.session.get(User, alice.id))
    ceremony = passkey_authentication_options(alice)
    answer = authenticator.assert_(ceremony.options)
    assert two_factor.complete_login_with_passkey(token, answer, ceremony.token).id == alice.id
    with pytest.raises(Invalid):  # the password step is spent
        ceremony = passkey_authentication_options(alice)
        two_factor.complete_login_with_passkey(token, authenticator.assert_(ceremony.options),
                                               ceremony.token)
