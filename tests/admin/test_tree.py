"""The invite-tree explorer: finding, showing and moving a member, 404 to members, and
the same queries on a tree of 100,000 members."""

from __future__ import annotations

import pytest

from offload.accounts.models import User
from offload.core.db import db
from offload.invites.fake import generate_tree
from offload.invites.tree import counted_branch_size, line_to_root
from tests.support.factories import _hashed


def fresh(user_id: int) -> User:
    db.session.rollback()
    return db.session.get(User, user_id)


def test_the_explorer_finds_shows_and_moves(client, login, make_member, tree):
    make_member("alice", display_name="Alice Example", inviter=tree["b"])
    make_member("alfred", display_name="Fred", inviter=tree["b"])
    login(tree["root"])
    assert client.get("/admin/tree?q=a11").headers["Location"].endswith("/admin/tree/a11")
    found = client.get("/admin/tree?q=Al").get_data(as_text=True)  # a username's or name's start
    assert ">Alice Example</a>" in found and ">Fred</a>" in found and ">B1</a>" not in found
    assert "starts with" in client.get("/admin/tree?q=zz").get_data(as_text=True)
    page = client.get("/admin/tree/a").get_data(as_text=True)
    assert f'id="branch-{tree["a1"].id}"' in page and "3 members below" in page
    line = page[page.index("Line to the root"):page.index("Invited by")]
    assert line.index("Root") < line.index("<strong>A</strong>")
    response = client.post("/admin/tree/a1/reparent", data={"inviter": "nobody",
                                                            "reason": "Moving"})
    assert response.status_code == 422
    assert "There is no member with that username." in response.get_data(as_text=True)
    assert 'value="nobody"' in response.get_data(as_text=True)  # kept what was typed
    response = client.post("/admin/tree/a1/reparent", data={"inviter": "b", "reason": "Moving"})
    assert response.status_code == 302
    assert fresh(tree["a1"].id).invited_by_id == tree["b"].id


def test_the_explorer_is_404_to_members(client, login, tree):
    assert client.get("/admin/tree/a").status_code == 404
    login(tree["a"])
    assert client.get("/admin/tree/a").status_code == 404
    assert client.post("/admin/tree/a1/reparent", data={"inviter": "b",
                                                        "reason": "x"}).status_code == 404


def test_the_explorer_runs_the_same_queries_at_100000_members(client, login, make_member,
                                                              count_queries):
    root = make_member("root", admin=True)
    small_member = make_member("small", inviter=root)
    make_member("small1", inviter=small_member)
    login(root)

    def queries(url: str) -> int:
        with count_queries() as statements:
            assert client.get(url).status_code == 200
        return len(statements)

    few = (queries("/admin/tree/root"), queries("/admin/tree/small1"))
    ids = generate_tree(100_000, root=root, password_hash=_hashed("x" * 12))
    deep = max(ids[-500:], key=lambda i: len(line_to_root(i)))
    deep_name = db.session.get(User, deep).username
    assert len(line_to_root(deep)) > 5
    assert fresh(root.id).branch_size == counted_branch_size(root.id) == 100_002
    assert all(fresh(i).branch_size == counted_branch_size(i) for i in ids[:20] + [deep])
    many = (queries("/admin/tree/root"), queries(f"/admin/tree/{deep_name}"))
    assert many == few


@pytest.mark.parametrize("after", ["²", "99999999999999999999", "-1", ""])
def test_a_branch_cursor_that_is_no_id_shows_the_first_page(client, login, tree, after):
    """``str.isdigit`` is true for "²" (int() raises) and a huge number overflows: a 500."""
    login(tree["root"])
    response = client.get("/admin/tree/a", query_string={"after": after})
    assert response.status_code == 200
    assert f'id="branch-{tree["a1"].id}"' in response.get_data(as_text=True)
