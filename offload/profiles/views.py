"""Profile pages: the member directory, a member's profile, editing one's own, documents.

Every page is for logged-in members (confirmed or not). A member changes only their
own entries here: anyone else's answer 404, admins included, because admin removals
need a written reason and a moderation-log entry, which belong in the admin area.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_login import current_user, login_required
from flask_wtf import FlaskForm

from offload.accounts.models import AccountType
from offload.core.db import db
from offload.core.errors import Invalid
from offload.core.extensions import limiter
from offload.core.images import photo_path
from offload.core.submit import submit, submit_button
from offload.core.uploads import send_stored_file
from offload.reviews.member_search import MemberFilters, search_members
from offload.reviews.queries import member_rating

from . import services
from .forms import (
    ConfirmForm,
    DocumentForm,
    EducationForm,
    PhotoForm,
    PortfolioForm,
    ProfileForm,
)
from .models import Document, EducationEntry, PortfolioItem
from .queries import ProfilePage, photo_version_of, popular_skills, profile_for, skill_named

bp = Blueprint("profiles", __name__)


@bp.get("/members")
@login_required
def members():
    filters, errors = MemberFilters.from_args(request.args)
    page = search_members(filters, request.args.get("before"))
    return render_template("profiles/members.html", page=page, filters=filters,
                           errors=errors, skill=skill_named(filters.skill) if filters.skill
                           else None, popular=popular_skills(limit=15)), 422 if errors else 200


@bp.get("/members/<username>")
@login_required
def show(username: str):
    page = profile_for(username) or abort(404)
    rating, skill_ratings = member_rating(page.user.id)
    return render_template("profiles/show.html", page=page, rating=rating,
                           rated_skills=skill_ratings,
                           skill_ratings={skill.id: r for skill, r in skill_ratings},
                           is_own=page.user.id == current_user.id)


@bp.post("/profile/availability")
@login_required
def availability():
    form = ConfirmForm()
    choice = request.form.get("available")
    if choice not in ("yes", "no"):
        flash("Choose available or busy.", "error")
    elif form.validate_on_submit():
        available = choice == "yes"
        services.set_availability(actor=current_user, available=available)
        flash("You're shown as available for new work." if available else
              "You're shown as busy.", "success")
    return redirect(url_for(".show", username=current_user.username))


@bp.route("/profile/edit", methods=["GET", "POST"])
@login_required
def edit():
    if request.method == "GET":
        page = _own_page()
        return _render_edit(page, profile_form=_profile_form(page))
    form = _profile_form()
    return submit(form, lambda: services.save_profile(
        actor=current_user, display_name=form.display_name.data,
        headline=form.headline.data, bio=form.bio.data, location=form.location.data,
        organization_name=form.organization_name.data if _is_organization() else None,
        skill_names=form.skill_names()),
        done="Your profile is saved.", then=url_for(".show", username=current_user.username),
        again=lambda: _render_edit(_own_page(), profile_form=form))


@bp.post("/profile/education")
@login_required
def add_education():
    form = EducationForm(prefix="education")
    return _add(lambda: services.add_education(actor=current_user, **form.entry()),
                "Education added.", "education", education_form=form)


@bp.post("/profile/education/<int:entry_id>/delete")
@login_required
def remove_education(entry_id: int):
    entry = _own_or_404(EducationEntry, entry_id)
    return _remove(lambda: services.remove_education(entry, actor=current_user),
                   "Education entry removed.", "education")


@bp.post("/profile/portfolio")
@login_required
def add_portfolio():
    form = PortfolioForm(prefix="portfolio")
    return _add(lambda: services.add_portfolio_item(actor=current_user, **form.item()),
                "Portfolio item added.", "portfolio", portfolio_form=form)


@bp.post("/profile/portfolio/<int:item_id>/delete")
@login_required
def remove_portfolio(item_id: int):
    item = _own_or_404(PortfolioItem, item_id)
    return _remove(lambda: services.remove_portfolio_item(item, actor=current_user),
                   "Portfolio item removed.", "portfolio")


@bp.post("/profile/documents")
@login_required
def upload_document():
    form = DocumentForm(prefix="document")
    return _add(lambda: services.upload_document(actor=current_user, **form.document()),
                "Document uploaded.", "documents", document_form=form)


@bp.post("/profile/documents/<int:document_id>/delete")
@login_required
def remove_document(document_id: int):
    doc = _own_or_404(Document, document_id)
    return _remove(lambda: services.remove_document(doc, actor=current_user),
                   "Document removed.", "documents")


@bp.get("/documents/<int:document_id>")
@login_required
def document(document_id: int):
    doc = db.get_or_404(Document, document_id)
    return send_stored_file(doc.stored_name, doc.content_type, doc.original_name)


def _member_key() -> str:
    return f"member:{current_user.id}"


@bp.post("/profile/photo")
@login_required
# decoding a photo takes real time and memory, refused or not: per member, since only
# members upload, wherever they connect from
@limiter.limit(lambda: current_app.config["PHOTO_LIMIT"], key_func=_member_key)
def upload_photo():
    form = PhotoForm(prefix="photo")
    return submit(form, lambda: services.set_profile_photo(actor=current_user,
                                                           file_storage=form.photo.data),
                  done="Your photo is saved.",
                  then=url_for(".show", username=current_user.username),
                  again=lambda: _render_edit(_own_page(), photo_form=form))


@bp.post("/profile/photo/delete")
@login_required
def remove_photo():
    return _remove(lambda: services.remove_profile_photo(actor=current_user),
                   "Your photo is removed; your initial shows instead.", "photo")


@bp.get("/members/<username>/photo/<version>/<int:size>.jpg")
@login_required
def photo(username: str, version: str, size: int):
    """A member's photo, for members only (as profiles are), and only while its owner is
    listed (confirmed, not suspended) unless they view it themselves. The URL names the
    photo's version, so what it answers never changes: browsers keep it for a year."""
    if (size not in current_app.config["PHOTO_SIZES"]
            or photo_version_of(username, viewer_id=current_user.id) != version):
        abort(404)
    try:
        path = photo_path(version, size)
    except Invalid:
        abort(404)
    if not path.is_file():
        abort(404)
    response = send_file(path, mimetype="image/jpeg", max_age=365 * 24 * 3600,
                         conditional=True)
    # private: behind the log-in, so no shared cache may keep it
    response.cache_control.public = False
    response.cache_control.private = True
    response.cache_control.immutable = True
    return response


# --- helpers --------------------------------------------------------------------------

def _own_page() -> ProfilePage:
    page = profile_for(current_user.username)
    assert page is not None  # the logged-in member exists
    return page


def _own_or_404(model, item_id: int):
    item = db.session.get(model, item_id)
    if item is None or item.user_id != current_user.id:
        abort(404)
    return item


def _is_organization() -> bool:
    return current_user.account_type == AccountType.ORGANIZATION


def _profile_form(page: ProfilePage | None = None, **kwargs) -> ProfileForm:
    """The profile form, prefilled from ``page`` or bound to the request when page is None."""
    if page is not None:
        user, profile = page.user, page.profile
        kwargs["data"] = {
            "display_name": user.display_name, "organization_name": user.organization_name,
            "headline": profile.headline if profile else "",
            "location": profile.location if profile else "",
            "bio": profile.bio if profile else "",
            "skills": ", ".join(s.name for s in page.skills)}
    form = ProfileForm(**kwargs)
    if not _is_organization():
        del form.organization_name  # individuals have none to edit
    return form


def _render_edit(page: ProfilePage, **forms: FlaskForm):
    """The edit page with the given (submitted) forms and fresh ones for the other sections."""
    status = 422 if any(f.errors for f in forms.values()) else 200
    if "profile_form" not in forms:
        forms["profile_form"] = _profile_form(page, formdata=None)
    forms.setdefault("education_form", EducationForm(prefix="education", formdata=None))
    forms.setdefault("portfolio_form", PortfolioForm(prefix="portfolio", formdata=None))
    forms.setdefault("document_form", DocumentForm(prefix="document", formdata=None))
    forms.setdefault("photo_form", PhotoForm(prefix="photo", formdata=None))
    return render_template("profiles/edit.html", page=page, popular=popular_skills(limit=15),
                           delete_form=ConfirmForm(formdata=None), **forms), status


def _add(call: Callable[[], object], done: str, section: str, **sent: FlaskForm):
    """A section's form of the edit page (``sent``: that one form, by its name on the
    page): its service call, then back to the section, or the page again as sent."""
    (form,) = sent.values()
    return submit(form, call, done=done, then=url_for(".edit", _anchor=section),
                  again=lambda: _render_edit(_own_page(), **sent))


def _remove(call: Callable[[], object], done: str, section: str):
    """A delete button of the edit page: the outcome flashed, back to its section."""
    return submit_button(ConfirmForm(), call, done=done, to=url_for(".edit", _anchor=section))
