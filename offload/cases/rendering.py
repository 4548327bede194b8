"""The case page as a response: the members' view (cases.views) and the admin's forms
(offload.admin) answer with the same page, so neither imports the other's view."""

from __future__ import annotations

from flask import abort, render_template
from flask_login import current_user

from .forms import EvidenceForm, ReasonForm, ResolveCaseForm
from .policies import can_view_case
from .queries import case_page


def render_case(case_id: int, **forms):
    """The case page; admins also get its forms (the given, submitted ones kept, with a
    422 when one was refused)."""
    page = case_page(case_id)
    if page is None or not can_view_case(page.case, page.case.subject, current_user):
        abort(404)
    status = 422 if any(f.errors or f.form_errors for f in forms.values()) else 200
    return render_template(
        "cases/show.html", page=page, case=page.case, is_admin=current_user.is_admin,
        evidence_form=forms.get("evidence_form") or EvidenceForm(formdata=None),
        resolve_form=forms.get("resolve_form") or ResolveCaseForm(
            formdata=None, contests_invoice=page.contested is not None),
        lift_form=forms.get("lift_form") or ReasonForm(prefix="lift", formdata=None),
    ), status
