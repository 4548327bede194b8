"""Two-factor log-in's services: set-up, codes (drift, no replay), backup codes,
regenerating, turning off, and the log-in's second step."""

import pytest
from sqlalchemy import select

from offload.accounts import two_factor
from offload.accounts.models import BackupCode, TwoFactor, User
from offload.accounts.queries import two_factor_status
from offload.accounts.services import record_login
from offload.core.db import db
from offload.core.errors import Conflict, Invalid, InvalidField, NotAllowed
from tests.support.factories import PASSWORD
from tests.support.two_factor import code_for, turn_on_two_factor


def test_set_up_stays_pending_until_a_right_code(make_member, outbox, totp_clock):
    alice = make_member("alice")
    two_factor.begin_two_factor(actor=alice)
    pending = two_factor.pending_set_up(alice)
    assert two_factor_status(alice.id).is_pending and not two_factor_status(alice.id).is_on
    assert pending.uri.startswith("otpauth://totp/") and pending.secret in pending.uri
    stored = db.session.get(TwoFactor, alice.id).secret
    assert pending.secret not in stored and two_factor.unseal(stored) == pending.secret

    wrong = str((int(code_for(pending.secret, totp_clock.now)) + 1) % 1_000_000).zfill(6)
    with pytest.raises(InvalidField, match="not right") as refused:
        two_factor.enable_two_factor(actor=alice, code=wrong)
    assert refused.value.field == "code" and two_factor_status(alice.id).is_pending
    assert outbox.to("alice@example.com") == []

    codes = two_factor.enable_two_factor(actor=alice,
                                         code=code_for(pending.secret, totp_clock.now))
    status = two_factor_status(alice.id)
    assert status.is_on and status.backup_codes_left == 10 and len(set(codes)) == 10
    hashes = db.session.scalars(select(BackupCode.code_hash)).all()
    assert not set(codes) & set(hashes)  # stored hashed only
    assert [m.template for m in outbox.to("alice@example.com")] == ["two_factor_enabled"]
    with pytest.raises(Conflict):
        two_factor.begin_two_factor(actor=alice)


def test_a_new_set_up_replaces_the_pending_secret(make_member):
    alice = make_member("alice")
    two_factor.begin_two_factor(actor=alice)
    first = two_factor.pending_set_up(alice).secret
    two_factor.begin_two_factor(actor=alice)
    second = two_factor.pending_set_up(alice).secret
    assert first != second
    with pytest.raises(InvalidField):
        two_factor.enable_two_factor(actor=alice, code=code_for(first))


def test_codes_allow_one_step_of_drift_and_are_never_replayed(make_member, totp_clock):
    alice = make_member("alice")
    set_up = turn_on_two_factor(alice, at=totp_clock.now)
    now = totp_clock.now
    # the code of the step that turned it on was used: not again
    with pytest.raises(InvalidField, match="already used"):
        two_factor.check_code(alice, code_for(set_up.secret, now))
    totp_clock.tick(3)
    # two steps back is too old; one step back (a slow clock) is accepted
    with pytest.raises(InvalidField, match="not right"):
        two_factor.check_code(alice, code_for(set_up.secret, totp_clock.now, steps=-2))
    assert two_factor.check_code(alice, code_for(set_up.secret, totp_clock.now, steps=-1)) \
        == "app"
    # one step ahead (a fast clock) too, and after it nothing earlier
    assert two_factor.check_code(alice, code_for(set_up.secret, totp_clock.now, steps=1)) \
        == "app"
    with pytest.raises(InvalidField, match="already used"):
        two_factor.check_code(alice, code_for(set_up.secret, totp_clock.now))
    assert db.session.get(TwoFactor, alice.id).last_used_step == int(totp_clock.now) // 30 + 1


def test_a_backup_code_works_once(make_member):
    alice = make_member("alice")
    codes = turn_on_two_factor(alice).backup_codes
    # typed in capitals, without the dash, with spaces: the same code
    assert two_factor.check_code(alice, " " + codes[3].replace("-", " ").upper()) == "backup"
    with pytest.raises(InvalidField, match="used already"):
        two_factor.check_code(alice, codes[3])
    with pytest.raises(InvalidField, match="not right"):
        two_factor.check_code(alice, "abcde-fghjk")
    assert two_factor_status(alice.id).backup_codes_left == 9


def test_codes_of_a_member_without_two_factor_are_refused(make_member):
    with pytest.raises(InvalidField, match="not on"):
        two_factor.check_code(make_member("alice"), "123456")


def test_a_secret_sealed_under_another_key_gives_no_codes(app, make_member, monkeypatch):
    alice = make_member("alice")
    secret = turn_on_two_factor(alice).secret
    monkeypatch.setitem(app.config, "SECRET_KEY", "another-secret")
    with pytest.raises(InvalidField, match="not right"):
        two_factor.check_code(alice, code_for(secret, steps=1))


def test_regenerating_needs_a_code_not_the_password(make_member, outbox, totp_clock):
    alice = make_member("alice")
    set_up = turn_on_two_factor(alice, at=totp_clock.now)
    with pytest.raises(InvalidField, match="not right") as refused:
        two_factor.regenerate_backup_codes(actor=alice, code=PASSWORD)
    assert refused.value.field == "code"
    totp_clock.tick()
    new = two_factor.regenerate_backup_codes(
        actor=alice, code=code_for(set_up.secret, totp_clock.now))
    with pytest.raises(InvalidField):
        two_factor.check_code(alice, set_up.backup_codes[0])  # the old ones are gone
    newer = two_factor.regenerate_backup_codes(actor=alice, code=new[0])  # a backup code
    assert two_factor.check_code(alice, newer[0]) == "backup"
    with pytest.raises(InvalidField):
        two_factor.check_code(alice, new[1])
    assert [m.template for m in outbox.to("alice@example.com")] == [
        "two_factor_enabled", "backup_codes_regenerated", "backup_codes_regenerated"]


def test_regenerating_without_two_factor_is_refused(make_member):
    with pytest.raises(Conflict):
        two_factor.regenerate_backup_codes(actor=make_member("alice"), code="123456")


def test_turning_off_needs_the_password_and_a_code(make_member, outbox, totp_clock):
    alice = make_member("alice")
    set_up = turn_on_two_factor(alice, at=totp_clock.now)
    totp_clock.tick()
    code = code_for(set_up.secret, totp_clock.now)
    with pytest.raises(InvalidField, match="password") as refused:
        two_factor.disable_two_factor(actor=alice, password="wrong password!", code=code)
    assert refused.value.field == "password"
    with pytest.raises(InvalidField, match="not right"):
        two_factor.disable_two_factor(actor=alice, password=PASSWORD, code="000000"
                                      if code != "000000" else "111111")
    assert two_factor_status(alice.id).is_on
    two_factor.disable_two_factor(actor=alice, password=PASSWORD, code=set_up.backup_codes[0])
    assert not two_factor_status(alice.id).is_on
    assert db.session.scalars(select(BackupCode)).all() == []
    assert outbox.to("alice@example.com")[-1].template == "two_factor_disabled"
    with pytest.raises(Conflict):
        two_factor.disable_two_factor(actor=alice, password=PASSWORD, code=code)


def test_admins_may_not_turn_it_off(app, make_member, monkeypatch):
    monkeypatch.setitem(app.config, "TWO_FACTOR_REQUIRED_FOR_ADMINS", True)
    root = make_member("root", admin=True)
    set_up = turn_on_two_factor(root)
    with pytest.raises(NotAllowed):
        two_factor.disable_two_factor(actor=root, password=PASSWORD,
                                      code=set_up.backup_codes[0])
    assert two_factor_status(root.id).is_on and two_factor_status(root.id).backup_codes_left == 10


def test_the_second_step_logs_in_once(make_member, totp_clock):
    alice = make_member("alice")
    set_up = turn_on_two_factor(alice, at=totp_clock.now)
    token = two_factor.start_login(alice)
    assert two_factor.pending_login(token).id == alice.id
    with pytest.raises(InvalidField):
        two_factor.complete_login(token, code_for(set_up.secret, totp_clock.now))  # used
    totp_clock.tick()
    assert two_factor.complete_login(token, code_for(set_up.secret, totp_clock.now)).id \
        == alice.id
    assert alice.last_login_at is not None
    totp_clock.tick()
    with pytest.raises(Invalid, match="log-in is over"):  # single use
        two_factor.complete_login(token, code_for(set_up.secret, totp_clock.now))
    with pytest.raises(Invalid, match="password first"):
        two_factor.complete_login(token[:-2] + "xx", code_for(set_up.secret, totp_clock.now))


def test_a_password_step_is_spent_by_any_later_log_in(make_member):
    alice = make_member("alice")
    set_up = turn_on_two_factor(alice)
    token = two_factor.start_login(alice)
    record_login(alice)
    with pytest.raises(Invalid, match="log-in is over"):
        two_factor.complete_login(token, set_up.backup_codes[0])
    assert two_factor_status(alice.id).backup_codes_left == 10  # nothing spent


def test_a_password_step_expires(app, make_member, monkeypatch):
    alice = make_member("alice")
    set_up = turn_on_two_factor(alice)
    token = two_factor.start_login(alice)
    monkeypatch.setitem(app.config, "TWO_FACTOR_LOGIN_SECONDS", -1)
    with pytest.raises(Invalid, match="took too long"):
        two_factor.complete_login(token, set_up.backup_codes[0])
    assert two_factor.pending_member_id(token) == alice.id
    assert two_factor.pending_member_id("forged") is None


def test_backup_codes_are_stored_as_keyed_hashes(app, make_member, monkeypatch):
    alice = make_member("alice")
    codes = turn_on_two_factor(alice).backup_codes
    stored = set(db.session.scalars(select(BackupCode.code_hash)))
    assert stored == {two_factor.backup_code_hash(c) for c in codes}
    assert all(len(h) == 64 for h in stored)  # hex SHA-256, nothing of the code itself
    monkeypatch.setitem(app.config, "SECRET_KEY", "another-secret")
    assert two_factor.backup_code_hash(codes[0]) not in stored  # the key is the site's


def test_one_backup_code_used_twice_at_once_logs_in_once(make_member, race):
    alice = make_member("alice")
    code = turn_on_two_factor(alice).backup_codes[0]
    alice_id = alice.id  # read here: race() commits, and an expired alice would refresh
    # through this thread's session from both threads at once

    def use(_):
        return two_factor.check_code(db.session.get(User, alice_id), code)

    results, errors = race(2, use)
    assert results == ["backup"]
    assert len(errors) == 1 and isinstance(errors[0], InvalidField)
    assert two_factor_status(alice.id).backup_codes_left == 9
