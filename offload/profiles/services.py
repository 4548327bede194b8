"""Changing a member's profile. Each public function is one transaction.

Members change only their own things; removals are also open to admins. Messages in
the errors are shown to the member as they are; ``InvalidField`` names the form field
the message belongs next to.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from werkzeug.datastructures import FileStorage

from offload.accounts.models import AccountType, User
from offload.accounts.queries import member_row
from offload.core.db import atomic, db, on_commit, utcnow
from offload.core.errors import Conflict, Invalid, InvalidField, NotAllowed
from offload.core.images import prepare_photo, remove_photo_files, store_photo
from offload.core.uploads import store_document, stored_path

from .models import (
    BIO_MAX,
    DEGREE_MAX,
    DESCRIPTION_MAX,
    DISPLAY_NAME_MAX,
    HEADLINE_MAX,
    LOCATION_MAX,
    ORGANIZATION_MAX,
    SCHOOL_MAX,
    SKILL_NAME_MAX,
    SKILLS_PER_MEMBER_MAX,
    TITLE_MAX,
    URL_MAX,
    Document,
    DocumentKind,
    EducationEntry,
    MemberSkill,
    PortfolioItem,
    Profile,
    Skill,
    skill_slug,
)

# Caps that keep one member from filling the database or the disk.
EDUCATION_PER_MEMBER_MAX = 30
PORTFOLIO_PER_MEMBER_MAX = 50
DOCUMENTS_PER_MEMBER_MAX = 20
EARLIEST_YEAR = 1940
YEARS_AHEAD = 10  # an expected graduation year may lie this far in the future
_SKILL_PUNCTUATION = frozenset(" +#.-")


# --- profile and skills -------------------------------------------------------------

def update_profile(*, actor: User, display_name: str, headline: str, bio: str,
                   location: str, organization_name: str | None = None) -> Profile:
    """Save the actor's display name, headline, bio (markdown source) and location.

    Organization accounts must name their organization; for individual accounts the
    organization name is ignored. Creates the profile row on the first save.
    """
    with atomic():
        _lock_member(actor)
        name = _line("display_name", display_name, DISPLAY_NAME_MAX, "Display name",
                     required=True)
        headline = _line("headline", headline, HEADLINE_MAX, "Headline")
        location = _line("location", location, LOCATION_MAX, "Location")
        bio = _limited("bio", (bio or "").strip(), BIO_MAX, "About you")
        is_organization = actor.account_type == AccountType.ORGANIZATION
        if is_organization:
            organization_name = _line("organization_name", organization_name,
                                      ORGANIZATION_MAX, "Organization name")
            if not organization_name:
                raise InvalidField("organization_name",
                                   "Organization accounts need an organization name.")
        profile = db.session.get(Profile, actor.id) or Profile(user_id=actor.id)
        db.session.add(profile)
        row = member_row(actor)
        row.display_name = name
        if is_organization:
            row.organization_name = organization_name
        profile.headline, profile.bio, profile.location = headline, bio, location
        profile.updated_at = utcnow()
        return profile


def set_availability(*, actor: User, available: bool) -> Profile:
    """Mark the actor available for new work or busy (shown on the profile and in
    member search). Creates the profile row if the member never saved one."""
    with atomic():
        _lock_member(actor)  # two clicks at once: one creates the row, the other waits
        profile = db.session.get(Profile, actor.id) or Profile(user_id=actor.id)
        db.session.add(profile)
        profile.available = available
        profile.updated_at = utcnow()
        return profile


def ensure_skills(names: Iterable[str], *, actor: User) -> list[Skill]:
    """The skills with these names, in order and without duplicates.

    Creates the ones nobody has named before (spelled as the actor typed them);
    names that differ only in case or spacing are the same skill.
    """
    with atomic():
        cleaned = clean_skill_names(names)
        slugs = [skill_slug(n) for n in cleaned]
        known = {s.slug: s for s in db.session.scalars(select(Skill).where(Skill.slug.in_(slugs)))}
        for name, slug in zip(cleaned, slugs, strict=True):
            if slug not in known:
                known[slug] = _create_skill(name, slug, actor)
        return [known[s] for s in slugs]


def set_member_skills(*, actor: User, skill_names: Iterable[str]) -> list[Skill]:
    """Replace the actor's skill list; unknown skills are added to the shared list."""
    with atomic():
        _lock_member(actor)
        names = clean_skill_names(skill_names)
        if len(names) > SKILLS_PER_MEMBER_MAX:
            raise InvalidField("skills", f"List at most {SKILLS_PER_MEMBER_MAX} skills "
                                         f"(you listed {len(names)}).")
        skills = ensure_skills(names, actor=actor)
        wanted = {s.id for s in skills}
        current = set(db.session.scalars(
            select(MemberSkill.skill_id).where(MemberSkill.user_id == actor.id)))
        if current - wanted:
            db.session.execute(delete(MemberSkill).where(
                MemberSkill.user_id == actor.id, MemberSkill.skill_id.in_(current - wanted)))
        db.session.add_all(MemberSkill(user_id=actor.id, skill_id=skill_id)
                           for skill_id in wanted - current)
        return skills


def save_profile(*, actor: User, display_name: str, headline: str, bio: str, location: str,
                 organization_name: str | None = None,
                 skill_names: Iterable[str] = ()) -> Profile:
    """Save the edit page's profile form: ``update_profile`` and ``set_member_skills`` together.

    Either both are saved or, if anything is invalid, neither.
    """
    with atomic():
        profile = update_profile(actor=actor, display_name=display_name, headline=headline,
                                 bio=bio, location=location,
                                 organization_name=organization_name)
        set_member_skills(actor=actor, skill_names=skill_names)
        return profile


def clean_skill_names(names: Iterable[str]) -> list[str]:
    """Skill names with whitespace collapsed, blanks and repeats dropped; raises if one is bad."""
    result: list[str] = []
    seen: set[str] = set()
    for raw in names:
        name = " ".join((raw or "").split())
        if not name or skill_slug(name) in seen:
            continue
        if len(name) > SKILL_NAME_MAX:
            raise InvalidField("skills", f"“{name[:30]}…” is too long: a skill name can be "
                                         f"at most {SKILL_NAME_MAX} characters.")
        if (not any(c.isalnum() for c in name)
                or not all(c.isalnum() or c in _SKILL_PUNCTUATION for c in name)):
            raise InvalidField("skills", f"“{name}” isn't a skill name: use letters, digits, "
                                         "spaces and + # . - only.")
        seen.add(skill_slug(name))
        result.append(name)
    return result


def _create_skill(name: str, slug: str, actor: User) -> Skill:
    skill = Skill(name=name, slug=slug, created_by_id=actor.id)
    try:
        with db.session.begin_nested():
            db.session.add(skill)
    except IntegrityError:
        # another member added the same skill a moment ago: theirs is the one
        return db.session.scalars(select(Skill).where(Skill.slug == slug)).one()
    return skill


# --- education ------------------------------------------------------------------------

def add_education(*, actor: User, school: str, degree: str = "", field_of_study: str = "",
                  start_year: int, end_year: int | None = None) -> EducationEntry:
    """Add a school to the actor's education; no end year means still studying there."""
    with atomic():
        _lock_member(actor)
        _check_room(EducationEntry, actor, EDUCATION_PER_MEMBER_MAX, "education entries")
        latest = utcnow().year + YEARS_AHEAD
        for field, year in (("start_year", start_year), ("end_year", end_year)):
            if year is not None and not EARLIEST_YEAR <= year <= latest:
                raise InvalidField(field, f"Enter a year between {EARLIEST_YEAR} and {latest}.")
        if end_year is not None and end_year < start_year:
            raise InvalidField("end_year", "The end year can't be before the start year.")
        entry = EducationEntry(
            user_id=actor.id,
            school=_line("school", school, SCHOOL_MAX, "School", required=True),
            degree=_line("degree", degree, DEGREE_MAX, "Degree"),
            field_of_study=_line("field_of_study", field_of_study, DEGREE_MAX, "Field of study"),
            start_year=start_year, end_year=end_year)
        db.session.add(entry)
        db.session.flush()
        return entry


def remove_education(entry: EducationEntry, *, actor: User) -> None:
    """Delete an education entry (the owner's, or any for an admin)."""
    with atomic():
        _check_owner(entry.user_id, actor)
        db.session.delete(entry)


# --- portfolio ------------------------------------------------------------------------

def add_portfolio_item(*, actor: User, title: str, url: str,
                       description: str = "") -> PortfolioItem:
    """Add a link to the actor's work; the description is markdown."""
    with atomic():
        _lock_member(actor)
        _check_room(PortfolioItem, actor, PORTFOLIO_PER_MEMBER_MAX, "portfolio items")
        item = PortfolioItem(
            user_id=actor.id,
            title=_line("title", title, TITLE_MAX, "Title", required=True),
            url=check_web_url(url),
            description=_limited("description", (description or "").strip(), DESCRIPTION_MAX,
                                 "Description"))
        db.session.add(item)
        db.session.flush()
        return item


def remove_portfolio_item(item: PortfolioItem, *, actor: User) -> None:
    """Delete a portfolio item (the owner's, or any for an admin)."""
    with atomic():
        _check_owner(item.user_id, actor)
        db.session.delete(item)


def check_web_url(url: str | None) -> str:
    """The address stripped, if it is a full http(s) URL; raises ``InvalidField("url")``."""
    url = (url or "").strip()
    if not url:
        raise InvalidField("url", "Enter the address of your work.")
    _limited("url", url, URL_MAX, "The address")
    try:
        parts = urlsplit(url)
        scheme, host = parts.scheme.lower(), parts.hostname
    except ValueError:  # e.g. an unclosed IPv6 bracket
        scheme, host = "", None
    # anything but http(s) (javascript:, data:, file:) could run or leak in a visitor's browser
    if (scheme not in ("http", "https") or not host
            or any(c.isspace() or not c.isprintable() for c in url)):
        raise InvalidField("url", "Enter a full web address starting with http:// or https://.")
    return url


# --- documents ------------------------------------------------------------------------

def upload_document(*, actor: User, kind: str, title: str,
                    file_storage: FileStorage | None) -> Document:
    """Store an uploaded PDF or image (type checked by content too) as one of the actor's documents.

    Effects: writes the file to the upload folder; removes it again if the
    transaction fails.
    """
    with atomic():
        _lock_member(actor)
        if kind not in {k.value for k in DocumentKind}:
            raise InvalidField("kind", "Choose what kind of document this is.")
        title = _line("title", title, TITLE_MAX, "Title", required=True)
        if file_storage is None or not file_storage.filename:
            raise InvalidField("file", "Choose a file to upload.")
        _check_room(Document, actor, DOCUMENTS_PER_MEMBER_MAX, "documents")
        stored = store_document(file_storage)
        doc = Document(user_id=actor.id, kind=kind, title=title, **stored.columns())
        db.session.add(doc)
        db.session.flush()
    return doc


def remove_document(doc: Document, *, actor: User) -> None:
    """Delete a document (the owner's, or any for an admin); the file goes after commit."""
    with atomic():
        _check_owner(doc.user_id, actor)
        path = stored_path(doc.stored_name)
        db.session.delete(doc)
        on_commit(lambda: path.unlink(missing_ok=True))


# --- photo ----------------------------------------------------------------------------

def set_profile_photo(*, actor: User, file_storage: FileStorage | None) -> Profile:
    """Make an uploaded JPEG, PNG or WebP the actor's profile photo.

    Effects: writes the re-encoded sizes (metadata stripped) to the upload folder under
    a new version; the previous photo's files go after commit, the new ones if the
    transaction fails. Refuses: no file, other types, fakes, animations, huge images.
    Creates the profile row if the member never saved one.
    """
    if file_storage is None or not file_storage.filename:
        raise InvalidField("photo", "Choose a photo to upload.")
    images = prepare_photo(file_storage)  # decoding takes a while: before the lock
    with atomic():
        _lock_member(actor)
        version = store_photo(images)
        profile = db.session.get(Profile, actor.id) or Profile(user_id=actor.id)
        db.session.add(profile)
        old = profile.photo_version
        profile.photo_version = version
        profile.updated_at = utcnow()
        if old:
            on_commit(lambda: remove_photo_files(old))
        return profile


def remove_profile_photo(*, actor: User) -> None:
    """Remove the actor's profile photo (their initial shows again); files go after commit."""
    with atomic():
        _lock_member(actor)
        profile = db.session.get(Profile, actor.id)
        if profile is None or not profile.photo_version:
            raise Conflict("You have no profile photo to remove.")
        old = profile.photo_version
        profile.photo_version = None
        profile.updated_at = utcnow()
        on_commit(lambda: remove_photo_files(old))


# --- erasure --------------------------------------------------------------------------

def erase_profile(member_id: int) -> int:
    """Remove everything the member's profile holds: its row (headline, bio, location,
    photo), skills, education, portfolio and documents; how many files go.

    Files (documents, the photo's sizes) are deleted after commit, so a rollback leaves
    them with their rows. The shared skills stay (other members use them). Joins the
    caller's transaction (``privacy.services.delete_account``); checks nothing: the
    caller decided.
    """
    with atomic() as session:
        names = list(session.scalars(select(Document.stored_name)
                                     .where(Document.user_id == member_id)))
        photo = session.scalar(select(Profile.photo_version)
                               .where(Profile.user_id == member_id))
        for model in (Document, PortfolioItem, EducationEntry, MemberSkill, Profile):
            session.execute(delete(model).where(model.user_id == member_id)
                            .execution_options(synchronize_session=False))
        paths = [stored_path(name) for name in names]

        def remove_files() -> None:
            for path in paths:
                path.unlink(missing_ok=True)
            if photo:
                remove_photo_files(photo)
        on_commit(remove_files)
    return len(paths) + (1 if photo else 0)


# --- helpers --------------------------------------------------------------------------

def _lock_member(actor: User) -> None:
    # serialises one member's concurrent edits (get-or-create profile, caps, skill sets);
    # SQLite's BEGIN IMMEDIATE already does, and ignores FOR UPDATE
    db.session.execute(select(User.id).where(User.id == actor.id).with_for_update())


def _check_owner(owner_id: int, actor: User) -> None:
    if owner_id != actor.id and not actor.is_admin:
        raise NotAllowed("Only the member it belongs to can remove this.")


def _check_room(model, actor: User, limit: int, what: str) -> None:
    count = db.session.scalar(select(func.count()).select_from(model)
                              .where(model.user_id == actor.id))
    if count >= limit:
        raise Invalid(f"You can have at most {limit} {what}; remove one first.")


def _line(field: str, value: str | None, max_len: int, label: str, *,
          required: bool = False) -> str:
    """One line of text: whitespace collapsed, length checked."""
    value = " ".join((value or "").split())
    if required and not value:
        raise InvalidField(field, f"{label} can't be empty.")
    return _limited(field, value, max_len, label)


def _limited(field: str, value: str, max_len: int, label: str) -> str:
    if len(value) > max_len:
        raise InvalidField(field, f"{label} can be at most {max_len} characters "
                                  f"(it has {len(value)}).")
    return value
