import pytest
from sqlalchemy import func, select

from offload.accounts.models import PasswordResetRequest, User, WorkRole
from offload.accounts.services import (
    authenticate,
    change_email,
    change_password,
    confirm_email,
    create_admin,
    create_member,
    read_reset_token,
    request_password_reset,
    reset_password,
    resolve_password_resets,
)
from offload.core.db import db
from offload.core.errors import Conflict, Invalid
from tests.support.factories import PASSWORD


def _token_from(outbox, address, marker):
    path = outbox.path_of_last_link(address)
    assert marker in path
    return path.rsplit("/", 1)[-1]


def test_create_admin_is_a_confirmed_root():
    admin = create_admin(username="Root", email="Root@Example.com", password=PASSWORD)
    assert admin.username == "root" and admin.email == "root@example.com"
    assert admin.is_admin and admin.is_confirmed and admin.invited_by_id is None


@pytest.mark.parametrize("password, message", [
    ("short", "at least 10"),
    ("x" * 129, "at most 128"),
    ("password123", "most common"),
    ("aaaaaaaaaaaa", "most common"),
])
def test_weak_passwords_are_refused(password, message):
    with pytest.raises(Invalid, match=message):
        create_member(username="newbie", email="n@example.com", password=password)
    assert db.session.scalar(select(User).where(User.username == "newbie")) is None


def test_username_and_email_are_unique_case_insensitively(make_member):
    make_member("taken", email="taken@example.com")
    with pytest.raises(Conflict, match="username"):
        create_member(username="TAKEN", email="other@example.com", password=PASSWORD)
    with pytest.raises(Conflict, match="e-mail"):
        create_member(username="other", email="Taken@Example.com", password=PASSWORD)


def test_organization_needs_a_name():
    with pytest.raises(Invalid, match="organization"):
        create_member(username="acme", email="a@example.com", password=PASSWORD,
                      account_type="organization", organization_name=" ")


def test_authenticate_by_username_or_email(make_member):
    user = make_member("alice")
    assert authenticate("ALICE", PASSWORD) == user
    assert authenticate("alice@example.com", PASSWORD) == user
    assert authenticate("alice", "wrong password!") is None
    assert authenticate("nobody", PASSWORD) is None


def test_confirmation_link_works_once(outbox):
    user = create_member(username="carol", email="carol@example.com", password=PASSWORD)
    assert not user.is_confirmed
    token = _token_from(outbox, "carol@example.com", "/confirm/")
    confirm_email(token)
    assert db.session.get(User, user.id).is_confirmed
    with pytest.raises(Conflict):
        confirm_email(token)


def test_forged_confirmation_token_is_refused():
    with pytest.raises(Invalid, match="not valid"):
        confirm_email("forged.token.value")


def test_reset_link_is_single_use_and_ends_sessions(make_member, outbox):
    user = make_member("dave")
    old_session = user.session_token
    request_password_reset("DAVE@example.com")
    assert outbox.all() == []  # the form's work ends with the request: the worker mails
    assert resolve_password_resets().queued == 1
    token = _token_from(outbox, "dave@example.com", "/reset/")
    assert read_reset_token(token) == user
    reset_password(token, "a brand new passphrase")
    user = db.session.get(User, user.id)
    assert user.session_token != old_session
    assert authenticate("dave", "a brand new passphrase") == user
    with pytest.raises(Invalid, match="already been used"):
        reset_password(token, "another new passphrase")


def test_reset_for_unknown_address_sends_nothing(outbox):
    request_password_reset("ghost@example.com")
    assert resolve_password_resets().queued == 0
    assert outbox.all() == []
    assert db.session.scalar(select(func.count()).select_from(PasswordResetRequest)) == 0


def test_reset_mails_are_capped_per_account_whatever_asks(app, make_member, outbox,
                                                          monkeypatch):
    monkeypatch.setitem(app.config, "RESET_MAILS_PER_ACCOUNT", 3)
    make_member("dave")
    make_member("erin")
    # many askers, one mailbox: four "addresses" (the form doesn't know who asks)
    for _ in range(4):
        request_password_reset("dave@example.com")
    request_password_reset("Dave@Example.com ")
    request_password_reset("erin@example.com")
    assert resolve_password_resets().queued == 4  # dave's first three, and erin's
    assert len(outbox.to("dave@example.com")) == 3
    assert len(outbox.to("erin@example.com")) == 1
    request_password_reset("dave@example.com")
    assert resolve_password_resets().queued == 0 and len(outbox.to("dave@example.com")) == 3
    # the window passes: one more is allowed
    monkeypatch.setitem(app.config, "RESET_MAILS_WINDOW_SECONDS", 0)
    request_password_reset("dave@example.com")
    assert resolve_password_resets().queued == 1 and len(outbox.to("dave@example.com")) == 4


def test_two_resolvers_at_once_take_each_request_once(app, make_member, outbox):
    import threading

    make_member("dave")
    for _ in range(6):
        request_password_reset("unknown@example.com")
    request_password_reset("dave@example.com")
    counts, barrier = [], threading.Barrier(2)

    def resolver():
        with app.app_context():
            barrier.wait()
            counts.append(resolve_password_resets().queued)
            db.session.remove()

    threads = [threading.Thread(target=resolver) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(counts) == [0, 1] and len(outbox.to("dave@example.com")) == 1


def test_change_password_needs_current_password(make_member):
    user = make_member("erin")
    with pytest.raises(Invalid, match="current password"):
        change_password(user, current_password="not my password", new_password="new passphrase 1")
    token = user.session_token
    change_password(user, current_password=PASSWORD, new_password="new passphrase 1")
    assert authenticate("erin", "new passphrase 1") is not None
    assert db.session.get(User, user.id).session_token != token


def test_change_email_takes_effect_on_confirmation(make_member, outbox):
    user = make_member("fay", email="fay@example.com")
    with pytest.raises(Invalid, match="password"):
        change_email(user, password="wrong password", new_email="fay@new.example")
    change_email(user, password=PASSWORD, new_email="Fay@New.example")
    assert db.session.get(User, user.id).email == "fay@example.com"
    token = _token_from(outbox, "fay@new.example", "/confirm/")
    confirm_email(token)
    user = db.session.get(User, user.id)
    assert user.email == "fay@new.example" and user.pending_email is None
    assert [m.subject for m in outbox.to("fay@example.com")][-1].startswith("Your Offload e-mail")


def test_change_to_an_address_in_use_looks_the_same_and_tells_its_owner(make_member, outbox):
    """Nothing tells the member whether the address is registered: the change is
    pending as for any address; its owner gets a note without a link."""
    gil = make_member("gil", email="gil@example.com")
    hal = make_member("hal")
    change_email(hal, password=PASSWORD, new_email="Gil@example.com")
    assert db.session.get(User, hal.id).pending_email == "gil@example.com"
    [note] = outbox.to("gil@example.com")
    assert note.template == "email_in_use" and note.user_id == gil.id
    assert "already has an account" in note.text_body and "/confirm/" not in note.text_body
    # asking again mails the owner again, never a confirmation link
    from offload.accounts.services import resend_confirmation
    resend_confirmation(db.session.get(User, hal.id))
    assert [m.template for m in outbox.to("gil@example.com")] == ["email_in_use"] * 2


def test_a_pending_change_reserves_no_address(make_member, outbox):
    hal = make_member("hal")
    change_email(hal, password=PASSWORD, new_email="ivy@example.com")
    token = _token_from(outbox, "ivy@example.com", "/confirm/")
    # the address's owner can still sign up with it...
    ivy = create_member(username="ivy", email="ivy@example.com", password=PASSWORD)
    # ...and the change is refused when its link is used
    with pytest.raises(Conflict, match="Another account uses that address"):
        confirm_email(token)
    assert db.session.get(User, hal.id).email == "hal@example.com"
    assert db.session.get(User, ivy.id).email == "ivy@example.com"


def test_members_do_both_unless_they_say_and_may_change_it(app):
    from offload.accounts.services import set_work_role

    member = create_member(username="taker", email="t@example.com", password=PASSWORD,
                           work_role="take_on")
    assert member.work == WorkRole.TAKE_ON and member.work.takes_on
    assert not member.work.passes_on
    other = create_member(username="other", email="o@example.com", password=PASSWORD)
    assert other.work_role == WorkRole.BOTH
    set_work_role(member, "pass_on")
    db.session.expire_all()
    assert db.session.get(User, member.id).work_role == "pass_on"
    with pytest.raises(Invalid, match="Choose what you mainly do"):
        set_work_role(member, "boss")
    with pytest.raises(Invalid, match="Choose what you mainly do"):
        create_member(username="x", email="x@example.com", password=PASSWORD, work_role="boss")


def test_the_database_refuses_an_unknown_work_role(app, make_member):
    from sqlalchemy import update
    from sqlalchemy.exc import IntegrityError

    member = make_member("alice")
    with pytest.raises(IntegrityError):
        db.session.execute(update(User).where(User.id == member.id).values(work_role="boss"))
        db.session.flush()
    db.session.rollback()
