"""Building the demo data through the ordinary services.

Members join as members do: their inviter sends an invite with a vouch note, the
invitee signs up from the link mailed to them and confirms their address from the
next mail; so the demo's invite records, Invites pages and quotas agree with its tree.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import select

from offload.accounts.models import User
from offload.accounts.queries import member_named
from offload.accounts.services import confirm_email, create_admin
from offload.alerts.services import save_alert
from offload.core.db import atomic, db
from offload.invites.services import accept_invite, send_invite
from offload.notifications.models import OutboxEmail
from offload.profiles.services import (
    add_education,
    add_portfolio_item,
    save_profile,
    set_availability,
)
from offload.wallet.services import add_funds

from .data import ADMIN, DEMO_PASSWORD, MEMBERS
from .gigs import seed_demo_gigs


@dataclass(frozen=True)
class Seeded:
    """What one run of the seed created (empty lists: everything was there)."""

    members: list[str]  # usernames
    gigs: list[str]  # titles


def seed_demo() -> Seeded:
    """Create the demo admin and members that are missing, give each member some
    sandbox funds once, then post the demo gigs that are missing with their questions
    and offers (``gigs.seed_demo_gigs``).

    Money: one sandbox deposit per member, ever (a fixed idempotency key); the response
    fees of the demo offers on task gigs, once per gig posted.
    """
    created = []
    with atomic():
        if member_named(ADMIN["username"]) is None:
            create_admin(username=ADMIN["username"], email=ADMIN["email"],
                         password=DEMO_PASSWORD)
            created.append(ADMIN["username"])
        for spec in MEMBERS:
            if member_named(spec["username"]) is None:
                _create_demo_member(spec)
                created.append(spec["username"])
    for spec in MEMBERS:
        # a fixed key per member: running the seed again replays, it never pays twice
        add_funds(actor=member_named(spec["username"]), amount_minor=spec.get("funds_minor", 50_00),
                  idempotency_key=f"demo-seed-funds-{spec['username']}")
    members = {spec["username"]: member_named(spec["username"]) for spec in MEMBERS}
    return Seeded(members=created, gigs=seed_demo_gigs(members))


def _mailed_token(address: str, template: str) -> str:
    """The token at the end of the link in the latest ``template`` mail to ``address``:
    the demo member opens their mail as anyone would."""
    mail = db.session.scalar(select(OutboxEmail).where(
        OutboxEmail.to_address == address, OutboxEmail.template == template)
        .order_by(OutboxEmail.id.desc()).limit(1))
    return re.findall(r"https?://\S+", mail.text_body)[-1].rstrip("/").rsplit("/", 1)[-1]


def _create_demo_member(spec: dict) -> User:
    """Invited by ``spec["inviter"]``, signed up from the invite, address confirmed."""
    address = f"{spec['username']}@offload.test"
    send_invite(actor=member_named(spec["inviter"]), email=address, vouch_note=spec["vouch"])
    user = accept_invite(_mailed_token(address, "invite"), username=spec["username"],
                         email=address, password=DEMO_PASSWORD,
                         display_name=spec["display_name"],
                         account_type=spec.get("account_type", "individual"),
                         organization_name=spec.get("organization_name", ""))
    confirm_email(_mailed_token(address, "confirm_email"))
    save_profile(actor=user, display_name=spec["display_name"], headline=spec["headline"],
                 bio=spec["bio"], location=spec["location"],
                 organization_name=spec.get("organization_name"), skill_names=spec["skills"])
    school, degree, field, start, end = spec["education"]
    add_education(actor=user, school=school, degree=degree, field_of_study=field,
                  start_year=start, end_year=end)
    title, url, description = spec["portfolio"]
    add_portfolio_item(actor=user, title=title, url=url, description=description)
    if spec.get("busy"):
        set_availability(actor=user, available=False)
    if spec.get("alert"):
        search, frequency = spec["alert"]
        save_alert(actor=user, query_args=search, frequency=frequency)
    return user
