"""Looking a member up by username, as typed: with or without "@", in any case."""

from __future__ import annotations

from offload.accounts.queries import member_named


def test_member_named_takes_the_name_as_typed(app, make_member):
    bob = make_member("bob", confirmed=False)
    for typed in ("bob", "Bob", " @BOB "):
        assert member_named(typed) is bob
    for typed in ("", None, "  ", "@", "bobby"):
        assert member_named(typed) is None
