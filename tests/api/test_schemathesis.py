"""Schemathesis against the API's own OpenAPI document, on the test database.

The document is loaded from the app in-process (``/api/v1/openapi.json`` through its
WSGI interface, as a client would read it) and every operation in it is run, whatever
the endpoint modules add: nothing here names an operation. The world is the
authorization matrix's (tests/support/authorization.py: a member with gigs, offers on
others', projects, milestones, conversations, a wallet with money, notifications), with
one more token of the member's per scope; each case is sent with the token of the scope
its operation declares (``x-scope``, from ``needs()``), so it gets past the 403 and into
the endpoint. Path parameters are, about half the time, the world's objects by the
parameter's name (``gig_id``, ``deposit_id``, ``username``...), the rest generated.

Every response must not be a server error, must have a documented status, content type
and headers, and a body matching its schema. Generation is derandomized (the same cases
on every run, so CI is reproducible) and bounded per operation. The world is put back
from its snapshot before each operation, not each case: the writes of one operation's
cases (deposits, marking read) leave a world the next case still makes sense in, and
the after-test money check verifies what they moved.

A stateful run follows the document's links (a created deposit or withdrawal, then
reading it back) where the document declares them.
"""

from __future__ import annotations

import contextvars
import re

import pytest
import schemathesis
from flask import has_app_context
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Err
from schemathesis.generation.modes import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import or_

from offload.accounts.models import TokenScope, User
from offload.accounts.services import create_personal_token
from offload.api.blueprint import PREFIX, SCOPE_EXTENSION
from offload.commissions.models import Commission
from offload.core.db import db
from tests.support.authorization import build_world
from tests.support.factories import fund
from tests.support.snapshot import Snapshot


@schemathesis.check
def not_rate_limited(ctx, response, case):
    """A 429 is documented, but a case it answers never reached the endpoint."""
    if response.status_code == 429:
        raise AssertionError("rate limited: raise API_RATE_LIMIT for the run")


CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_headers_conformance, response_schema_conformance, not_rate_limited]
EXAMPLES_PER_OPERATION = 25
MODES = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
STATEFUL_RUNS = 20
HTTP_METHODS = {"get", "put", "post", "delete", "patch"}
SETTINGS = settings(max_examples=EXAMPLES_PER_OPERATION, derandomize=True, database=None,
                    deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                           HealthCheck.function_scoped_fixture])
ALL_SCOPES = "all"


class Fuzzed:
    """The seeded world as the run needs it: the snapshot to put back, the member's token
    per scope (and one with every scope), the sample value of each URL argument."""

    def __init__(self, app) -> None:
        world = build_world(app)
        world.snapshot.put_back()
        member = db.session.scalar(db.select(User).where(
            User.username == world.logins["member"].username))
        scopes = [scope.value for scope in TokenScope]
        self.tokens = {scope: create_personal_token(actor=member, name=f"{scope} fuzzing",
                                                    scopes=[scope], days=30).secret
                       for scope in scopes}
        self.tokens[ALL_SCOPES] = world.tokens["member"]
        # enough that most withdrawals generated are covered (the matrix's world has $40)
        fund(member, app.config["MAX_AMOUNT_MINOR"])
        self.document = app.test_client().get(f"{PREFIX}/openapi.json").get_json()
        self.url_values = {**world.url_values, **_ids_the_matrix_lacks(member, world)}
        self.snapshot = Snapshot()

    def headers_for(self, operation) -> dict[str, str]:
        scope = operation.definition.raw.get(SCOPE_EXTENSION, ALL_SCOPES)
        return {"Authorization": f"Bearer {self.tokens[scope]}"}


def _ids_the_matrix_lacks(member: User, world) -> dict[str, int]:
    """Objects the API names that the matrix's pages don't: a conversation is its offer's
    (conversations.models), and the commission of a project of the member's."""
    commission_id = db.session.scalar(db.select(Commission.id).where(or_(
        Commission.payer_id == member.id, Commission.referrer_id == member.id))
        .order_by(Commission.id).limit(1))
    return {"conversation_id": world.url_values["offer_id"],
            **({"commission_id": commission_id} if commission_id else {})}


def isolated(app):
    """``app`` as a WSGI callable whose requests run each in their own context, as
    ``IsolatedClient``'s do (tests/support/app.py): not in the test's app context, whose
    database session would otherwise be shared; after it, the test's session ends its
    read transaction so it sees what the request wrote."""

    def wsgi(environ, start_response):
        body = contextvars.Context().run(lambda: list(app(environ, start_response)))
        if has_app_context():
            db.session.rollback()
        return body

    return wsgi


@pytest.fixture(autouse=True)
def _unlimited(app, monkeypatch):
    """The cases of many operations share one token per scope, a few hundred requests a
    minute: under the real limit they would end as 429s, which never reach the endpoint."""
    monkeypatch.setitem(app.config, "API_RATE_LIMIT", "1000000 per minute")


@pytest.fixture(scope="module")
def fuzzed(app):
    with app.app_context():
        made = Fuzzed(app)
    return made


def load_schema(app, fuzzed):
    """The document as the app serves it, with the world's objects as path parameters."""
    schema = schemathesis.openapi.from_wsgi(f"{PREFIX}/openapi.json", isolated(app))

    @schema.hook
    def flatmap_path_parameters(context, path_parameters):
        if not path_parameters:  # None for an operation without any
            return st.just(path_parameters)
        seeded = {name: fuzzed.url_values.get(name, value)
                  for name, value in path_parameters.items()}
        return st.sampled_from([seeded, path_parameters])

    return schema


def operations(schema) -> list:
    """Every operation of the document; one it cannot read fails the test."""
    found = []
    for result in schema.get_all_operations():
        if isinstance(result, Err):
            raise result.err()
        found.append(result.ok())
    return found


@pytest.mark.resets_tables
def test_every_operation_answers_as_documented(app, fuzzed):
    schema = load_schema(app, fuzzed)
    run, failures = [], {}
    for operation in operations(schema):
        for mode in MODES:
            fuzzed.snapshot.put_back()

            @SETTINGS
            @given(case=operation.as_strategy(generation_mode=mode))
            def cases(case):
                case.call_and_validate(headers=fuzzed.headers_for(case.operation),
                                       checks=CHECKS)

            try:
                cases()
            except Exception as error:  # every operation runs; all failures are reported
                failures[f"{operation.label} ({mode})"] = error
            run.append(operation.label)
    assert not failures, "\n\n".join(f"{label}:\n{error}" for label, error in failures.items())
    documented = {f"{method.upper()} {path}" for path, item in fuzzed.document["paths"].items()
                  for method in item if method in HTTP_METHODS}
    assert set(run) == documented and len(documented) >= 5


@pytest.mark.resets_tables
def test_the_documents_links_are_followed(app, fuzzed):
    """Schemathesis' stateful run: sequences of calls where a link's target gets its
    parameters from the answer before (a created deposit, then reading it back); every
    answer is checked as in the test above."""
    schema = load_schema(app, fuzzed)
    fuzzed.snapshot.put_back()
    followed: set[str] = set()  # operations answered 200 when reached through a link

    # only the links the document declares: links Schemathesis infers from the schemas'
    # names (dozens, between every pair of operations sharing an id) would leave the
    # declared ones unreached in a bounded run
    schema.config.phases.stateful.inference.algorithms = []
    # valid requests only: a sequence exists to reach the links (invalid input is the
    # test above's)
    schema.config.phases.stateful.generation.modes = [GenerationMode.POSITIVE]

    class Run(schema.as_state_machine()):
        def step(self, input):
            output = super().step(input)
            if input.is_applied and input.transition and output.response.status_code == 200:
                followed.add(input.case.operation.label)
            return output

        def get_call_kwargs(self, case):
            return {"headers": fuzzed.headers_for(case.operation)}

        def teardown(self):
            # each run starts from the same world: derandomized runs then replay alike
            # (a world the last run wrote in makes Hypothesis call the strategy flaky)
            fuzzed.snapshot.put_back()

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            case.validate_response(response, checks=CHECKS, transport_kwargs=kwargs)

    Run.run(settings=settings(SETTINGS, max_examples=STATEFUL_RUNS, stateful_step_count=4))
    targets = {_operation_label(link["operationRef"])
               for item in fuzzed.document["paths"].values()
               for operation in item.values() if isinstance(operation, dict)
               for answer in operation.get("responses", {}).values()
               for link in answer.get("links", {}).values()}
    assert targets, "the document declares no links"
    # a bounded run reaches a link only when its source's random body was accepted (a
    # valid gig or milestone is rare); what it follows must answer, at least one must
    assert followed and followed <= targets, (followed, targets)


def _operation_label(reference: str) -> str:
    """``#/paths/~1api~1v1~1gigs~1{gig_id}/get`` → ``GET /api/v1/gigs/{gig_id}``."""
    path, method = reference.removeprefix("#/paths/").rsplit("/", 1)
    return f"{method.upper()} {path.replace('~1', '/').replace('~0', '~')}"


@pytest.mark.resets_tables
def test_every_operation_declares_its_scope_and_refuses_a_token_without_it(client, fuzzed):
    """The scope each case above is sent with is the operation's own: a token of any
    other scope is refused (403) before the endpoint runs."""
    fuzzed.snapshot.put_back()
    scopes = [scope.value for scope in TokenScope]
    for path, item in fuzzed.document["paths"].items():
        url = re.sub(r"{(\w+)}", lambda m: str(fuzzed.url_values[m[1]]), path)
        for method, operation in item.items():
            if method not in HTTP_METHODS:
                continue
            scope = operation[SCOPE_EXTENSION]
            assert scope in scopes and f"`{scope}` scope" in operation["description"]
            for other in scopes:
                if other == scope:
                    continue
                response = client.open(url, method=method.upper(), json={}, headers={
                    "Authorization": f"Bearer {fuzzed.tokens[other]}"})
                assert response.status_code == 403, (method, url, other)
