"""The invite tree: who vouched for whom (``users.invited_by_id``), read a level at a
time with recursive queries, and moved by an admin (reparent).

Reading never loads the whole tree: a member's line up to the root walks one edge per
step; a level shows a page of the member's invitees, each with the size of its branch
(kept on each row: ``users.branch_size``, see ``offload.accounts.lineage``) and the
open cases and suspensions in it (walks up from those few members; the open cases come
from ``accounts.standing``, as invites sit below cases). Cycles cannot exist: a
reparent refuses a new inviter inside the member's own branch. A reparent keeps the
old edge in ``InviteEdgeChange``.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, literal, select

from offload.accounts.lineage import LINE_MAX, add_to_branch_sizes, line_up, lock_tree
from offload.accounts.models import User
from offload.accounts.standing import open_case_subjects
from offload.core.db import db, transactional
from offload.core.errors import InvalidField, NotAllowed
from offload.core.links import site_path
from offload.core.text import clean_text
from offload.core.transitions import update_row
from offload.moderation.services import record_moderation
from offload.notifications.services import notify

from .models import InviteEdgeChange

BRANCHES_PAGE = 25
REASON_MAX = 2000


@dataclass(frozen=True)
class Branch:
    member: User
    size: int  # the member and everyone below them
    open_cases: int  # open cases about anyone in the branch
    suspended: int  # suspended members in the branch


def line_to_root(member_id: int) -> list[User]:
    """The member, their inviter, that one's inviter ... up to a root; one query."""
    up = line_up(member_id)
    return list(db.session.scalars(
        select(User).join(up, User.id == up.c.id).order_by(up.c.depth)))


def branches(member_id: int, after_id: int | None = None,
             size: int = BRANCHES_PAGE) -> tuple[list[Branch], int | None]:
    """A page of the member's invitees (by id) with their branches' aggregates, and the
    cursor of the next page. Three queries, whatever the tree's size: the page (sizes
    are kept on the rows, ``branch_size``); for open cases and for suspensions (few
    rows) one walk *up* from each such member to see which branch holds them."""
    stmt = select(User).where(User.invited_by_id == member_id).order_by(User.id).limit(size + 1)
    if after_id is not None:
        stmt = stmt.where(User.id > after_id)
    children = list(db.session.scalars(stmt))
    more = len(children) > size
    children = children[:size]
    if not children:
        return [], None
    ids = [c.id for c in children]
    open_cases = _tally_up(open_case_subjects(), ids)
    suspended = _tally_up(select(User.id).where(User.suspended_at.is_not(None)), ids)
    return ([Branch(c, c.branch_size + 1, open_cases.get(c.id, 0), suspended.get(c.id, 0))
             for c in children], children[-1].id if more else None)


def _tally_up(members, branch_ids: list[int]) -> dict[int, int]:
    """How many of ``members`` (a select of user ids, with repeats: one per case) lie
    in each of the branches: walks up from each to the branch heads."""
    seed = members.subquery()
    up = (select(seed.c[0].label("origin"), seed.c[0].label("id"), literal(0).label("depth"))
          .cte("up", recursive=True))
    up = up.union_all(
        select(up.c.origin, User.invited_by_id, (up.c.depth + 1).label("depth"))
        .join(User, User.id == up.c.id)
        .where(User.invited_by_id.is_not(None), up.c.id.not_in(branch_ids),
               up.c.depth < LINE_MAX))
    return dict(db.session.execute(
        select(up.c.id, func.count()).where(up.c.id.in_(branch_ids)).group_by(up.c.id)).all())


def counted_branch_size(member_id: int) -> int:
    """How many members are below ``member_id``, counted by walking the branch (what
    ``users.branch_size`` must equal; for checks and tests); one query."""
    walk = (select(User.id).where(User.invited_by_id == member_id).cte("below", recursive=True))
    walk = walk.union_all(select(User.id).join(walk, User.invited_by_id == walk.c.id))
    return db.session.scalar(select(func.count()).select_from(walk))


def is_in_branch(candidate_id: int, member_id: int) -> bool:
    """Whether ``candidate_id`` is ``member_id`` or below them: walks up from the
    candidate (a line, not a subtree)."""
    return any(u.id == member_id for u in line_to_root(candidate_id))


@transactional
def reparent(member: User, *, actor: User, new_inviter: User, reason: str) -> User:
    """An admin moves a member (and their whole branch) under another inviter, for
    example when the old inviter turns out to be abusive. The new inviter answers for
    them from now on (the hook follows the edge).

    Writes: the new edge, the old one in InviteEdgeChange, a moderation-log entry.
    Notifies: the member, the new inviter and the old one (vouch_moved).
    Refuses: non-admins; the same inviter; a new inviter in the member's own branch
    (that would make a loop) (InvalidField "inviter"); a blank reason.
    """
    if not actor.is_admin:
        raise NotAllowed("Only admins move members in the invite tree.")
    reason = clean_text("reason", reason, REASON_MAX, "The reason", required=True,
                        multiline=True)
    lock_tree()  # then read: sizes and the loop check see the tree as it will be changed
    db.session.refresh(member)
    if new_inviter.id == member.invited_by_id:
        raise InvalidField("inviter", f"{new_inviter.name} already is {member.name}'s inviter.")
    if is_in_branch(new_inviter.id, member.id):
        raise InvalidField("inviter", f"{new_inviter.name} is in {member.name}'s own branch; "
                                      "moving there would make a loop.")
    old = member.invited_by_id
    if old is not None:
        add_to_branch_sizes(old, -(member.branch_size + 1))
    update_row(member, User.invited_by_id.is_(old) if old is None
               else User.invited_by_id == old, invited_by_id=new_inviter.id,
               refused=f"{member.name} was moved a moment ago. Reload the tree.")
    add_to_branch_sizes(new_inviter.id, member.branch_size + 1)
    db.session.add(InviteEdgeChange(member_id=member.id, old_inviter_id=old,
                                    new_inviter_id=new_inviter.id, moved_by_id=actor.id,
                                    reason=reason))
    record_moderation(actor=actor, action="member_reparented", subject_type="member",
                      subject_id=member.id, reason=reason, subject_user=member)
    db.session.refresh(member)
    # the hook follows the edge: whoever answers for the member now must know it
    link = site_path("profiles.show", username=member.username)
    notify(member, "vouch_moved", title=f"An admin moved you under {new_inviter.name}: "
                                        f"{reason}", link=link)
    notify(new_inviter, "vouch_moved", title=f"You now answer for {member.name} (an admin "
                                             f"moved them to you): {reason}", link=link)
    if old is not None:
        notify(db.session.get(User, old), "vouch_moved",
               title=f"You no longer answer for {member.name}: {reason}", link=link)
    return member
