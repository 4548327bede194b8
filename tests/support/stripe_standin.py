"""A stand-in for Stripe's API on loopback, for the payment tests (there is no network).

Every answer is an object of Stripe's own fixtures (``tests/fixtures/stripe/fixtures3.json``,
Stripe's openapi repository: what its mock server answers), with only the fields a
request or a test controls overridden (id, amounts, status, metadata...), so response
shapes come from Stripe, never from memory. Point the ``stripe`` library at it with
``stripe.api_base = standin.url`` (the ``standin`` fixture does, and puts it back).

It behaves as Stripe does where the tests rely on it:
- ``POST /v1/<resource>`` creates (checkout sessions, accounts, account links, transfers,
  refunds, payouts; and ``/v1/transfers/<id>/reversals`` reverses a transfer),
  ``GET /v1/<resource>/<id>`` retrieves (404 in Stripe's error shape
  for an unknown id), ``GET /v1/balance_transactions`` lists with ``limit``,
  ``starting_after`` and ``has_more``;
- a POST repeated with the same ``Idempotency-Key`` and the same parameters answers the
  first response again (``Idempotent-Replayed: true``); with other parameters, a 400
  ``idempotency_error``;
- ``fail_next(path, status)`` makes the next request to a path answer an error in
  Stripe's shape (a 500, a 429...), to test what a failed call leaves behind;
- every request is recorded (``requests``: method, path, parameters, Idempotency-Key);
- a checkout session's ``url`` is the stand-in's own checkout page (``GET /checkout/<id>``,
  its block below), where a browser pays or cancels and the signed event reaches the
  site's webhook as Stripe's would.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import html
import json
import secrets
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

# the webhook secret the ``standin`` fixture gives the site (tests/support/fixtures.py)
WEBHOOK_SECRET = "whsec_test_offload"

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "stripe" / "fixtures3.json"
RESOURCES: dict[str, dict[str, Any]] = json.loads(FIXTURES.read_text())["resources"]

# the API's paths and the fixture each one answers with
PATHS = {
    "checkout/sessions": "checkout.session",
    "accounts": "account",
    "account_links": "account_link",
    "transfers": "transfer",
    "refunds": "refund",
    "payouts": "payout",
    "balance_transactions": "balance_transaction",
}


def fixture(name: str, **overrides: Any) -> dict[str, Any]:
    """A copy of Stripe's example ``name`` object with ``overrides`` set on it."""
    found = copy.deepcopy(RESOURCES[name])
    found.update(overrides)
    return found


def new_id(name: str) -> str:
    """An id in the style of the fixture's (``cs_…``, ``acct_…``, ``tr_…``)."""
    prefix = RESOURCES[name].get("id", "obj_").split("_", 1)[0]
    return f"{prefix}_{secrets.token_hex(12)}"


@dataclass
class Recorded:
    method: str
    path: str
    params: dict[str, str]
    idempotency_key: str | None


@dataclass
class StripeStandIn:
    """The server; use as a context manager. ``objects`` holds what was created, by id."""

    objects: dict[str, dict[str, Any]] = field(default_factory=dict)
    requests: list[Recorded] = field(default_factory=list)
    _replies: dict[str, tuple[dict[str, str], Response]] = field(default_factory=dict)
    _failures: dict[str, int] = field(default_factory=dict)
    _delays: dict[str, float] = field(default_factory=dict)
    url: str = ""
    # where the checkout page sends its events, as Stripe's webhook endpoint does
    webhook_url: str = ""
    webhook_secret: str = ""
    events: list[tuple[str, int]] = field(default_factory=list)  # (type, site's status)
    # Stripe's events may reach the site after the member does: held until release_events()
    hold_events: bool = False
    _held: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def __enter__(self) -> StripeStandIn:
        self._server = make_server("127.0.0.1", 0, self._app, threaded=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._server.shutdown()
        self._thread.join(timeout=5)

    def fail_next(self, path: str, status: int = 500) -> None:
        """The next request to ``path`` (``/v1/transfers``) answers ``status`` in Stripe's
        error shape."""
        self._failures[path] = status

    def delay_next(self, path: str, seconds: float) -> None:
        """The next request to ``path`` is answered only after ``seconds``, as a Stripe
        that is slow: it still does what was asked (a client that timed out may find it
        done when it retries with the same idempotency key)."""
        self._delays[path] = seconds

    def add(self, name: str, **overrides: Any) -> dict[str, Any]:
        """Put an object in place as if Stripe had it already (a balance transaction)."""
        made = fixture(name, id=overrides.pop("id", None) or new_id(name), **overrides)
        self.objects[made["id"]] = made
        return made

    # --- the WSGI app ------------------------------------------------------------------

    def _app(self, environ, start_response):
        request = Request(environ)
        if request.path.startswith("/checkout/"):
            return self._checkout_page(request)(environ, start_response)
        params = dict(request.form.items()) if request.method == "POST" else dict(
            request.args.items())
        key = request.headers.get("Idempotency-Key")
        self.requests.append(Recorded(request.method, request.path, params, key))
        if request.path in self._delays:
            time.sleep(self._delays.pop(request.path))
        if request.path in self._failures:
            status = self._failures.pop(request.path)
            return _error(status, "api_error", "The stand-in was told to fail.")(
                environ, start_response)
        return self._answer(request, params, key)(environ, start_response)

    def _answer(self, request: Request, params: dict[str, str], key: str | None) -> Response:
        reversed_id = _reversed_transfer(request)
        if reversed_id is not None:
            return self._reverse(reversed_id, params, key)
        resource, _, object_id = request.path.removeprefix("/v1/").rpartition("/")
        if request.path.removeprefix("/v1/") in PATHS:
            resource, object_id = request.path.removeprefix("/v1/"), ""
        name = PATHS.get(resource)
        if name is None:
            return _error(404, "invalid_request_error", f"Unrecognized request URL "
                          f"({request.method}: {request.path}).")
        if request.method == "GET" and object_id:
            found = self.objects.get(object_id)
            if found is None or found.get("object") != RESOURCES[name].get("object"):
                return _error(404, "invalid_request_error",
                              f"No such {name}: '{object_id}'", code="resource_missing")
            return _json(found)
        if request.method == "GET":
            return _json(self._list(name, params, request.path))
        return self._once(key, params, lambda: self._create(name, params))

    def _once(self, key: str | None, params: dict[str, str], make) -> Response:
        """``make()``'s object as the answer, or the first answer again for a key seen."""
        if key is not None and key in self._replies:
            first_params, first = self._replies[key]
            if first_params != params:
                return _error(400, "idempotency_error", "Keys for idempotent requests can "
                              "only be used with the same parameters they were first used "
                              "with.")
            replay = Response(first.get_data(), status=first.status_code,
                              mimetype="application/json")
            replay.headers["Idempotent-Replayed"] = "true"
            return replay
        answer = _json(make())
        if key is not None:
            self._replies[key] = (params, answer)
        return answer

    def _create(self, name: str, params: dict[str, str]) -> dict[str, Any]:
        made = fixture(name, id=new_id(name), livemode=False,
                       metadata=_nested(params, "metadata"))
        for field_name in ("amount", "currency", "destination", "client_reference_id",
                           "success_url", "cancel_url", "mode", "type", "account",
                           "return_url", "refresh_url", "charge", "payment_intent",
                           "transfer_group"):
            if field_name in params:
                value = params[field_name]
                made[field_name] = int(value) if field_name == "amount" else value
        if name == "checkout.session":
            unit = int(params.get("line_items[0][price_data][unit_amount]", 0))
            quantity = int(params.get("line_items[0][quantity]", 1))
            made.update(amount_subtotal=unit * quantity, amount_total=unit * quantity,
                        currency=params.get("line_items[0][price_data][currency]", "usd"),
                        status="open", payment_status="unpaid", payment_intent=None,
                        url=f"{self.url}/checkout/{made['id']}")
        if name == "account_link":
            made["url"] = f"{self.url}/onboard/{params.get('account', '')}"
        self.objects[made["id"]] = made
        return made

    def _list(self, name: str, params: dict[str, str], path: str) -> dict[str, Any]:
        kind = RESOURCES[name].get("object")
        items = self._filtered(
            [o for o in self.objects.values() if o.get("object") == kind], params)
        if "starting_after" in params:
            ids = [o["id"] for o in items]
            after = params["starting_after"]
            items = items[ids.index(after) + 1:] if after in ids else []
        limit = int(params.get("limit", 10))
        return {"object": "list", "url": path, "has_more": len(items) > limit,
                "data": items[:limit]}

    # --- a list's filter and expansion, as the reconcile command asks for them ------------

    def _filtered(self, items: list[dict[str, Any]], params: dict[str, str]
                  ) -> list[dict[str, Any]]:
        """Only objects created at or after ``created[gte]``; with ``expand[]=data.source``
        (sent as ``expand[0]``), each one's ``source`` id replaced by the object it names
        when the stand-in holds it (Stripe's expansion)."""
        if "created[gte]" in params:
            items = [o for o in items if o.get("created", 0) >= int(params["created[gte]"])]
        if "data.source" in {v for k, v in params.items() if k.startswith("expand[")}:
            items = [{**o, "source": self.objects.get(o.get("source"), o.get("source"))}
                     for o in items]
        return items

    # --- transfer reversals: POST /v1/transfers/{id}/reversals -------------------------

    def _reverse(self, transfer_id: str, params: dict[str, str], key: str | None) -> Response:
        """A reversal of the transfer (all of what is left, or ``amount``), which Stripe
        records on the transfer too (``amount_reversed``, ``reversed``, ``reversals``)."""
        transfer = self.objects.get(transfer_id)
        if transfer is None or transfer.get("object") != "transfer":
            return _error(404, "invalid_request_error", f"No such transfer: '{transfer_id}'",
                          code="resource_missing")

        def make() -> dict[str, Any]:
            left = transfer["amount"] - transfer["amount_reversed"]
            made = fixture("transfer_reversal", id=new_id("transfer_reversal"),
                           amount=int(params.get("amount", left)), transfer=transfer_id,
                           currency=transfer["currency"],
                           metadata=_nested(params, "metadata"))
            transfer["amount_reversed"] += made["amount"]
            transfer["reversed"] = transfer["amount_reversed"] >= transfer["amount"]
            transfer["reversals"]["data"].append(made)
            self.objects[made["id"]] = made
            return made
        return self._once(key, params, make)

    # --- the checkout page -----------------------------------------------------------------
    # Stripe's hosted page, where the member pays: "Pay $12.50" with a Pay and a Cancel
    # button. Pay marks the session complete and paid, sends ``checkout.session.completed``
    # to ``webhook_url`` signed with ``webhook_secret`` (before the browser is redirected,
    # so a test sees one order of events; Stripe's may come later) and redirects to the
    # session's success_url, where Stripe puts the session's id in place of
    # ``{CHECKOUT_SESSION_ID}``. Cancel redirects to the cancel_url and leaves the session
    # open, as Stripe does until it expires it (24 hours): ``expire(session_id)``. With
    # ``hold_events`` the page's events wait for ``release_events()``, as a late webhook.

    def expire(self, session_id: str) -> int:
        """Expire an open session as Stripe does after 24 hours, sending
        ``checkout.session.expired``; answers the site's status for the event."""
        session = self.objects[session_id]
        session.update(status="expired", url=None)
        return self.send_event("checkout.session.expired", session)

    def release_events(self) -> list[int]:
        """Send the events held back (``hold_events``); the site's status for each."""
        held, self._held = self._held, []
        return [self.send_event(event_type, data_object) for event_type, data_object in held]

    def send_event(self, event_type: str, data_object: dict[str, Any]) -> int:
        """POST a signed event about ``data_object`` to ``webhook_url``; the site's status."""
        payload, signature = signed_event(event_type, data_object, self.webhook_secret,
                                          timestamp=int(time.time()))
        delivery = urllib.request.Request(
            self.webhook_url, data=payload, method="POST",
            headers={"Content-Type": "application/json", "Stripe-Signature": signature})
        try:
            with urllib.request.urlopen(delivery, timeout=10) as answer:
                status = answer.status
        except urllib.error.HTTPError as refused:
            status = refused.code
        self.events.append((event_type, status))
        return status

    def _checkout_page(self, request: Request) -> Response:
        session_id, _, action = request.path.removeprefix("/checkout/").partition("/")
        session = self.objects.get(session_id)
        if session is None or session.get("object") != "checkout.session":
            return _page("No such checkout session.", 404)
        if session["status"] != "open":
            return _page(f"This checkout session is {html.escape(session['status'])}.", 410)
        if request.method == "GET" and not action:
            amount = _display_amount(session["amount_total"], session["currency"])
            here = f"/checkout/{html.escape(session_id)}"
            return _page(f'<h1>Pay {amount}</h1>'
                         f'<form method="post" action="{here}/pay"><button>Pay</button></form>'
                         f'<form method="post" action="{here}/cancel"><button>Cancel</button>'
                         f'</form>')
        if request.method == "POST" and action == "pay":
            session.update(status="complete", payment_status="paid", url=None,
                           payment_intent=new_id("payment_intent"))
            if self.hold_events:
                self._held.append(("checkout.session.completed", copy.deepcopy(session)))
            else:
                self.send_event("checkout.session.completed", session)
            return _redirect(session["success_url"].replace("{CHECKOUT_SESSION_ID}", session_id))
        if request.method == "POST" and action == "cancel":
            return _redirect(session["cancel_url"])
        return _page("Not here.", 405)


def stripe_settings(standin: StripeStandIn, webhook_secret: str) -> dict[str, str]:
    """The site's settings that send its Stripe calls to ``standin``."""
    return {"PAYMENT_PROVIDER": "stripe", "STRIPE_API_BASE": standin.url,
            "STRIPE_CHECKOUT_ORIGIN": standin.url, "STRIPE_SECRET_KEY": "sk_test_standin",
            "STRIPE_WEBHOOK_SECRET": webhook_secret}


def _display_amount(minor: int, currency: str) -> str:
    return f"${minor / 100:,.2f}" if currency == "usd" else f"{minor / 100:,.2f} {currency.upper()}"


def _page(body: str, status: int = 200) -> Response:
    return Response(f'<!doctype html><html lang="en"><head><meta charset="utf-8">'
                    f'<title>Checkout (Stripe stand-in)</title></head><body><main>{body}'
                    f'</main></body></html>', status=status, mimetype="text/html")


def _redirect(location: str) -> Response:
    return Response(status=303, headers={"Location": location})


def _reversed_transfer(request: Request) -> str | None:
    parts = request.path.split("/")  # ["", "v1", "transfers", id, "reversals"]
    if request.method == "POST" and len(parts) == 5 and parts[2] == "transfers" \
            and parts[4] == "reversals":
        return parts[3]
    return None


@contextmanager
def configured_standin(app, monkeypatch, webhook_secret: str) -> Iterator[StripeStandIn]:
    """A running stand-in with the app set to use it: ``PAYMENT_PROVIDER = "stripe"``, its
    address as Stripe's, a test key and ``webhook_secret`` (undone by ``monkeypatch``)."""
    with StripeStandIn() as server:
        for name, value in stripe_settings(server, webhook_secret).items():
            monkeypatch.setitem(app.config, name, value)
        yield server


def _nested(params: dict[str, str], prefix: str) -> dict[str, str]:
    """``metadata[deposit_id]=3`` (Stripe's form encoding) as ``{"deposit_id": "3"}``."""
    start = f"{prefix}["
    return {key[len(start):-1]: value for key, value in params.items()
            if key.startswith(start) and key.endswith("]") and "][" not in key}


def _json(body: dict[str, Any], status: int = 200) -> Response:
    return Response(json.dumps(body), status=status, mimetype="application/json",
                    headers={"Request-Id": f"req_{secrets.token_hex(8)}"})


def _error(status: int, kind: str, message: str, code: str | None = None) -> Response:
    error: dict[str, Any] = {"type": kind, "message": message}
    if code:
        error["code"] = code
    return _json({"error": error}, status)


def signed_event(event_type: str, data_object: dict[str, Any], secret: str, *,
                 timestamp: int, account: str | None = None) -> tuple[bytes, str]:
    """A webhook delivery as Stripe sends it: Stripe's example ``event`` carrying
    ``data_object``, and its ``Stripe-Signature`` header (``t=<timestamp>,v1=<HMAC-SHA256
    of "<timestamp>.<payload>" under the endpoint's secret, hex>``), which the library's
    ``Webhook.construct_event`` verifies. ``account``: a Connect event, about that
    connected account (Stripe sets the event's ``account``)."""
    event = fixture("event", id=new_id("event"), type=event_type, created=timestamp,
                    data={"object": data_object}, livemode=False,
                    **({"account": account} if account else {}))
    payload = json.dumps(event).encode()
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + payload,
                      hashlib.sha256).hexdigest()
    return payload, f"t={timestamp},v1={digest}"
