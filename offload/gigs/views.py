"""Gig pages: the board, posting and editing, the gig page with its questions and files,
and the member's own gigs.

Every page is for logged-in members; posting, asking and answering need a confirmed
e-mail address. A gig another member may not see (a draft) answers 404, and so do
the poster-only pages (edit, files) to everyone but the poster. Refusals from the
services come back as messages next to the field they name, or above the form.
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm

from offload.accounts.decorators import confirmed_required
from offload.conversations.queries import unread_counts
from offload.core.db import db
from offload.core.forms import chosen_state
from offload.core.money import display_money, display_percent_bps
from offload.core.submit import submit, submit_button
from offload.core.uploads import send_stored_file
from offload.feeds.queries import feed_link_of
from offload.offers.policies import why_cannot_offer
from offload.offers.queries import live_offer_counts, offers_tab

from . import services
from .filters import BoardFilters
from .forms import (
    AnswerForm,
    AskForm,
    AttachmentForm,
    BoardFilterFields,
    CancelForm,
    ConfirmForm,
    GigForm,
    MyGigsFilterForm,
)
from .models import Gig, GigAttachment, GigCategory, GigKind, GigState, Question
from .policies import (
    why_cannot_ask,
    why_cannot_attach,
    why_cannot_cancel,
    why_cannot_edit,
    why_cannot_post,
)
from .queries import board_page, gig_for, gig_for_edit, gig_page, matching_members_for, my_gigs

bp = Blueprint("gigs", __name__)


@bp.app_template_filter("percent_bps")
def percent_bps(bps: int) -> str:
    """``{{ 700|percent_bps }}`` → "7%"; 1250 → "12.5%" (Babel)."""
    return display_percent_bps(bps)


@bp.app_template_filter("budget")
def budget(gig: Gig) -> str:
    """``{{ gig|budget }}`` → "$500.00" for a fixed budget, "$400.00–$600.00" for a range."""
    currency = current_app.config["CURRENCY"]
    low = display_money(gig.budget_min_minor, currency)
    if gig.is_fixed_budget:
        return low
    return f"{low}–{display_money(gig.budget_max_minor, currency)}"


# --- the board --------------------------------------------------------------------------

@bp.get("/gigs")
@login_required
def board():
    filters, errors = BoardFilters.from_args(request.args)
    page = board_page(filters, request.args.get("before"))
    form = BoardFilterFields(request.args, errors)
    feed_link = feed_link_of(current_user.id)
    return render_template("gigs/board.html", page=page, filters=filters, form=form,
                           filter_errors=errors, feed_link=feed_link), 422 if errors else 200


@bp.get("/my/gigs")
@login_required
def mine():
    form = MyGigsFilterForm(request.args)
    state = chosen_state(form.state, GigState)
    page = my_gigs(current_user.id, state, request.args.get("before"))
    return render_template("gigs/mine.html", page=page, form=form, state=state,
                           offer_counts=live_offer_counts([g.id for g in page.items])), (
        422 if form.state.errors else 200)


# --- posting and editing ----------------------------------------------------------------

@bp.route("/gigs/new", methods=["GET", "POST"])
@confirmed_required
def new():
    if request.method == "GET":
        return _render_new(GigForm(formdata=None, data={"kind": GigKind.REFERRAL.value}))
    form = GigForm()
    return submit(form, lambda: services.post_gig(
        actor=current_user, kind=form.kind.data, client_details=form.client_details(),
        **form.terms()),
        done="Your gig is on the board.",
        then=lambda gig: url_for(".show", gig_id=gig.id), again=lambda: _render_new(form))


@bp.route("/gigs/<int:gig_id>/edit", methods=["GET", "POST"])
@login_required
def edit(gig_id: int):
    page = _page_or_404(gig_id)
    gig = page.gig
    if gig.poster_id != current_user.id:
        abort(404)
    reason = why_cannot_edit(gig, current_user)
    if reason:
        flash(reason, "error")
        return redirect(url_for(".show", gig_id=gig.id))
    form = _edit_form(gig, GigForm(formdata=None, data=_gig_data(page))
                      if request.method == "GET" else GigForm())
    return submit(form, lambda: services.edit_gig(
        gig, actor=current_user, client_details=_client_fields(form), **form.terms()),
        done="Your changes are saved.", then=url_for(".show", gig_id=gig.id),
        again=lambda: (render_template("gigs/edit.html", gig=gig, form=form),
                       422 if form.errors else 200))


@bp.post("/gigs/<int:gig_id>/cancel")
@login_required
def cancel(gig_id: int):
    gig = gig_for(current_user, gig_id)
    if gig.poster_id != current_user.id and not current_user.is_admin:
        abort(404)
    form = CancelForm()
    return submit_button(form, lambda: services.cancel_gig(gig, actor=current_user,
                                                           reason=form.reason.data),
                         done="The gig is cancelled and off the board.",
                         to=url_for(".show", gig_id=gig.id))


# --- the gig page -----------------------------------------------------------------------

@bp.get("/gigs/<int:gig_id>")
@login_required
def show(gig_id: int):
    return _render_show(gig_id)


@bp.post("/gigs/<int:gig_id>/questions")
@confirmed_required
def ask(gig_id: int):
    gig = gig_for(current_user, gig_id)
    form = AskForm(prefix="ask")
    return submit(form, lambda: services.ask_question(gig, actor=current_user,
                                                      body=form.body.data),
                  done="Your question is posted; the poster is told.",
                  then=lambda question: url_for(".show", gig_id=gig_id,
                                                _anchor=f"question-{question.id}"),
                  again=lambda: _render_show(gig_id, ask_form=form))


@bp.post("/gigs/questions/<int:question_id>/answer")
@confirmed_required
def answer(question_id: int):
    question = db.get_or_404(Question, question_id)
    gig_id = gig_for(current_user, question.gig_id).id
    form = AnswerForm(prefix=f"q{question.id}")
    return submit(form, lambda: services.answer_question(question, actor=current_user,
                                                         answer=form.answer.data),
                  done="Your answer is posted; the member who asked is told.",
                  then=url_for(".show", gig_id=gig_id, _anchor=f"question-{question_id}"),
                  again=lambda: _render_show(gig_id, answer_form=(question_id, form)))


# --- files ------------------------------------------------------------------------------

@bp.post("/gigs/<int:gig_id>/attachments")
@login_required
def add_attachment(gig_id: int):
    gig = gig_for(current_user, gig_id)
    if gig.poster_id != current_user.id:
        abort(404)
    form = AttachmentForm(prefix="attachment")
    return submit(form, lambda: services.add_gig_attachment(gig, actor=current_user,
                                                            file_storage=form.file.data),
                  done="File attached.", then=url_for(".show", gig_id=gig_id, _anchor="files"),
                  again=lambda: _render_show(gig_id, attachment_form=form))


@bp.post("/gigs/attachments/<int:attachment_id>/delete")
@login_required
def remove_attachment(attachment_id: int):
    attachment = db.get_or_404(GigAttachment, attachment_id)
    gig = gig_for(current_user, attachment.gig_id)
    if gig.poster_id != current_user.id:
        abort(404)  # admins remove files with a written reason, from the admin area
    return submit_button(ConfirmForm(), lambda: services.remove_gig_attachment(
        attachment, actor=current_user),
        done="File removed.", to=url_for(".show", gig_id=gig.id, _anchor="files"))


@bp.get("/gigs/attachments/<int:attachment_id>")
@login_required
def attachment(attachment_id: int):
    attachment = db.get_or_404(GigAttachment, attachment_id)
    gig_for(current_user, attachment.gig_id)
    return send_stored_file(attachment.stored_name, attachment.content_type,
                            attachment.original_name)


# --- helpers --------------------------------------------------------------------------

def _page_or_404(gig_id: int):
    """The gig and its client details for the edit form (the entities the service
    changes); 404 as ``gig_for``."""
    page = gig_for_edit(gig_id, current_user)
    if page is None:
        abort(404)
    return page


def _render_new(form: GigForm):
    return render_template("gigs/new.html", form=form,
                           cannot_post=why_cannot_post(current_user)), (
        422 if form.errors else 200)


def _render_show(gig_id: int, **forms: FlaskForm | tuple):
    """The gig page with the given (submitted) forms and fresh ones for the rest.

    The page is read here, after any failed service call: its rollback expired what
    was loaded before. It is read models (``queries.gig_page``), which the policies
    read as they read a gig.
    """
    page = gig_page(gig_id, current_user)
    if page is None:
        abort(404)
    gig, user = page.gig, current_user
    is_poster = gig.poster_id == user.id
    status = 422 if any((f[1] if isinstance(f, tuple) else f).errors
                        for f in forms.values()) else 200
    ask_form = forms.get("ask_form") or AskForm(prefix="ask", formdata=None)
    answer_forms = {}
    if is_poster:
        answer_forms = {q.id: AnswerForm(prefix=f"q{q.id}", formdata=None)
                        for q in page.questions if q.answered_at is None}
    offers = offers_tab(gig, user)
    # the poster's unread messages per top offer (conversations sit above offers)
    unread = (unread_counts(user.id, [o.id for o in offers.top])
              if is_poster and offers.top else {})
    if "answer_form" in forms:
        question_id, form = forms["answer_form"]
        answer_forms[question_id] = form
    return render_template(
        "gigs/show.html", page=page, gig=gig, is_poster=is_poster,
        category_label=GigCategory(gig.category).label,
        why_cannot_ask=why_cannot_ask(gig, user),
        can_edit=why_cannot_edit(gig, user) is None,
        can_cancel=why_cannot_cancel(gig, user) is None,
        can_attach=why_cannot_attach(gig, user) is None,
        ask_form=ask_form, answer_forms=answer_forms,
        attachment_form=forms.get("attachment_form")
        or AttachmentForm(prefix="attachment", formdata=None),
        cancel_form=CancelForm(formdata=None), confirm_form=ConfirmForm(formdata=None),
        matches=matching_members_for(gig) if is_poster else [],
        offers=offers, unread=unread, why_cannot_offer=why_cannot_offer(gig, user),
    ), status


def _edit_form(gig: Gig, form: GigForm) -> GigForm:
    """The gig form without the kind (it can't change) and, on tasks, the client fields."""
    del form.kind
    if gig.kind != GigKind.REFERRAL:
        for name in ("client_name", "client_contact", "client_notes"):
            delattr(form, name)
    return form


def _client_fields(form: GigForm) -> dict[str, str] | None:
    return form.client_details() if "client_name" in form else None


def _gig_data(page) -> dict:
    """The edit form's values from the gig as stored."""
    gig, details = page.gig, page.client_details
    data = {
        "title": gig.title, "description": gig.description, "category": gig.category,
        "skills": ", ".join(s.name for s in gig.skills),
        "budget_min": _amount_text(gig.budget_min_minor),
        "budget_max": "" if gig.is_fixed_budget else _amount_text(gig.budget_max_minor),
        "deadline": gig.deadline,
    }
    if details is not None:
        data.update(client_name=details.client_name, client_contact=details.contact,
                    client_notes=details.notes)
    return data


def _amount_text(minor: int) -> str:
    whole, cents = divmod(minor, 100)
    return f"{whole}" if not cents else f"{whole}.{cents:02d}"
