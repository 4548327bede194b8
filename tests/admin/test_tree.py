"""The invite-tree explorer: finding, showing and moving a member, 404 to members, and
the same queries on a tree of 100,000 members."""

from __future__ import annotations

import pytest

from offload.accounts.models import User
from offload.accounts.queries import two_factor_status
from offload.accounts.step_up import FRESH_KEY
from offload.core.db import db
from offload.invites.fake import generate_tree
from offload.invites.tree import counted_branch_size, line_to_root
from tests.support.factories import PASSWORD, _hashed
from tests.support.two_factor import code_for as two_factor_code
from tests.support.two_factor import turn_on_two_factor


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


def _log_in_with_code(client, member, secret, totp_clock):
    totp_clock.tick()
    client.post("/logout")
    assert client.post("/login", data={"login": member.username, "password": PASSWORD}
                       ).headers["Location"] == "/login/code"
    response = client.post("/login/code", data={"code": two_factor_code(secret,
                                                                        totp_clock.now)})
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]


def test_an_admin_resets_a_members_two_factor_from_their_page(app, client, make_member,
                                                               monkeypatch, totp_clock,
                                                               outbox):
    monkeypatch.setitem(app.config, "TWO_FACTOR_REQUIRED_FOR_ADMINS", True)
    root = make_member("root", admin=True)
    alice = make_member("alice", inviter=root)
    secret = turn_on_two_factor(root, at=totp_clock.now).secret
    turn_on_two_factor(alice, at=totp_clock.now)
    _log_in_with_code(client, root, secret, totp_clock)
    page = client.get("/admin/tree/alice").get_data(as_text=True)
    assert 'id="two-factor"' in page and "Reset two-factor" in page
    url = "/admin/tree/alice/reset-two-factor"
    response = client.post(url, data={"reset-reason": "Checked on a call",
                                      "reset-password": "wrong password!"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and "Your password is not correct." in page
    assert "Checked on a call</textarea>" in page and "wrong password!" not in page
    response = client.post(url, data={"reset-reason": "", "reset-password": PASSWORD})
    assert response.status_code == 422 and "Write the reason." in response.get_data(
        as_text=True)
    with client.session_transaction() as session:
        session[FRESH_KEY] -= 16 * 60  # the admin's own code is stale: asked for again
    response = client.post(url, data={"reset-reason": "Checked on a call",
                                      "reset-password": PASSWORD})
    assert response.status_code == 403 and "Re-enter your code" in response.get_data(
        as_text=True)
    assert two_factor_status(alice.id).is_on
    with client.session_transaction() as session:
        session[FRESH_KEY] += 16 * 60
    response = client.post(url, data={"reset-reason": "Checked on a call",
                                      "reset-password": PASSWORD}, follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "two-factor authentication is reset" in page
    assert not two_factor_status(alice.id).is_on
    assert outbox.to("alice@example.com")[-1].template == "two_factor_reset_by_admin"


def test_an_admin_page_says_why_its_own_and_admins_two_factor_cant_be_reset(
        client, make_member, totp_clock):
    root = make_member("root", admin=True)
    other = make_member("root2", admin=True)
    secret = turn_on_two_factor(root, at=totp_clock.now).secret
    turn_on_two_factor(other)
    alice = make_member("alice", inviter=root)  # no 2FA: nothing to reset, no form
    _log_in_with_code(client, root, secret, totp_clock)
    own = client.get("/admin/tree/root").get_data(as_text=True)
    assert "reset your own two-factor authentication" in own
    assert "Reset two-factor</button>" not in own
    page = client.get("/admin/tree/root2").get_data(as_text=True)
    assert "authentication can&#39;t be reset here" in page
    page = client.get(f"/admin/tree/{alice.username}").get_data(as_text=True)
    assert "logs in with a password alone" in page and "Reset two-factor</button>" not in page
    response = client.post("/admin/tree/root2/reset-two-factor",
                           data={"reset-reason": "x", "reset-password": PASSWORD})
    assert response.status_code == 422 and two_factor_status(other.id).is_on


def test_resetting_two_factor_is_404_to_members(client, login, make_member):
    alice = make_member("alice")
    turn_on_two_factor(alice)
    login(make_member("bob"))
    assert client.post("/admin/tree/alice/reset-two-factor",
                       data={"reset-reason": "x", "reset-password": PASSWORD}
                       ).status_code == 404
    assert two_factor_status(alice.id).is_on
