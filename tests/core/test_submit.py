"""``core.submit``: a posted form's one service call, its message and redirect on
success, and the page again with the refusal on the form otherwise."""

from __future__ import annotations

from flask import Flask, get_flashed_messages
from wtforms import StringField
from wtforms.validators import InputRequired

from offload.core.errors import Invalid, InvalidField
from offload.core.forms import OffloadForm
from offload.core.submit import submit, submit_button


class _NameForm(OffloadForm):
    name = StringField("Name", validators=[InputRequired("Say a name.")])


def _app() -> Flask:
    app = Flask(__name__)
    app.config.update(SECRET_KEY="x", WTF_CSRF_ENABLED=False)
    return app


def _run(app: Flask, data: dict, call, **kwargs):
    with app.test_request_context("/", method="POST", data=data):
        form = _NameForm()
        seen = {}

        def again():
            seen["form"] = form
            return "again", 422

        response = submit(form, lambda: call(form), again=again, **kwargs)
        return response, form, get_flashed_messages(with_categories=True), seen


def test_success_flashes_and_redirects_with_the_result():
    response, _, flashed, seen = _run(
        _app(), {"name": "ada"}, lambda form: form.name.data.upper(),
        done=lambda result: f"Hello {result}", then=lambda result: f"/people/{result}")
    assert response.status_code == 302
    assert response.location == "/people/ADA"
    assert flashed == [("success", "Hello ADA")]
    assert seen == {}


def test_done_may_name_its_category_or_say_nothing():
    _, _, flashed, _ = _run(_app(), {"name": "a"}, lambda form: 1,
                            done=("Waiting.", "info"), then="/")
    assert flashed == [("info", "Waiting.")]
    _, _, flashed, _ = _run(_app(), {"name": "a"}, lambda form: 1, done=None, then="/")
    assert flashed == []


def test_an_invalid_form_makes_no_call_and_shows_the_page_again():
    calls = []
    response, form, flashed, seen = _run(_app(), {"name": ""}, calls.append,
                                         done="Done.", then="/")
    assert response == ("again", 422)
    assert calls == [] and flashed == [] and seen["form"] is form
    assert form.name.errors == ["Say a name."]


def test_a_refusal_goes_beside_its_field_or_above_the_form():
    def refuse_field(form):
        raise InvalidField("nickname", "That name is taken.")

    response, form, flashed, _ = _run(_app(), {"name": "ada"}, refuse_field, done="Done.",
                                      then="/", fields={"nickname": "name"})
    assert response == ("again", 422) and flashed == []
    assert form.name.errors == ["That name is taken."]

    def refuse(form):
        raise Invalid("Not now.")

    _, form, _, _ = _run(_app(), {"name": "ada"}, refuse, done="Done.", then="/")
    assert form.form_errors == ["Not now."] and form.name.errors == []


def test_a_button_goes_back_to_its_page_either_way():
    def refuse(form):
        raise Invalid("Not now.")

    app = _app()
    with app.test_request_context("/", method="POST", data={"name": "ada"}):
        form = _NameForm()
        response = submit_button(form, lambda: refuse(form), done="Done.", to="/page#here")
        assert response.status_code == 302 and response.location == "/page#here"
        assert get_flashed_messages(with_categories=True) == [("error", "Not now.")]
    with app.test_request_context("/", method="POST", data={"name": ""}):
        form = _NameForm()
        response = submit_button(form, lambda: 1 / 0, done="Done.", to="/page")
        assert response.location == "/page"
        assert get_flashed_messages(with_categories=True) == [("error", "Say a name.")]
    with app.test_request_context("/", method="POST", data={"name": "ada"}):
        response = submit_button(_NameForm(), lambda: 1, done="Done.", to="/page")
        assert response.location == "/page"
        assert get_flashed_messages(with_categories=True) == [("success", "Done.")]
