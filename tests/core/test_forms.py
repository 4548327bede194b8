"""Reading a record id or a query value sent with a request; the forms' base filter."""

from __future__ import annotations

from enum import StrEnum

import pytest
from flask_wtf import FlaskForm
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict
from wtforms import Form, HiddenField, PasswordField, SelectField, StringField, TextAreaField

from offload.core.db import db
from offload.core.forms import (
    CONTROL_MESSAGE,
    ID_MAX,
    ControlCharactersInQuery,
    MoneyField,
    OffloadForm,
    QueryForm,
    arg_text,
    chosen_state,
    parse_id,
    show_error,
)


@pytest.mark.parametrize("raw", ["1", "42", str(ID_MAX)])
def test_an_id_is_read(raw):
    assert parse_id(raw) == int(raw)


@pytest.mark.parametrize("raw", [
    "", "0", "-1", "+1", " 1", "1 ", "1.0", "1e3", "0x1", "1_000",
    "²", "١٢",  # digits to str.isdigit; int() refuses the first and reads the second
    str(ID_MAX + 1), "99999999999999999999", "0" * 11 + "1",
    None, 7, ["1"]])
def test_anything_else_is_none(raw):
    assert parse_id(raw) is None


# --- control characters --------------------------------------------------------------------

class _Sample(OffloadForm):
    name = StringField()
    body = TextAreaField()
    key = HiddenField()
    secret = PasswordField()


def _sample(app, **data) -> _Sample:
    with app.test_request_context(method="POST", data=data):
        form = _Sample()
        form.validate()
        return form


@pytest.mark.parametrize("bad", ["ali\x00ce", "\x00", "a\x1bb", "\x07", "x\x7f", "x\x85", "\x0b",
                                 "\x0c"])
@pytest.mark.parametrize("field", ["name", "body", "key"])
def test_a_control_character_in_any_text_field_is_refused_on_the_field(app, field, bad):
    form = _sample(app, **{field: bad})
    assert form.errors[field] == [CONTROL_MESSAGE]


@pytest.mark.parametrize("fine", ["tab\there", "two\r\nlines", "one\nline", "Zoë 李 محمد 🙂", ""])
def test_tabs_newlines_and_other_scripts_are_text(app, fine):
    assert _sample(app, name=fine, body=fine, key=fine).errors == {}


def test_a_password_may_hold_any_character(app):
    assert _sample(app, secret="pass\x00word\x1b").errors == {}


def test_the_filter_runs_before_the_fields_own_validators(app):
    seen = []

    class Form(OffloadForm):
        name = StringField(validators=[lambda form, field: seen.append(field.data)])

    with app.test_request_context(method="POST", data={"name": "a\x00"}):
        form = Form()
        assert not form.validate() and form.errors == {"name": [CONTROL_MESSAGE]}
    assert seen == []


def _subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def test_every_form_of_the_application_has_the_filter(app):
    # create_app imported every blueprint, so every form class is loaded
    forms = {c for base in (FlaskForm, Form) for c in _subclasses(base)
             if c.__module__.startswith("offload.")}
    assert len(forms) > 40
    bare = sorted(c.__qualname__ for c in forms if not issubclass(c, (OffloadForm, QueryForm)))
    assert bare == [], "forms must derive from offload.core.forms.OffloadForm or QueryForm"


def test_a_nul_in_the_log_in_name_is_a_form_error(client):
    r = client.post("/login", data={"login": "ali\x00ce", "password": "whatever it is"})
    assert r.status_code == 422
    assert "This can&#39;t contain control characters" in r.get_data(as_text=True)


def test_money_forms_refuse_control_characters_and_move_nothing(client, make_member, login):
    from offload.ledger.models import Transfer
    from offload.wallet.models import Deposit, Withdrawal

    login(make_member("alice"))
    for url, data in (
            ("/wallet/deposits", {"deposit-amount": "5", "deposit-idempotency_key": "k\x00"}),
            ("/wallet/withdrawals", {"withdrawal-amount": "5", "withdrawal-payout_details": "\x00",
                                     "withdrawal-idempotency_key": "k-w"})):
        r = client.post(url, data=data)
        assert r.status_code == 422, url
        assert "This can&#39;t contain control characters" in r.get_data(as_text=True)
    db.session.rollback()
    for model in (Transfer, Deposit, Withdrawal):
        assert db.session.scalar(select(func.count()).select_from(model)) == 0


@pytest.mark.parametrize("url", ["/gigs?q=rust%00", "/gigs?budget_min=%005", "/members?skill=%1b",
                                 "/moderation?member=ali%00ce", "/moderation?action=%00"])
def test_a_control_character_in_a_query_is_a_clear_400(client, make_member, login, url):
    login(make_member("alice"))
    r = client.get(url)
    assert r.status_code == 400
    assert "control character" in r.get_data(as_text=True)


def test_arg_text_refuses_control_characters_only():
    assert arg_text({"q": "a\tb\r\nc"}, "q") == "a\tb\r\nc"
    assert arg_text({}, "q", "open") == "open"
    with pytest.raises(ControlCharactersInQuery):
        arg_text({"q": "a\x00"}, "q")


def test_one_password_error_shown_on_the_password_field(app):
    from offload.cases import services as cases
    from offload.core.errors import NotAllowed, PasswordNotConfirmed
    from offload.milestones import disputes
    from offload.wallet import services as wallet

    assert cases.PasswordNotConfirmed is disputes.PasswordNotConfirmed \
        is wallet.PasswordNotConfirmed is PasswordNotConfirmed
    assert issubclass(PasswordNotConfirmed, NotAllowed)

    class Confirm(OffloadForm):
        reason = TextAreaField()
        password = PasswordField()

    with app.test_request_context(method="POST"):
        form = Confirm()
        show_error(form, PasswordNotConfirmed("Your password is not correct."))
        assert form.password.errors == ["Your password is not correct."]
        assert not form.form_errors and not form.reason.errors


# --- the money field ------------------------------------------------------------------------

class _Money(OffloadForm):
    price = MoneyField("Price", required="Enter your price.")
    tip = MoneyField("Tip (optional)", required=None)
    payout = MoneyField("Payout", minimum="MIN_WITHDRAWAL_MINOR",
                        below_minimum="The smallest amount you can withdraw is {minimum}.")
    seen = []

    def validate_price(self, field):  # the form's own check reads the parsed amount
        self.seen.append(field.minor)


def _money(app, **data) -> _Money:
    with app.test_request_context(method="POST", data={"price": "1", "payout": "50", **data}):
        form = _Money()
        form.validate()
        return form


@pytest.mark.parametrize(("raw", "minor"), [("12.50", 12_50), ("$1,200", 1_200_00),
                                            (" 7 ", 7_00)])
def test_a_money_field_holds_minor_units_after_validation(app, raw, minor):
    _Money.seen.clear()
    form = _money(app, price=raw)
    assert form.errors == {} and form.price.minor == minor and _Money.seen == [minor]
    assert form.tip.minor is None  # optional, left empty


@pytest.mark.parametrize(("data", "field", "message"), [
    ({"price": ""}, "price", "Enter your price."),
    ({"price": "   "}, "price", "Enter an amount."),
    ({"price": "abc"}, "price", "Enter the amount as a number (digits and a point), for "
                                "example 12.50 or $12.50."),
    ({"price": "€5"}, "price", "Amounts here are in USD: enter digits only, for example "
                               "12.50 or $12.50."),
    ({"price": "5\x00"}, "price", CONTROL_MESSAGE),
    ({"tip": "0"}, "tip", "The amount must be more than zero."),
    ({"payout": "0.99"}, "payout", "The smallest amount you can withdraw is $1.00."),
    ({"payout": ""}, "payout", "Enter an amount."),
])
def test_a_money_field_says_what_is_wrong_once(app, data, field, message):
    form = _money(app, **data)
    assert form.errors == {field: [message]}
    assert getattr(form, field).minor is None


def test_a_money_field_shows_the_site_currency(app, monkeypatch):
    monkeypatch.setitem(app.config, "CURRENCY", "EUR")
    with app.test_request_context(method="POST", data={"price": "€3"}):
        form = _Money()
        assert 'placeholder="€0.00"' in form.price() and 'inputmode="decimal"' in form.price()
        form.validate()
        assert form.price.minor == 3_00


def test_chosen_state_reads_a_list_filter():
    class Light(StrEnum):
        RED = "red"
        GREEN = "green"

    class Filter(QueryForm):
        state = SelectField(choices=["", "red", "green"], validate_choice=False)

    for raw, state, errors in (("", None, []), ("red", Light.RED, []),
                               ("blue", None, ["Choose one of the states in the list."])):
        form = Filter(MultiDict({"state": raw}))
        assert chosen_state(form.state, Light) == state
        assert list(form.state.errors) == errors
