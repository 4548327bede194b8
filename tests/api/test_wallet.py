"""The wallet over the API: balances and the statement as the wallet page has them,
deposits and withdrawals with an Idempotency-Key, and who may see which (another
member's deposit is a 404; every endpoint needs the ``wallet`` scope, the GETs too)."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from offload.wallet.models import Deposit, Withdrawal
from offload.wallet.queries import wallet_summary
from tests.support.factories import count, fresh, transfer_count
from tests.support.two_factor import turn_on_two_factor


def _post(client, headers, url, body, key: str | None = "key-1", status=201):
    if key is not None:
        headers = {**headers, "Idempotency-Key": key}
    response = client.post(url, json=body, headers=headers)
    assert response.status_code == status, response.get_json()
    return response


def _path(url: str) -> str:
    """The path and query of an absolute URL the API gave, for the test client."""
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def test_the_balances_are_the_wallet_pages(client, make_member, fund, withdraw, bearer):
    ada = make_member("ada")
    fund(ada, 100_00)
    withdraw(ada, 30_00)
    response = client.get("/api/v1/wallet", headers=bearer(ada, "wallet"))
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    assert response.get_json() == {"available_minor": 70_00, "held_minor": 30_00,
                                   "total_minor": 100_00, "owed_minor": 0, "currency": "USD"}
    summary = wallet_summary(ada.id)
    assert (summary.available, summary.held) == (70_00, 30_00)


def test_the_history_pages_newest_first_with_balances_and_causes(client, make_member, fund,
                                                                 withdraw, bearer):
    ada = make_member("ada")
    for n in range(1, 5):
        fund(ada, n * 10_00)
    withdrawal = withdraw(ada, 5_00)
    headers = bearer(ada, "wallet")
    lines, url = [], "/api/v1/wallet/history?limit=2"
    while url:
        response = client.get(url, headers=headers)
        assert response.status_code == 200
        body = response.get_json()
        assert len(body["items"]) <= 2
        if body["next"]:
            assert response.headers["Link"] == f'<{body["next"]}>; rel="next"'
            assert "limit=2" in body["next"]
        lines += body["items"]
        url = body["next"] and _path(body["next"])
    assert [line["amount_minor"] for line in lines] == [-5_00, 40_00, 30_00, 20_00, 10_00]
    assert [line["available_after_minor"] for line in lines] == [95_00, 100_00, 60_00, 30_00,
                                                                  10_00]
    assert lines[0]["held_after_minor"] == 5_00 and lines[1]["held_after_minor"] == 0
    hold = lines[0]
    assert (hold["kind"], hold["step"], hold["state"], hold["cause_type"]) == (
        "withdrawal", "hold", "held", "withdrawal")
    assert hold["cause_html_url"] == (
        f"https://offload.example/wallet/withdrawals/{withdrawal.id}")
    assert lines[-1]["kind"] == "deposit" and lines[-1]["label"] == "Deposit"


def test_a_deposit_is_created_and_a_retry_moves_money_once(client, make_member, bearer):
    ada = make_member("ada")
    headers = bearer(ada, "wallet")
    first = _post(client, headers, "/api/v1/wallet/deposits", {"amount_minor": 25_00})
    body = first.get_json()
    deposit = fresh(Deposit, body["id"])
    assert deposit.member_id == ada.id
    assert first.headers["Location"] == (
        f"https://offload.example/api/v1/wallet/deposits/{deposit.id}")
    assert body == {
        "id": deposit.id, "amount_minor": 25_00, "currency": "USD", "state": "completed",
        "provider": "sandbox", "provider_reference": deposit.provider_reference,
        "created_at": body["created_at"], "completed_at": body["completed_at"],
        "redirect_url": None,
        "html_url": f"https://offload.example/wallet/deposits/{deposit.id}"}
    moved = transfer_count()
    again = _post(client, headers, "/api/v1/wallet/deposits", {"amount_minor": 25_00})
    assert again.get_json() == body and again.headers["Location"] == first.headers["Location"]
    assert transfer_count() == moved and count(Deposit) == 1
    assert wallet_summary(ada.id).available == 25_00
    shown = client.get(_path(first.headers["Location"]), headers=headers)
    assert shown.status_code == 200 and shown.get_json() == body


def test_a_key_reused_with_another_amount_is_a_422(client, make_member, bearer):
    ada = make_member("ada")
    headers = bearer(ada, "wallet")
    _post(client, headers, "/api/v1/wallet/deposits", {"amount_minor": 25_00})
    response = _post(client, headers, "/api/v1/wallet/deposits", {"amount_minor": 99_00},
                     status=422)
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["type"] == "urn:offload:problem:key-reused"
    assert body["errors"] == [{"in": "headers", "field": "Idempotency-Key",
                               "message": "Used before with another body."}]
    assert wallet_summary(ada.id).available == 25_00 and count(Deposit) == 1


@pytest.mark.parametrize("url", ["/api/v1/wallet/deposits", "/api/v1/wallet/withdrawals"])
def test_a_money_post_without_its_key_is_a_422_naming_the_header(client, make_member, bearer,
                                                                  url):
    ada = make_member("ada")
    response = _post(client, bearer(ada, "wallet"), url,
                     {"amount_minor": 5_00, "payout_details": "IBAN X"}, key=None, status=422)
    body = response.get_json()
    assert body["type"] == "urn:offload:problem:validation-failed"
    assert {"in": "headers", "field": "Idempotency-Key"} in [
        {"in": e["in"], "field": e["field"]} for e in body["errors"]]
    assert transfer_count() == 0


def test_a_withdrawal_holds_the_amount_once_and_is_refused_past_the_balance(
        client, make_member, fund, bearer):
    ada = make_member("ada")
    fund(ada, 50_00)
    headers = bearer(ada, "wallet")
    body = {"amount_minor": 20_00, "payout_details": "IBAN DE89 3704"}
    first = _post(client, headers, "/api/v1/wallet/withdrawals", body, key="w-1")
    made = first.get_json()
    withdrawal = fresh(Withdrawal, made["id"])
    assert (made["state"], made["amount_minor"], made["payout_details"]) == (
        "requested", 20_00, "IBAN DE89 3704")
    assert made["decided_at"] is None and made["reason"] is None
    assert first.headers["Location"].endswith(f"/api/v1/wallet/withdrawals/{withdrawal.id}")
    assert _post(client, headers, "/api/v1/wallet/withdrawals", body,
                 key="w-1").get_json() == made
    assert wallet_summary(ada.id).held == 20_00 and count(Withdrawal) == 1
    refused = _post(client, headers, "/api/v1/wallet/withdrawals",
                    {**body, "amount_minor": 40_00}, key="w-2", status=422)
    assert refused.get_json()["type"] == "urn:offload:problem:withdrawal-not-covered"
    assert wallet_summary(ada.id).available == 30_00
    shown = client.get(f"/api/v1/wallet/withdrawals/{withdrawal.id}", headers=headers)
    assert shown.status_code == 200 and shown.get_json() == made


def test_an_unconfirmed_member_may_not_add_funds(client, make_member, bearer):
    newbie = make_member("newbie", confirmed=False)
    response = _post(client, bearer(newbie, "wallet"), "/api/v1/wallet/deposits",
                     {"amount_minor": 5_00}, status=403)
    assert response.get_json()["type"] == "urn:offload:problem:not-allowed"
    assert count(Deposit) == 0


@pytest.mark.parametrize(("method", "url"), [
    ("GET", "/api/v1/wallet"), ("GET", "/api/v1/wallet/history"),
    ("POST", "/api/v1/wallet/deposits"), ("GET", "/api/v1/wallet/deposits/1"),
    ("POST", "/api/v1/wallet/withdrawals"), ("GET", "/api/v1/wallet/withdrawals/1")])
def test_every_wallet_endpoint_needs_the_wallet_scope(client, make_member, bearer, method,
                                                     url):
    ada = make_member("ada")
    response = client.open(url, method=method, json={"amount_minor": 5_00},
                           headers={**bearer(ada, "read", "offers", "projects"),
                                    "Idempotency-Key": "k"})
    assert response.status_code == 403 and response.mimetype == "application/problem+json"
    assert "wallet" in response.get_json()["detail"]
    assert count(Deposit) == 0


def test_another_members_deposit_and_withdrawal_are_404(client, make_member, fund, withdraw,
                                                        bearer):
    ada, bob, root = make_member("ada"), make_member("bob"), make_member("root", admin=True)
    deposit, withdrawal = fund(ada, 30_00), withdraw(ada, 10_00)
    for url in (f"/api/v1/wallet/deposits/{deposit.id}",
                f"/api/v1/wallet/withdrawals/{withdrawal.id}"):
        response = client.get(url, headers=bearer(bob, "wallet"))
        assert response.status_code == 404
        assert response.get_json()["type"] == "urn:offload:problem:not-found"
        assert client.get(url, headers=bearer(ada, "wallet")).status_code == 200
        # as on the pages: an admin sees any member's
        assert client.get(url, headers=bearer(root, "wallet")).status_code == 200
    assert client.get("/api/v1/wallet/deposits/999999",
                      headers=bearer(ada, "wallet")).status_code == 404


def test_a_large_withdrawal_of_a_member_with_two_factor_is_asked_for_on_the_site(
        app, client, make_member, fund, bearer, monkeypatch):
    monkeypatch.setitem(app.config, "TWO_FACTOR_STEP_UP_MINOR", 30_00)
    ada = make_member("ada")
    fund(ada, 100_00)
    turn_on_two_factor(ada)
    headers = bearer(ada, "wallet")
    body = {"amount_minor": 30_00, "payout_details": "IBAN DE89 3704"}
    _post(client, headers, "/api/v1/wallet/withdrawals", body, key="w-1")  # up to the limit
    refused = _post(client, headers, "/api/v1/wallet/withdrawals",
                    {**body, "amount_minor": 30_01}, key="w-2", status=403)
    problem = refused.get_json()
    assert problem["type"] == "urn:offload:problem:not-allowed"
    assert "wallet page" in problem["detail"]
    assert wallet_summary(ada.id).held == 30_00 and count(Withdrawal) == 1
    # a member without two-factor log-in has no code to give: the API serves them
    bob = make_member("bob")
    fund(bob, 100_00)
    _post(client, bearer(bob, "wallet"), "/api/v1/wallet/withdrawals",
          {**body, "amount_minor": 50_00}, key="w-3")
