"""The invite tree: the line to the root, a level of branches with their aggregates,
reparenting (with its history, the hook following the edge, and races). The admin's
explorer pages are tested in tests/admin."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from offload.accounts.models import User
from offload.cases.hook import hook_case
from offload.cases.services import open_case, resolve_case
from offload.core.db import db
from offload.core.errors import InvalidField, NotAllowed
from offload.invites.models import InviteEdgeChange
from offload.invites.tree import branches, counted_branch_size, line_to_root, reparent
from offload.moderation.models import ModerationEntry
from tests.support.factories import fresh


def test_the_line_goes_up_to_the_root(tree):
    assert [u.username for u in line_to_root(tree["a11"].id)] == ["a11", "a1", "a", "root"]
    assert [u.username for u in line_to_root(tree["root"].id)] == ["root"]


def test_a_level_shows_each_branch_with_its_size_cases_and_suspensions(tree):
    root = tree["root"]
    open_case(actor=root, subject=tree["a11"], kind="other", summary="One")
    open_case(actor=root, subject=tree["a1"], kind="other", summary="Two")
    case = open_case(actor=root, subject=tree["a2"], kind="other", summary="Three")
    resolve_case(case, actor=root, resolution="suspended", reason="Fraud")
    level, more = branches(root.id)
    assert more is None
    assert [(b.member.username, b.size, b.open_cases, b.suspended) for b in level] == [
        ("a", 4, 2, 1), ("b", 2, 0, 0)]
    assert fresh(User, root.id).branch_size == counted_branch_size(root.id) == 6
    assert fresh(User, tree["a1"].id).branch_size == counted_branch_size(tree["a1"].id) == 1
    assert fresh(User, tree["a"].id).invitees_suspended == 1  # a2's inviter keeps the record


def test_a_level_pages_by_id(make_member):
    root = make_member("root", admin=True)
    kids = [make_member(f"kid{n}", inviter=root) for n in range(5)]
    first, after = branches(root.id, size=2)
    assert [b.member.id for b in first] == [kids[0].id, kids[1].id] and after == kids[1].id
    second, after = branches(root.id, after_id=after, size=2)
    assert [b.member.id for b in second] == [kids[2].id, kids[3].id]
    last, after = branches(root.id, after_id=after, size=2)
    assert [b.member.id for b in last] == [kids[4].id] and after is None


def test_reparent_moves_the_branch_keeps_the_old_edge_and_logs_it(tree):
    root, a1, b = tree["root"], tree["a1"], tree["b"]
    reparent(a1, actor=root, new_inviter=b, reason="a vouched for a fraud ring")
    assert [u.username for u in line_to_root(tree["a11"].id)] == ["a11", "a1", "b", "root"]
    for name, size in {"root": 6, "a": 1, "b": 3, "a1": 1}.items():  # the sizes moved too
        member = fresh(User, tree[name].id)
        assert member.branch_size == counted_branch_size(member.id) == size, name
    change = db.session.scalar(select(InviteEdgeChange))
    assert (change.member_id, change.old_inviter_id, change.new_inviter_id,
            change.moved_by_id) == (a1.id, tree["a"].id, b.id, root.id)
    entries = db.session.scalars(select(ModerationEntry)).all()
    assert [(e.action, e.subject_id, e.reason) for e in entries] == [
        ("member_reparented", a1.id, "a vouched for a fraud ring")]


def test_the_hook_follows_the_edge(tree):
    root, a1, a, b = tree["root"], tree["a1"], tree["a"], tree["b"]
    open_case(actor=root, subject=a1, kind="other", summary="Late again")
    assert hook_case(fresh(User, a.id)) is not None and hook_case(fresh(User, b.id)) is None
    reparent(fresh(User, a1.id), actor=fresh(User, root.id), new_inviter=fresh(User, b.id),
             reason="Moved")
    assert hook_case(fresh(User, a.id)) is None and hook_case(fresh(User, b.id)) is not None


@pytest.mark.parametrize("target", ["a", "a1", "a11"])
def test_reparent_refuses_the_same_inviter_and_loops(tree, target):
    root, member = tree["root"], tree["a"] if target != "a" else tree["a1"]
    if target == "a":  # a1 already answers to a
        with pytest.raises(InvalidField, match="already is"):
            reparent(member, actor=root, new_inviter=tree["a"], reason="x")
    else:  # a can't move under its own branch
        with pytest.raises(InvalidField, match="own branch"):
            reparent(tree["a"], actor=root, new_inviter=tree[target], reason="x")
    assert db.session.scalar(select(func.count()).select_from(InviteEdgeChange)) == 0
    assert db.session.scalar(select(func.count()).select_from(ModerationEntry)) == 0


def test_only_admins_reparent_and_a_reason_is_required(tree):
    with pytest.raises(NotAllowed):
        reparent(tree["a1"], actor=tree["b"], new_inviter=tree["b"], reason="mine now")
    with pytest.raises(InvalidField):
        reparent(tree["a1"], actor=tree["root"], new_inviter=tree["b"], reason="  ")
    assert fresh(User, tree["a1"].id).invited_by_id == tree["a"].id


@pytest.mark.parametrize("round_", range(3))
def test_two_reparents_that_would_make_a_loop_at_once_make_one_move(app, tree, round_):
    """"a under b" and "b under a" together: the tree lock makes them take turns, so
    the second sees the first and refuses the loop; sizes stay right."""
    from tests.support.factories import race

    ids = {name: tree[name].id for name in ("root", "a", "b")}
    moves = [("a", "b"), ("b", "a")]

    def move(i: int):
        member, inviter = (db.session.get(User, ids[n]) for n in moves[i])
        return reparent(member, actor=db.session.get(User, ids["root"]), new_inviter=inviter,
                        reason="racing").id

    results, errors = race(app, 2, move)
    assert len(results) == 1 and len(errors) == 1, errors
    assert isinstance(errors[0], InvalidField) and "own branch" in str(errors[0])
    for user_id in ids.values():
        assert fresh(User, user_id).branch_size == counted_branch_size(user_id)
    assert [u.id for u in line_to_root(ids["a"])][-1] == ids["root"]  # no loop: a root above
    assert [u.id for u in line_to_root(ids["b"])][-1] == ids["root"]


def test_a_sign_up_below_a_member_being_moved_is_counted_on_the_right_line(app, tree):
    from offload.accounts.services import create_member
    from tests.support.factories import race

    ids = {name: tree[name].id for name in ("root", "a", "a1", "b")}

    def work(i: int):
        if i == 0:
            return reparent(db.session.get(User, ids["a"]), actor=db.session.get(User, ids["root"]),
                            new_inviter=db.session.get(User, ids["b"]), reason="moving").id
        from offload.core.db import atomic
        with atomic():
            return create_member(username="newcomer", email="new@example.com",
                                 password="a long enough password", confirmed=True,
                                 invited_by=db.session.get(User, ids["a1"])).id

    results, errors = race(app, 2, work)
    assert errors == []
    for user_id in ids.values():
        assert fresh(User, user_id).branch_size == counted_branch_size(user_id), user_id


def test_a_reparent_tells_the_member_and_both_inviters(tree):
    from offload.notifications.models import Notification

    reparent(tree["a1"], actor=tree["root"], new_inviter=tree["b"], reason="Moved for cause")
    told = {(n.user_id, n.kind) for n in db.session.scalars(select(Notification))}
    assert told == {(tree["a1"].id, "vouch_moved"), (tree["b"].id, "vouch_moved"),
                    (tree["a"].id, "vouch_moved")}
