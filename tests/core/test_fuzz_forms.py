"""Every POST route of the authorization matrix, fed odd input by Hypothesis: bytes that
are not UTF-8, control characters, huge numbers, long strings, other scripts and
currencies. Whatever arrives, the answer is never a 500, and input the site refuses
(a 4xx) leaves the ledger as it was.

Each route is posted as the first role the matrix lets in (member, then admin, ...),
with the fields of the form that posts to it (scraped from the matrix's pages, with the
values the page fills in or a plausible guess), one to three of them replaced by odd
values, so the odd value meets the checks behind an otherwise valid form.
The world is the matrix's, put back only after a post that was accepted. The run is
derandomized so CI is repeatable; ``OFFLOAD_FUZZ_EXAMPLES`` explores more locally.
"""

from __future__ import annotations

import os
from html.parser import HTMLParser
from types import SimpleNamespace
from urllib.parse import urlencode, urlsplit

import pytest
from flask import url_for
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from offload.core.db import db
from offload.ledger.models import LedgerAccount, Transfer
from tests.support.app import empty_tables
from tests.support.authorization import MATRIX, build_world
from tests.support.factories import PASSWORD

ROLE_ORDER = ("member", "admin", "outsider", "unconfirmed", "anonymous")
# anonymous where the route lets anyone in (log-in, sign-up, reset: their forms are
# for visitors), else the first role it lets in
POSTS = sorted((endpoint, "anonymous" if row["anonymous"] == "ok"
                else next(r for r in ROLE_ORDER if row[r] == "ok"))
               for (endpoint, method), row in MATRIX.items()
               if method == "POST" and any(row[r] == "ok" for r in ROLE_ORDER))
EXAMPLES = int(os.environ.get("OFFLOAD_FUZZ_EXAMPLES", "3"))

ODD = st.one_of(
    st.binary(max_size=24),  # sent percent-encoded as is: often not UTF-8
    st.text(max_size=24),  # any code point Hypothesis likes, controls and surrogates aside
    st.sampled_from(["\x00", "ali\x00ce", "\x1b[31mred", "\x7f", "\x85", "a\x0bb", "\t\r\n"]),
    st.integers(min_value=-(2**80), max_value=2**80).map(str),
    st.sampled_from(["9223372036854775808", "99999999999999999999", "-1", "0", "1e309",
                     "NaN", "Infinity", "0x10", "1_000", "12,50", "1.2.3", ".5"]),
    st.sampled_from(["x" * 300, "é" * 3000, "9" * 400, "<script>alert(1)</script>" * 20]),
    st.sampled_from(["€5", "£5", "$5", "٥٠", "１２", "۵", "५", "محمد", "李小龙", "Zoë",
                     "\u202eevil", "\ufeff", "🙂" * 30]),
    st.sampled_from(["5", "10.00", "1", "2", "y", "yes", "task", "referral", "prepaid",
                     "postpaid", "2030-01-31", "https://example.com", "member", "Python"]),
)


def _ledger() -> tuple:
    """What refused input must not change: the transfers and every account's counters."""
    db.session.rollback()
    transfers = db.session.execute(select(func.count(Transfer.id), func.max(Transfer.id))).one()
    accounts = db.session.execute(select(
        LedgerAccount.id, LedgerAccount.debits_pending, LedgerAccount.debits_posted,
        LedgerAccount.credits_pending, LedgerAccount.credits_posted
    ).order_by(LedgerAccount.id)).all()
    return tuple(transfers), tuple(map(tuple, accounts))


class _Forms(HTMLParser):
    """The POST forms of a page: action path → {field name: the value the page fills in}."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: dict[str, dict[str, str]] = {}
        self.current: dict[str, str] | None = None
        self.select: str | None = None
        self.textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and a.get("method", "").lower() == "post":
            self.current = self.forms.setdefault(urlsplit(a.get("action", "")).path, {})
        elif self.current is None or tag not in ("input", "select", "option", "textarea"):
            return
        elif tag == "input" and a.get("name") and a.get("type") != "file":
            if a.get("type") not in ("checkbox", "radio") or a["name"] not in self.current:
                self.current[a["name"]] = a.get("value", "")
        elif tag == "select":
            self.select = a.get("name")
        elif tag == "option" and self.select and a.get("value") \
                and not self.current.get(self.select):
            self.current[self.select] = a["value"]
        elif tag == "textarea" and a.get("name"):
            self.textarea = a["name"]
            self.current[self.textarea] = ""

    def handle_data(self, data):
        if self.current is not None and self.textarea:
            self.current[self.textarea] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self.current = None
        elif tag == "select":
            self.select = None
        elif tag == "textarea":
            self.textarea = None


def _plausible(name: str, value: str) -> str:
    """A value the field would accept: what the page filled in, else a guess by name."""
    if value.strip():
        return value
    guesses = (("password", PASSWORD), ("email", "someone.new@example.com"),
               ("amount", "5"), ("price", "5"), ("budget", "500"), ("days", "5"),
               ("year", "2015"), ("date", "2030-01-31"), ("deadline", "2030-01-31"),
               ("url", "https://example.com"), ("username", "member"), ("rating", "5"))
    return next((v for key, v in guesses if key in name), "A plain answer")


def _forms(app, world) -> dict[str, dict[str, str]]:
    """Every POST form the pages of the matrix render to visitors, the member and the admin, by
    action path, each field with a value it would accept."""
    forms: dict[str, dict[str, str]] = {}
    gets = sorted({endpoint for (endpoint, method) in MATRIX if method == "GET"})
    with app.app_context():
        world.snapshot.restore()
        for role in ("anonymous", "member", "admin"):
            client = app.test_client()
            if world.logins[role] is not None:
                client.post("/login", data={"login": world.logins[role].username,
                                            "password": PASSWORD})
            for endpoint in gets:
                if MATRIX[(endpoint, "GET")][role] != "ok":
                    continue
                response = client.get(_url(app, world, endpoint))
                if response.mimetype == "text/html":
                    parser = _Forms()
                    parser.feed(response.get_data(as_text=True))
                    for action, fields in parser.forms.items():
                        forms.setdefault(action, {}).update(fields)
        empty_tables()
    return {action: {n: _plausible(n, v) for n, v in fields.items() if n != "csrf_token"}
            for action, fields in forms.items()}


def _url(app, world, endpoint: str) -> str:
    rule = next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint)
    with app.test_request_context():
        return url_for(endpoint, **{n: world.url_values[n] for n in rule.arguments})


@pytest.fixture(scope="module")
def fuzz_world(app):
    world = build_world(app)
    forms = _forms(app, world)
    every = {name: value for fields in forms.values() for name, value in fields.items()}
    return SimpleNamespace(world=world, forms=forms, every=every)


def _encode(value) -> bytes:
    return value if isinstance(value, bytes) else value.encode("utf-8", "surrogatepass")


@pytest.mark.resets_tables
@pytest.mark.parametrize(("endpoint", "role"), POSTS, ids=[e for e, _ in POSTS])
def test_odd_input_is_never_a_500_and_refused_input_moves_no_money(
        app, client, fuzz_world, endpoint, role):
    world = fuzz_world.world
    assert len(fuzz_world.forms) > 40  # the scrape found the forms
    url = _url(app, world, endpoint)
    # the fields of the form posting here, or (a form no page of the matrix shows) all
    baseline = fuzz_world.forms.get(url) or fuzz_world.every
    names = sorted(baseline)
    dirty = [True]  # restore the world before the first post and after an accepted one

    def send(odd: list[tuple[str, object]]) -> None:
        if dirty[0]:
            world.snapshot.put_back()
            client.post("/logout")
            if world.logins[role] is not None:
                r = client.post("/login", data={"login": world.logins[role].username,
                                                "password": PASSWORD})
                assert r.status_code == 302
            dirty[0] = False
        values = {**baseline, **dict(odd)}
        data = [(name, _encode(value)) for name, value in values.items()]
        before = _ledger()
        response = client.post(url, data=urlencode(data).encode("ascii"),
                               content_type="application/x-www-form-urlencoded")
        got = response.status_code
        assert got < 500, (endpoint, got, odd)
        if 400 <= got < 500:
            assert _ledger() == before, (endpoint, got, odd)
        else:
            dirty[0] = True

    # a NUL in each field of its own, behind an otherwise valid form: the case that
    # reached PostgreSQL (a 500) through keys, details, letters and the log-in name
    if url in fuzz_world.forms:
        for name in names:
            send([(name, "ali\x00ce")])

    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(odd=st.lists(st.tuples(st.sampled_from(names), ODD), min_size=1, max_size=3))
    def fuzz(odd):
        send(odd)

    fuzz()
