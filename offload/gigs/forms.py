"""Forms of the gig pages. They check shape (present, not too long, an amount, a date);
the services check the rules (budget order, deadline window, client details, who).

The gig page shows several forms at once, so each has a prefix (``ask-body``,
``q12-answer``) to keep field names and ids apart.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Any, NamedTuple

from flask_wtf.file import FileField, FileRequired
from wtforms import (
    DateField,
    RadioField,
    SearchField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Optional

from offload.core.forms import (
    MARKDOWN_HINT,
    ButtonForm,
    MoneyField,
    OffloadForm,
    QueryForm,
    at_most,
)
from offload.profiles.models import SKILL_NAME_MAX

from .filters import BoardSort
from .models import (
    ANSWER_MAX,
    CANCEL_REASON_MAX,
    CLIENT_CONTACT_MAX,
    CLIENT_NAME_MAX,
    CLIENT_NOTES_MAX,
    DESCRIPTION_MAX,
    QUESTION_MAX,
    SKILLS_MAX,
    TITLE_MAX,
    GigCategory,
    GigKind,
    GigState,
)


class GigForm(OffloadForm):
    kind = RadioField("Kind of gig", choices=[
        SelectChoice(GigKind.REFERRAL.value, "Referral: client work you pass on "
                                             "(commission on completion)"),
        SelectChoice(GigKind.TASK.value, "Task: work you want done yourself "
                                         "(paid through milestones)")],
        validators=[InputRequired("Choose whether this is a referral or a task.")])
    title = StringField("Title", validators=[InputRequired("Give the gig a title."),
                                             at_most(TITLE_MAX, "The title")])
    description = TextAreaField("Description", validators=[
        InputRequired("Describe the work."), at_most(DESCRIPTION_MAX, "The description")],
        description=MARKDOWN_HINT, render_kw={"rows": 10})
    skills = StringField("Skills", validators=[
        at_most(SKILLS_MAX * (SKILL_NAME_MAX + 2), "The skill list")],
        description=f"Separate skills with commas, for example “Python, Flask”. "
                    f"1 to {SKILLS_MAX}; new skills join the shared list.")
    category = SelectField("Category",
                           choices=[SelectChoice(c.value, c.label) for c in GigCategory])
    budget_min = MoneyField("Budget (lowest)", required="Enter the budget, for example 500.",
                            description="An amount such as 500 or 499.50.")
    budget_max = MoneyField("Budget (highest)", required=None,
                            description="Leave empty for a fixed budget.")
    deadline = DateField("Deadline", validators=[InputRequired("Choose the day the work is due.")],
                         description="The day the work is due.")
    client_name = StringField("Client's name", validators=[
        at_most(CLIENT_NAME_MAX, "The client's name")])
    client_contact = StringField("Client's contact", validators=[
        at_most(CLIENT_CONTACT_MAX, "The client's contact")],
        description="An e-mail address, a phone number or both.")
    client_notes = TextAreaField("Notes about the client", validators=[
        at_most(CLIENT_NOTES_MAX, "The notes")], render_kw={"rows": 4})

    def skill_names(self) -> list[str]:
        return (self.skills.data or "").split(",")

    def client_details(self) -> dict[str, str] | None:
        """The client fields, or None when all are empty."""
        details = {"name": self.client_name.data or "", "contact": self.client_contact.data or "",
                   "notes": self.client_notes.data or ""}
        return details if any(v.strip() for v in details.values()) else None

    def terms(self) -> dict:
        """The keyword arguments of ``post_gig`` and ``edit_gig`` (not ``kind``)."""
        low = self.budget_min.minor
        high = self.budget_max.minor if self.budget_max.minor is not None else low
        return {"title": self.title.data, "description": self.description.data,
                "skill_names": self.skill_names(), "category": self.category.data,
                "budget_min_minor": low, "budget_max_minor": high,
                "deadline": self.deadline.data}


class AskForm(OffloadForm):
    body = TextAreaField("Your question", validators=[
        InputRequired("Write your question."), at_most(QUESTION_MAX, "Your question")],
        description="Every member sees the question and its answer.", render_kw={"rows": 3})


class AnswerForm(OffloadForm):
    answer = TextAreaField("Your answer", validators=[
        InputRequired("Write your answer."), at_most(ANSWER_MAX, "Your answer")],
        render_kw={"rows": 3})


class CancelForm(OffloadForm):
    reason = StringField("Reason (optional)", validators=[
        at_most(CANCEL_REASON_MAX, "The reason")],
        description="Members see it on the gig.")


class AttachmentForm(OffloadForm):
    file = FileField("File", validators=[FileRequired("Choose a file to attach.")])


ConfirmForm = ButtonForm  # the CSRF token of a delete button


class BoardFilterForm(QueryForm):
    """Renders the board's filters (a GET form, no CSRF); ``BoardFilters`` reads them."""

    q = SearchField("Search", description="Words in the title, description or skills.")
    kind = SelectField("Kind", choices=[SelectChoice("", "Any kind")]
                       + [SelectChoice(k.value, k.label) for k in GigKind],
                       validate_choice=False)
    category = SelectField("Category", choices=[SelectChoice("", "Any category")]
                           + [SelectChoice(c.value, c.label) for c in GigCategory],
                           validate_choice=False)
    skills = StringField("Skills", description="Comma separated; any of them.")
    budget_min = StringField("Budget from")
    budget_max = StringField("Budget up to")
    due_by = StringField("Due by", render_kw={"type": "date"})
    # relevance by default: with words that is the best match first, without them newest
    # (BoardFilters), so typing words into a form that came without any sorts by relevance
    sort = SelectField("Sort", choices=[SelectChoice(s.value, s.label) for s in BoardSort],
                       default=BoardSort.RELEVANCE.value, validate_choice=False)


class BoardFilterFields:
    """The board's filter form for one request, for ``_forms.html``'s ``filter_field``:
    what never changes (names, ids, labels, hints, choices) is read from
    ``BoardFilterForm`` once per process; a request adds only what the member typed
    (the first value of each field in the query string, else the field's default) and
    the filters' errors. Building and processing the WTForms form per request cost
    more than rendering it."""

    def __init__(self, args: Mapping[str, Any], errors: Mapping[str, str]) -> None:
        for spec in _board_filter_specs():
            value = args.get(spec.name, spec.default)
            message = errors.get(spec.name)
            setattr(self, spec.name, FilterField(spec, value, [message] if message else []))


class _Label(NamedTuple):
    text: str


class _FieldSpec(NamedTuple):
    name: str
    id: str
    type: str
    label: _Label
    description: str
    default: str | None
    choices: tuple[tuple[str, str], ...]


@cache
def _board_filter_specs() -> tuple[_FieldSpec, ...]:
    return tuple(
        _FieldSpec(f.name, f.id, f.type, _Label(f.label.text), f.description, f.default,
                   tuple((value, label) for value, label, *_ in f.iter_choices())
                   if isinstance(f, SelectField) else ())
        for f in BoardFilterForm())


class FilterField:
    """One field of ``BoardFilterFields``: what ``filter_field`` reads of a WTForms field."""

    __slots__ = ("_spec", "data", "errors")

    def __init__(self, spec: _FieldSpec, data: str | None, errors: list[str]) -> None:
        self._spec, self.data, self.errors = spec, data, errors

    name = property(lambda self: self._spec.name)
    id = property(lambda self: self._spec.id)
    type = property(lambda self: self._spec.type)
    label = property(lambda self: self._spec.label)
    description = property(lambda self: self._spec.description)

    def _value(self) -> str:
        return self.data if self.data is not None else ""

    def iter_choices(self):
        for value, label in self._spec.choices:
            yield value, label, value == self.data, {}


class MyGigsFilterForm(QueryForm):
    state = SelectField("State", choices=[SelectChoice("", "Any state")]
                        + [SelectChoice(s.value, s.label) for s in GigState], validate_choice=False,
                        validators=[Optional()])
