"""The board's filter form is rendered by ``filter_field`` (no WTForms widgets): it must
produce what ``field`` does, element for element, values, choices and errors included."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from flask import get_template_attribute
from werkzeug.datastructures import MultiDict

from offload.gigs.forms import BoardFilterFields, BoardFilterForm

TYPES = {"q": "search", "due_by": "date"}


class _Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.items: list = []

    def handle_starttag(self, tag, attrs):
        self.items.append((tag, sorted((k, " ".join((v or "").split())) for k, v in attrs)))

    def handle_endtag(self, tag):
        self.items.append(("/" + tag,))

    def handle_data(self, data):
        if data.strip():
            self.items.append(("text", " ".join(data.split())))


def elements(html: str) -> list:
    parser = _Elements()
    parser.feed(str(html))
    return parser.items


def test_filter_field_renders_what_field_renders(app):
    args = MultiDict({"q": 'rust "<b>" & go', "kind": "task", "category": "data",
                      "skills": "Rust, Go", "budget_min": "abc", "budget_max": "900",
                      "due_by": "2027-01-31", "sort": "deadline"})
    with app.test_request_context("/gigs"):
        form = BoardFilterForm(args)
        form.budget_min.errors = ["Enter the amount as a number, for example 12.50."]
        form.kind.errors = ["Choose a kind from the list."]
        field = get_template_attribute("_forms.html", "field")
        filter_field = get_template_attribute("_forms.html", "filter_field")
        for f in form:
            wtforms = elements(field(f))
            quick = elements(filter_field(f, TYPES.get(f.name, "text")))
            assert quick == wtforms, f.name
        # what the member typed stays, escaped; the chosen options stay selected
        html = str(filter_field(form.q, "search")) + str(filter_field(form.sort))
        assert 'value="rust &#34;&lt;b&gt;&#34; &amp; go"' in html
        assert '<option selected value="deadline">' in html
        assert 'aria-invalid="true"' in str(filter_field(form.budget_min))


@pytest.mark.parametrize("args", [
    {}, {"q": "rust"}, {"q": 'a "<b>" & c', "sort": "newest", "kind": "referral"},
    {"category": "web", "skills": "Go", "budget_min": "12", "budget_max": "x",
     "due_by": "2027-02-01", "sort": "budget"},
    {"kind": "nonsense", "sort": "nonsense", "q": ""}])
def test_the_board_renders_the_filter_fields_as_the_wtforms_form(app, args):
    """``BoardFilterFields`` (read from the form class once) renders what a WTForms form
    built per request renders, with what the member typed and the errors."""
    args = MultiDict(args)
    errors = {"budget_max": "Enter the amount as a number."} if "budget_max" in args else {}
    with app.test_request_context("/gigs"):
        form = BoardFilterForm(args)
        for name, message in errors.items():
            form[name].errors = [message]
        fast = BoardFilterFields(args, errors)
        filter_field = get_template_attribute("_forms.html", "filter_field")
        for f in form:
            kind = TYPES.get(f.name, "text")
            assert str(filter_field(getattr(fast, f.name), kind)) == str(
                filter_field(f, kind)), f.name
