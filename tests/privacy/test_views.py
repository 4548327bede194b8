"""The "Delete my account" page: the refusals with their links, the form, and what
other members see afterwards."""

import re

from offload.accounts.models import User
from offload.commissions.models import Commission
from offload.commissions.queries import commission_of
from offload.commissions.services import accept_invoice, pay_commission
from offload.core.db import db
from offload.reviews.services import submit_review
from offload.wallet.services import add_funds
from tests.support.factories import PASSWORD, all_skills, fresh, new_key


def test_settings_link_to_the_page_from_the_last_card(client, login, make_member):
    login(make_member("ada"))
    page = client.get("/settings").get_data(as_text=True)
    assert 'href="/privacy/delete"' in page
    # the danger zone comes after everything else (API tokens, webhooks, feeds, help)
    cards = re.findall(r'<section class="card[^"]*"(?: id="([^"]*)")?', page)
    assert cards[-1] == "delete-account", cards
    assert 'class="card danger-zone" id="delete-account"' in page


def test_the_page_lists_each_reason_with_a_link_and_no_form(client, login, start_project,
                                                             referrer, fund):
    fund(referrer, 10_00)
    start_project()
    login(referrer)
    page = client.get("/privacy/delete").get_data(as_text=True)
    assert "can't be deleted yet" in page
    assert "Your wallet holds $10.00" in page and 'href="/wallet"' in page
    assert "project in progress" in page and 'href="/my/projects"' in page
    assert 'name="password"' not in page
    response = client.post("/privacy/delete", data={"password": PASSWORD})
    assert response.status_code == 422
    assert fresh(User, referrer.id).deleted_at is None


def test_an_admin_is_told_why(client, login, make_member):
    login(make_member("root", admin=True))
    page = client.get("/privacy/delete").get_data(as_text=True)
    assert "An admin account can&#39;t be deleted" in page and 'name="password"' not in page


def test_the_form_says_what_closes_with_the_account(client, login, make_member):
    login(make_member("ada"))
    page = client.get("/privacy/delete").get_data(as_text=True)
    assert 'id="deletion-closes"' in page
    for said in ("gigs on the board are cancelled", "open offers are withdrawn",
                 "Invites you sent that nobody has used yet stop working"):
        assert said in page, said


def test_a_wrong_password_keeps_the_form_and_says_so(client, login, make_member):
    ada = make_member("ada")
    login(ada)
    response = client.post("/privacy/delete", data={"password": "wrong wrong"})
    assert response.status_code == 422
    assert "Your password is not correct." in response.get_data(as_text=True)
    assert fresh(User, ada.id).deleted_at is None


def test_deleting_logs_out_and_log_in_is_refused(client, login, make_member, outbox):
    ada = make_member("ada")
    login(ada)
    response = client.post("/privacy/delete", data={"password": PASSWORD})
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert client.get("/settings").status_code == 302  # the session ended
    response = client.post("/login", data={"login": "ada", "password": PASSWORD})
    assert response.status_code == 422 and "not right" in response.get_data(as_text=True)
    assert [m.to_address for m in outbox.all()] == ["ada@example.com"]


def test_their_profile_shows_the_placeholder_alone(client, login, make_member):
    ada = make_member("ada", display_name="Ada Lovelace")
    bob = make_member("bob")
    login(ada)
    client.post("/profile/edit", data={"display_name": "Ada Lovelace", "headline": "Engines"})
    client.post("/privacy/delete", data={"password": PASSWORD})
    login(bob)
    assert client.get("/members/ada").status_code == 404
    page = client.get(f"/members/deleted.{ada.id}").get_data(as_text=True)
    assert f"Deleted member #{ada.id}" in page and "deleted their account" in page
    assert "Ada" not in page and "Engines" not in page
    assert "Deleted member" not in client.get("/members").get_data(as_text=True)


def test_their_gig_offer_and_review_pages_still_render(client, login, completed, referrer,
                                                       performer, fund):
    project = completed()
    commission = commission_of(project.id)
    fund(performer, commission.commission_minor)
    pay_commission(commission, actor=performer, idempotency_key=new_key())
    accept_invoice(fresh(Commission, commission.id), actor=fresh(User, referrer.id))
    submit_review(project, actor=referrer, stars=5, body="Great work.",
                  skill_stars=all_skills(project))
    submit_review(project, actor=performer, stars=4, body="Clear brief, paid promptly.")
    db.session.commit()
    login(performer)
    assert client.post("/privacy/delete", data={"password": PASSWORD}).status_code == 302
    login(referrer)
    placeholder = f"Deleted member #{performer.id}"
    for path in (f"/gigs/{project.gig_id}", f"/offers/{project.offer_id}",
                 f"/projects/{project.id}", "/members/referrer/reviews",
                 f"/members/deleted.{performer.id}/reviews"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert "Pete Performer" not in response.get_data(as_text=True), path
    reviews = client.get("/members/referrer/reviews").get_data(as_text=True)
    assert "Clear brief, paid promptly." in reviews and placeholder in reviews


def test_a_pending_deposit_is_said_with_a_link_to_the_wallet(client, login, make_member,
                                                             standin):
    ada = make_member("ada")
    add_funds(actor=ada, amount_minor=25_00, idempotency_key=new_key())
    login(ada)
    page = client.get("/privacy/delete").get_data(as_text=True)
    assert "A deposit of $25.00 is not settled yet" in page and 'href="/wallet"' in page
    assert 'name="password"' not in page
