"""The erase/keep inventory against the schema and against a deletion: every personal
column of every table pointing at ``users`` is decided, and what is marked erased is."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import String, Table, Text, func, or_, select

from offload.accounts.models import Passkey, User
from offload.accounts.services import request_password_reset
from offload.contact.services import send_contact_message
from offload.core.db import db
from offload.exports.models import DataExport
from offload.gigs.models import ClientDetails, Gig, GigAttachment
from offload.gigs.services import add_gig_attachment
from offload.invites.models import Invite, InviteState
from offload.invites.services import send_invite
from offload.notifications.services import notify
from offload.privacy import inventory
from offload.privacy.services import (
    ERASED_TEXT,
    UNUSABLE_PASSWORD,
    delete_account,
    placeholder_email,
    placeholder_name,
    placeholder_username,
)
from offload.wallet.models import Withdrawal
from offload.wallet.services import mark_withdrawal_paid
from tests.support.factories import PASSWORD, fresh, upload

ROOT = Path(__file__).resolve().parents[2]
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _users() -> Table:
    return db.metadata.tables["users"]


def _member_tables() -> dict[str, list[str]]:
    """Each table with rows that belong to a member, and the columns that say which:
    its foreign keys to ``users`` (``users`` itself by ``id``); and, one hop further, a
    table with a foreign key to one of those (``gig_client_details`` and
    ``gig_attachments`` belong to the gig's poster, an offer message's attachments to
    its sender, a milestone to its project's parties), found by its parents (see
    ``_owned_rows``). Tables with no foreign key at all that hold an address a member
    typed are listed in ``ADDRESSED``."""
    users = _users()
    found = {"users": ["id"]}
    for table in db.metadata.sorted_tables:
        columns = [fk.parent.name for fk in table.foreign_keys if fk.column.table is users]
        if columns and table is not users:
            found[table.name] = columns
    direct = set(found)
    for table in db.metadata.sorted_tables:
        if table.name not in found and any(
                fk.column.table.name in direct and fk.column.table is not users
                for fk in table.foreign_keys):
            found[table.name] = []  # reached through its parents (see _owned_rows)
    for name in ADDRESSED:
        found.setdefault(name, [])
    return found


# tables tied to a member by nothing but their e-mail address (column), in any case
ADDRESSED = {"password_reset_requests": "email"}


def _text_columns(table: Table) -> list[str]:
    return [c.name for c in table.columns if isinstance(c.type, (String, Text))]


def _decided(table: str, column: str) -> bool:
    named = f"{table}.{column}"
    return (named in inventory.erased_columns() or named in inventory.kept_columns()
            or named in inventory.NOT_PERSONAL or f"{table}.*" in inventory.erased_columns())


def test_every_text_column_of_a_members_rows_is_erased_kept_or_not_personal(app):
    undecided = [f"{name}.{column}" for name in _member_tables()
                 for column in _text_columns(db.metadata.tables[name])
                 if not _decided(name, column)]
    assert undecided == [], ("Decide, in offload/privacy/inventory.py (and say so on the "
                             "delete page and in README), whether deleting an account "
                             f"erases or keeps: {undecided}")


def test_the_inventory_names_only_columns_that_exist(app):
    tables = db.metadata.tables
    named = (inventory.erased_columns() | inventory.kept_columns()) | inventory.NOT_PERSONAL
    for entry in named:
        table, column = entry.split(".")
        assert table in tables, entry
        assert column == "*" or column in tables[table].columns, entry
    assert not inventory.erased_columns() & inventory.kept_columns()


def test_the_delete_page_and_readme_say_the_same_lists(client, login, make_member):
    login(make_member("ada"))
    page = client.get("/privacy/delete").get_data(as_text=True)
    readme = " ".join((ROOT / "README.md").read_text().split())
    for said in list(inventory.ERASED) + list(inventory.KEPT):
        html = said.replace("'", "&#39;")
        assert html in page, said
        assert said in readme, said


@pytest.fixture
def ada_with_rows(client, make_member, make_gig, fund, withdraw):
    """A member with a row in each table deleting touches, beyond the profile's (the
    services tests cover those): a signed-in device, notifications, a message to the
    admins, invites each way, a referral gig with its client, a withdrawal paid out, a
    passkey, a data export."""
    root = make_member("root", admin=True)
    ada = make_member("ada", email="ada@example.com", inviter=root,
                      display_name="Ada Lovelace")
    client.post("/login", data={"login": "ada", "password": PASSWORD})  # member_sessions
    notify(fresh(User, ada.id), "case_opened", title="Something about Ada Lovelace",
           link="/settings")
    db.session.commit()
    send_contact_message(actor=fresh(User, ada.id), subject="A question",
                         body="How do fees work?")
    send_invite(actor=fresh(User, ada.id), email="pal@example.com", vouch_note="Shipped.")
    gig = make_gig(poster=fresh(User, ada.id))
    draft = make_gig(poster=fresh(User, ada.id), publish=False)
    for on in (gig, draft):
        add_gig_attachment(fresh(Gig, on.id), actor=fresh(User, ada.id),
                           file_storage=upload(PDF, "ada-lovelace-plan.pdf"))
    request_password_reset("Ada@example.com")
    fund(fresh(User, ada.id), 20_00)
    withdrawal = withdraw(fresh(User, ada.id), 20_00)
    mark_withdrawal_paid(fresh(Withdrawal, withdrawal.id), actor=fresh(User, root.id),
                         reason="Paid by hand.", password=PASSWORD)
    fresh(User, ada.id).time_zone = "Europe/London"
    db.session.add_all([
        Passkey(user_id=ada.id, credential_id=b"ada-key", public_key=b"k", name="Ada's phone",
                transports="internal"),
        DataExport(user_id=ada.id, state="ready", file_name="ada-export.zip",
                   token_hash="0" * 64, expires_at=ada.created_at)])
    db.session.commit()
    return fresh(User, ada.id), gig.id, root


def _owned_rows(member_id: int, address_of: str | None = None):
    """(table, row) for every row of ``_member_tables`` that belongs to the member
    (``address_of``: their address, once the account no longer has it)."""
    tables = db.metadata.tables
    for name, columns in _member_tables().items():
        table = tables[name]
        if columns:
            where = [table.c[c] == member_id for c in columns]
            rows = db.session.execute(select(table).where(or_(*where))).mappings().all()
        elif name in ADDRESSED:  # by their address (the one they had, once deleted)
            address = address_of or db.session.scalar(select(tables["users"].c.email).where(
                tables["users"].c.id == member_id))
            rows = db.session.execute(select(table).where(
                func.lower(table.c[ADDRESSED[name]]) == address.lower())).mappings().all()
        else:  # through a parent of the member's: a gig, a message, a project
            owned_by = []
            for fk in table.foreign_keys:
                parent = fk.column.table
                parent_columns = _member_tables().get(parent.name)
                if not parent_columns or parent is _users():
                    continue
                owned = select(fk.column).where(or_(*[parent.c[c] == member_id
                                                      for c in parent_columns]))
                owned_by.append(fk.parent.in_(owned))
            rows = db.session.execute(select(table).where(or_(*owned_by))).mappings().all()
        for row in rows:
            yield name, row


def test_after_a_deletion_no_erased_column_of_theirs_holds_anything(ada_with_rows):
    ada, gig_id, root = ada_with_rows
    # others' invites to her address, besides the one she used: one long expired, one
    # sent to it again after she joined under another address
    others = [Invite(inviter_id=root.id, email=email, vouch_note="Known her.",
                     token_hash=str(n) * 64, state=state, expires_at=ada.created_at)
              for n, (email, state) in enumerate([("ada@example.com", "expired"),
                                                  ("Ada@Example.com", "pending")])]
    db.session.add_all(others)
    db.session.commit()
    others = [o.id for o in others]
    assert db.session.get(ClientDetails, gig_id) is not None
    seen = {name for name, _ in _owned_rows(ada.id)}
    for table in ("member_sessions", "notifications", "contact_messages", "invites",
                  "withdrawals", "gig_client_details", "passkeys", "data_exports",
                  "gig_attachments", "password_reset_requests"):
        assert table in seen, table  # the fixture reaches it

    delete_account(actor=ada, password=PASSWORD)
    db.session.rollback()

    blanks = {None, "", "UTC", ERASED_TEXT, UNUSABLE_PASSWORD, placeholder_name(ada.id),
              placeholder_username(ada.id), placeholder_email(ada.id)}
    erased = inventory.erased_columns()
    left = []
    for name, row in _owned_rows(ada.id, address_of="ada@example.com"):
        if f"{name}.*" in erased:
            left.append(f"{name} row {dict(row)}")
            continue
        for column in _text_columns(db.metadata.tables[name]):
            if f"{name}.{column}" in erased and row[column] not in blanks:
                left.append(f"{name}.{column} = {row[column]!r}")
    assert left == []
    # the published gig's file and its name stay with it, as evidence; the draft's went
    kept = db.session.scalars(select(GigAttachment.gig_id).join(Gig).where(
        Gig.poster_id == ada.id)).all()
    assert kept == [gig_id]
    # rows that aren't hers but held her address: the invite to her old address
    for invite_id in others:
        invite = fresh(Invite, invite_id)
        assert invite.email == "" and invite.inviter_id == root.id  # the tree is kept
        assert invite.state != InviteState.PENDING  # and the link no longer works
    assert fresh(Gig, gig_id).poster_id == ada.id
