import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from offload.accounts.models import User
from offload.core.db import atomic, db, utcnow
from offload.core.errors import Conflict, Invalid, NotAllowed
from offload.invites.models import Invite, InviteState
from offload.invites.services import (
    accept_invite,
    expire_invites,
    find_invite,
    revoke_invite,
    send_invite,
)
from tests.support.factories import PASSWORD


def _token(outbox, address):
    return outbox.path_of_last_link(address).rsplit("/", 1)[-1]


def _signup(token, username="newbie", email="new@example.com", **kw):
    return accept_invite(token, username=username, email=email, password=PASSWORD,
                         display_name=kw.get("display_name", ""),
                         account_type=kw.get("account_type", "individual"),
                         organization_name=kw.get("organization_name", ""))


def test_invite_mails_a_link_and_stores_only_the_hash(make_member, outbox):
    alice = make_member("alice")
    invite = send_invite(actor=alice, email="New@Example.com", vouch_note="Built our API")
    mail = outbox.to("new@example.com")[-1]
    assert "Alice invited you" in mail.subject and "Built our API" in mail.text_body
    token = _token(outbox, "new@example.com")
    assert mail.text_body.count("https://offload.example/join/") == 1
    assert token not in invite.token_hash and find_invite(token) == invite
    assert invite.expires_at - utcnow() > timedelta(days=13, hours=23)


def test_signup_from_invite_records_the_inviter_once(make_member, outbox):
    alice = make_member("alice")
    send_invite(actor=alice, email="new@example.com", vouch_note="Trusted colleague")
    token = _token(outbox, "new@example.com")
    user = _signup(token)
    assert user.invited_by_id == alice.id and not user.is_confirmed
    invite = db.session.scalar(select(Invite))
    assert invite.state == InviteState.ACCEPTED and invite.accepted_user_id == user.id
    with pytest.raises(Conflict, match="already been used"):
        _signup(token, username="second", email="second@example.com")
    assert db.session.scalar(select(func.count()).select_from(User)) == 2


def test_quota_counts_pending_and_accepted_and_frees_on_revoke(app, make_member, outbox):
    from offload.invites.policies import invites_left

    alice = make_member("alice")
    invites = [send_invite(actor=alice, email=f"p{i}@example.com", vouch_note="Good dev")
               for i in range(app.config["INVITE_QUOTA"])]
    _signup(_token(outbox, "p0@example.com"), username="p0", email="p0@example.com")
    assert invites_left(alice) == 0  # the accepted invite still takes its place
    with pytest.raises(NotAllowed, match="used all your invites"):
        send_invite(actor=alice, email="extra@example.com", vouch_note="Good dev")
    revoke_invite(invites[1], actor=alice)
    assert invites_left(alice) == 1
    send_invite(actor=alice, email="extra@example.com", vouch_note="Good dev")
    with pytest.raises(NotAllowed, match="used all your invites"):
        send_invite(actor=alice, email="extra2@example.com", vouch_note="Good dev")


def test_admins_have_no_quota(app, make_member):
    from offload.invites.policies import invites_left

    root = make_member("root", admin=True)
    wanted = app.config["INVITE_QUOTA"] + 2
    for i in range(wanted):
        send_invite(actor=root, email=f"a{i}@example.com", vouch_note="Founding member")
    db.session.rollback()
    sent = list(db.session.scalars(select(Invite).where(Invite.inviter_id == root.id)))
    assert sorted(i.email for i in sent) == sorted(f"a{i}@example.com" for i in range(wanted))
    assert {i.state for i in sent} == {InviteState.PENDING}
    assert invites_left(root) is None


def test_an_invite_works_until_the_instant_it_expires_and_not_from_it(make_member, outbox):
    """"Expires" is an instant (``expires_at``, INVITE_TTL_DAYS after sending), not a day:
    an invite expiring later today still signs up; one that expired earlier today, or
    this very microsecond, does not, and the job and the quota agree."""
    from offload.invites.policies import invites_in_use
    from offload.invites.services import check_invite_usable

    alice = make_member("alice")
    invite = send_invite(actor=alice, email="edge@example.com", vouch_note="Good dev")
    at = invite.expires_at
    just_before = at - timedelta(microseconds=1)
    assert invite.effective_state(just_before) == InviteState.PENDING
    assert invite.effective_state(at) == InviteState.EXPIRED
    assert expire_invites(now=just_before) == 0
    assert expire_invites(now=at) == 1
    db.session.rollback()
    assert db.session.get(Invite, invite.id).state == InviteState.EXPIRED

    later_today = send_invite(actor=alice, email="later@example.com", vouch_note="Good dev")
    earlier_today = send_invite(actor=alice, email="earlier@example.com", vouch_note="Dev")
    now = utcnow()
    with atomic():
        later_today.expires_at = now + timedelta(minutes=1)
        earlier_today.expires_at = now - timedelta(minutes=1)
    assert invites_in_use(alice.id) == 1  # the one expired earlier today frees its place
    assert check_invite_usable(later_today) is later_today
    user = _signup(_token(outbox, "later@example.com"), username="later",
                   email="later@example.com")
    assert user.invited_by_id == alice.id
    with pytest.raises(Conflict, match="expired"):
        _signup(_token(outbox, "earlier@example.com"), username="earlier",
                email="earlier@example.com")


def test_unconfirmed_members_cannot_invite(make_member):
    with pytest.raises(NotAllowed, match="Confirm your e-mail"):
        send_invite(actor=make_member("u", confirmed=False), email="x@example.com",
                    vouch_note="A friend")


def test_cannot_invite_a_member_or_a_pending_address(make_member):
    alice, bob = make_member("alice"), make_member("bob")
    with pytest.raises(Conflict, match="already a member"):
        send_invite(actor=alice, email="BOB@example.com", vouch_note="Bob again")
    send_invite(actor=alice, email="z@example.com", vouch_note="Zed is great")
    with pytest.raises(Conflict, match="pending invite"):
        send_invite(actor=bob, email="z@example.com", vouch_note="Zed is great")


def test_revoked_and_expired_links_are_refused(make_member, outbox):
    alice = make_member("alice")
    revoked = send_invite(actor=alice, email="r@example.com", vouch_note="Good dev")
    revoked_token = _token(outbox, "r@example.com")
    revoke_invite(revoked, actor=alice)
    with pytest.raises(Conflict, match="withdrawn"):
        _signup(revoked_token)
    with pytest.raises(Conflict, match="Only a pending invite"):
        revoke_invite(revoked, actor=alice)

    send_invite(actor=alice, email="e@example.com", vouch_note="Good dev")
    expired_token = _token(outbox, "e@example.com")
    assert expire_invites(now=utcnow() + timedelta(days=15)) == 1
    with pytest.raises(Conflict, match="expired"):
        _signup(expired_token, email="e@example.com")
    with pytest.raises(Invalid, match="not valid"):
        _signup("no-such-token")


def test_only_the_inviter_or_an_admin_revokes(make_member):
    alice, mallory = make_member("alice"), make_member("mallory")
    invite = send_invite(actor=alice, email="x@example.com", vouch_note="Good dev")
    with pytest.raises(NotAllowed):
        revoke_invite(invite, actor=mallory)
    revoke_invite(invite, actor=make_member("root", admin=True))
    assert invite.state == InviteState.REVOKED


def test_inviter_is_notified_when_the_invite_is_accepted(make_member, outbox):
    from offload.notifications.models import Notification

    alice = make_member("alice")
    send_invite(actor=alice, email="new@example.com", vouch_note="Trusted colleague")
    _signup(_token(outbox, "new@example.com"), display_name="Newbie Dev")
    note = db.session.scalar(select(Notification).where(Notification.user_id == alice.id))
    assert note.kind == "invite_accepted" and "Newbie Dev" in note.title


def test_racing_signups_redeem_the_invite_exactly_once(app, make_member, outbox):
    alice = make_member("alice")
    send_invite(actor=alice, email="new@example.com", vouch_note="Trusted colleague")
    token = _token(outbox, "new@example.com")
    db.session.remove()
    n = 8
    barrier = threading.Barrier(n)
    outcomes: list[str] = []

    def attempt(i: int):
        with app.app_context():
            barrier.wait()
            try:
                _signup(token, username=f"racer{i}", email=f"racer{i}@example.com")
                outcomes.append("ok")
            except Conflict:
                outcomes.append("conflict")
            except Exception as e:  # e.g. "database is locked" would be a failure
                outcomes.append(f"error: {e!r}")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["conflict"] * (n - 1) + ["ok"], outcomes
    assert db.session.scalar(select(func.count()).select_from(User)
                             .where(User.invited_by_id == alice.id)) == 1


def _join(outbox, inviter, username):
    send_invite(actor=inviter, email=f"{username}@example.com", vouch_note="Good dev")
    return _signup(_token(outbox, f"{username}@example.com"), username=username,
                   email=f"{username}@example.com")


def test_the_quota_follows_the_tree_when_an_admin_moves_a_member(app, make_member, outbox):
    from offload.invites.policies import invites_left
    from offload.invites.queries import invites_sent_page, moved_in_page
    from offload.invites.tree import reparent

    root = make_member("root", admin=True)
    olga, nina = make_member("olga", inviter=root), make_member("nina", inviter=root)
    joined = [_join(outbox, olga, f"m{i}") for i in range(app.config["INVITE_QUOTA"])]
    assert invites_left(olga) == 0
    reparent(joined[0], actor=root, new_inviter=nina, reason="Nina knows their work")
    assert invites_left(olga) == 1 and invites_left(nina) == app.config["INVITE_QUOTA"] - 1
    send_invite(actor=olga, email="again@example.com", vouch_note="Good dev")
    # the invite record stays; the member's inviter now is Nina, which marks it moved
    page = invites_sent_page(olga.id, None)
    moved = next(i for i in page.items if i.accepted_user_id == joined[0].id)
    assert moved.state == InviteState.ACCEPTED and moved.accepted_user.invited_by.id == nina.id
    assert [m.member.username for m in moved_in_page(nina.id, None).items] == ["m0"]
    assert moved_in_page(olga.id, None).items == []
    # moved back: Olga answers by her own invite again, so it is hers and not "moved in"
    reparent(joined[0], actor=root, new_inviter=olga, reason="It was right after all")
    assert invites_left(olga) == 0 and invites_left(nina) == app.config["INVITE_QUOTA"]
    assert moved_in_page(olga.id, None).items == [] == moved_in_page(nina.id, None).items
    assert db.session.scalar(select(func.count()).select_from(Invite)) == 4
