"""Log-in, log-out, e-mail confirmation, password reset and account settings."""

from __future__ import annotations

from datetime import timedelta

import segno
from flask import (
    Blueprint,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_limiter.util import get_remote_address
from flask_login import current_user, login_required, login_user, logout_user
from limits import parse as parse_limit
from markupsafe import Markup

from offload.core.db import utcnow
from offload.core.errors import InvalidField, OffloadError
from offload.core.extensions import limiter, login_manager
from offload.core.forms import ButtonForm, parse_id, show_error
from offload.core.security import safe_next
from offload.core.submit import submit, submit_button
from offload.core.tokens import hash_token
from offload.feeds.forms import MakeFeedLinkForm, ReplaceFeedLinkForm, RevokeFeedLinkForm
from offload.feeds.queries import feed_link_of

from .devices import (
    end_member_session,
    end_other_member_sessions,
    touch_member_session,
)
from .forms import (
    AddPasskeyForm,
    BackupLoginCodeForm,
    ChangeEmailForm,
    ChangePasswordForm,
    ConfirmCodeForm,
    DisableTwoFactorForm,
    EnableTwoFactorForm,
    LoginCodeForm,
    LoginForm,
    PasskeyConfirmForm,
    PasskeyLoginForm,
    PersonalTokenForm,
    RegenerateBackupCodesForm,
    RequestResetForm,
    ResetPasswordForm,
    TimeZoneForm,
    WorkRoleForm,
)
from .passkeys import (
    add_passkey,
    check_passkey,
    passkey_authentication_options,
    passkey_registration_options,
    remove_passkey,
)
from .queries import (
    SignedIn,
    has_passkeys,
    member_session_for,
    passkey_for,
    passkeys_of,
    personal_token_for,
    personal_tokens_of,
    signed_in,
    signed_in_devices,
    two_factor_status,
    without_admin_powers,
)
from .services import (
    authenticate,
    change_email,
    change_password,
    confirm_email,
    create_personal_token,
    end_all_sessions,
    find_by_login,
    read_confirmation,
    read_reset_token,
    record_login,
    request_password_reset,
    resend_confirmation,
    reset_password,
    revoke_personal_token,
    set_time_zone,
    set_work_role,
)
from .sign_in import begin_browser_session
from .step_up import (
    admin_powers_count,
    code_is_fresh,
    code_needed_for_new_passkey,
    mark_code_entered,
    passkey_confirm,
    replay_fields,
    send_back,
    step_up_for_new_passkey,
    step_up_for_passkey_removal,
    step_up_for_wallet_token,
)
from .two_factor import (
    begin_two_factor,
    check_code,
    complete_login,
    complete_login_with_passkey,
    disable_two_factor,
    enable_two_factor,
    pending_login,
    pending_member_id,
    pending_set_up,
    regenerate_backup_codes,
    start_login,
    warn_of_refused_codes,
)

bp = Blueprint("accounts", __name__)


@login_manager.user_loader
def load_user(user_id: str) -> SignedIn | None:
    """Sessions and remember cookies carry ``id:session_token:device secret``; a rotated
    token ends them all, an ended device (``accounts.devices``) ends that one.

    Every logged-in request runs this: one narrow statement into a read model (the name,
    the flags and the unread badges the layout shows, the device's row), not the ORM
    row. The device's "last seen" is written only when it is older than
    SESSION_SEEN_EVERY_SECONDS. A session without a device secret (one from before
    devices were recorded) is not let in: it logs in again once.
    """
    raw_id, _, rest = user_id.partition(":")
    token, _, secret = rest.partition(":")
    member_id = parse_id(raw_id)
    if member_id is None or not token or not secret:
        return None
    member = signed_in(member_id, token, secret)
    if member is None:
        return None
    every = timedelta(seconds=current_app.config["SESSION_SEEN_EVERY_SECONDS"])
    if member.session_seen_at is not None and member.session_seen_at <= utcnow() - every:
        touch_member_session(member.member_session_id)
    if member.is_admin and not admin_powers_count():
        return without_admin_powers(member)  # TWO_FACTOR_REQUIRED_FOR_ADMINS: step_up
    return member


def _status(form) -> int:
    return 422 if form.errors or form.form_errors else 200


def account_at_address() -> str:
    """Rate-limit key: the account a log-in or reset form names, at the client's address.

    By the account (its id), not by what was typed, so its username and its e-mail
    address share one count. By address too, so that a stranger's failures, made from
    anywhere else, never stop the owner's correct password: a lock-out per account
    would hand anyone a way to lock any member out, and a growing delay would either
    hold a worker process asleep per attempt or, answered as "wait", lock out again.
    Guessing from many addresses is bounded by the per-address limit and the password
    rules. A name no account has is counted by what was typed.
    """
    typed = (request.form.get("login") or request.form.get("email") or "").strip().lower()
    # text the form will refuse (too long, control characters) is never looked up
    user = find_by_login(typed) if 0 < len(typed) <= 254 and typed.isprintable() else None
    account = f"member:{user.id}" if user is not None else f"name:{typed[:254]}"
    return f"{account}@{get_remote_address()}"


def _failed(response) -> bool:
    """A log-in that was refused (wrong password, unknown name, blank form): only these
    count against the account, so the owner's own log-ins never use its allowance."""
    return response.status_code == 422


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_LIMIT_PER_ADDRESS"], methods=["POST"])
@limiter.limit(lambda: current_app.config["LOGIN_LIMIT_PER_ACCOUNT"], methods=["POST"],
               key_func=account_at_address, deduct_when=_failed)
def login():
    if current_user.is_authenticated:
        return redirect(url_for("pages.dashboard"))
    form = LoginForm()
    if form.validate_on_submit():
        user = authenticate(form.login.data, form.password.data)
        if user is None:
            form.form_errors.append("That username or password is not right.")
        elif user.is_suspended:  # the password was right: saying so reveals nothing new
            form.form_errors.append("This account is suspended. The e-mail about the case "
                                    "says why; write to the admins to appeal.")
        elif two_factor_status(user.id).is_on:  # not logged in yet: the code comes first
            session.clear()
            session[PENDING_LOGIN] = {"token": start_login(user), "remember": form.remember.data,
                                      "next": safe_next(request.args.get("next"))}
            return redirect(url_for("accounts.login_code"))
        else:
            begin_browser_session(user, remember=form.remember.data)
            record_login(user)
            return redirect(safe_next(request.args.get("next")))
    return render_template("accounts/login.html", form=form), _status(form)


# the password step's token while the code step waits: in the session (signed), never
# in a URL; the token itself says whose and since when (two_factor.start_login)
PENDING_LOGIN = "pending_login"
# a passkey ceremony's challenge while the browser answers (``passkeys.Ceremony``: signed
# for its purpose and member, and timed); taken out when the answer comes, so each
# challenge is tried once
PASSKEY_CEREMONY = "passkey_ceremony"


def _pending() -> dict:
    pending = session.get(PENDING_LOGIN)
    return pending if isinstance(pending, dict) else {}


def pending_login_key() -> str:
    """Rate-limit key: the pending log-in, so each gets TWO_FACTOR_ATTEMPTS wrong codes."""
    return f"pending-login:{hash_token(str(_pending().get('token')))}"


def pending_account_at_address() -> str:
    """Rate-limit key: the account whose code is asked for, at the client's address (as
    ``account_at_address`` counts wrong passwords)."""
    return f"member:{pending_member_id(_pending().get('token'))}@{get_remote_address()}"


def pending_account() -> str:
    """Rate-limit key: the account whose code is asked for, from any address and any
    pending log-in (a password step is cheap to repeat once the password is known)."""
    return f"two-factor-member:{pending_member_id(_pending().get('token'))}"


def _count_refused_code(member_id: int | None) -> None:
    """Count a wrong log-in code against the account; the one that makes
    TWO_FACTOR_WRONG_CODES_MAIL_AFTER within an hour mails the member (once a window).
    Counted in the rate limiter's storage, shared by the workers as the limits are."""
    strategy = limiter.limiter
    if member_id is None or strategy is None:
        return
    item = parse_limit(f"{current_app.config['TWO_FACTOR_WRONG_CODES_MAIL_AFTER']} per hour")
    key = ("two-factor-refused-codes", str(member_id))
    if strategy.hit(item, *key) and strategy.get_window_stats(item, *key).remaining == 0:
        warn_of_refused_codes(member_id)


@bp.route("/login/code", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_LIMIT_PER_ADDRESS"], methods=["POST"])
@limiter.limit(lambda: current_app.config["TWO_FACTOR_WRONG_CODES_PER_ACCOUNT"],
               methods=["POST"], key_func=pending_account, deduct_when=_failed)
@limiter.limit(lambda: current_app.config["LOGIN_LIMIT_PER_ACCOUNT"], methods=["POST"],
               key_func=pending_account_at_address, deduct_when=_failed)
@limiter.limit(lambda: (f"{current_app.config['TWO_FACTOR_ATTEMPTS']} per "
                        f"{current_app.config['TWO_FACTOR_LOGIN_SECONDS']} seconds"),
               methods=["POST"], key_func=pending_login_key, deduct_when=_failed)
def login_code():
    """The log-in's second step; the session starts only after a right code. A wrong
    code is not shown again (the field comes back empty), only why it was refused."""
    if current_user.is_authenticated:
        return redirect(url_for("pages.dashboard"))
    pending = _pending()
    if not pending:
        return redirect(url_for("accounts.login"))
    backup = request.args.get("backup") == "1"
    with_passkey = "credential" in request.form  # the passkey's form, not the code's
    form = _posted(BackupLoginCodeForm if backup else LoginCodeForm, not with_passkey)
    passkey_form = _posted(PasskeyLoginForm, with_passkey)
    used = passkey_form if with_passkey else form
    if used.validate_on_submit():
        token = pending.get("token")
        try:
            user = (complete_login_with_passkey(token, passkey_form.credential.data,
                                                session.pop(PASSKEY_CEREMONY, None))
                    if with_passkey else complete_login(token, form.code.data))
        except InvalidField as e:
            (used.form_errors if with_passkey else form.code.errors).append(str(e))
            _count_refused_code(pending_member_id(token))
        except OffloadError as e:  # the password step is spent or too old: start again
            session.pop(PENDING_LOGIN, None)
            flash(str(e), "error")
            return redirect(url_for("accounts.login"))
        else:
            begin_browser_session(user, remember=bool(pending.get("remember")))
            mark_code_entered(by_passkey=with_passkey)
            return redirect(safe_next(pending.get("next")))
    form.code.data = ""
    passkeys = has_passkeys(pending_member_id(pending.get("token")) or 0)
    return render_template("accounts/login_code.html", form=form, backup=backup,
                           passkey_form=passkey_form if passkeys else None), _status(used)


def _posted(form_class, posted: bool, **kwargs):
    """``form_class`` reading the request when it is the form that was posted, else
    empty (two forms on one page, each posted to the same address)."""
    return form_class(**kwargs) if posted else form_class(formdata=None, **kwargs)


@bp.post("/logout")
@login_required
def logout():
    end_all_sessions(current_user._get_current_object())
    logout_user()
    session.clear()
    flash("You are logged out everywhere.", "success")
    return redirect(url_for("pages.landing"))


@bp.get("/confirm/<token>", endpoint="confirm_email")
def confirm_email_page(token: str):
    """Show what the link confirms; a GET changes nothing (mail scanners open links)."""
    try:
        user, address = read_confirmation(token)
    except OffloadError as e:
        return render_template("accounts/link_problem.html", message=str(e)), 400
    return render_template("accounts/confirm.html", token=token, address=address, member=user)


@bp.post("/confirm/<token>", endpoint="confirm_email_submit")
def confirm_email_submit(token: str):
    try:
        user = confirm_email(token)
    except OffloadError as e:
        return render_template("accounts/link_problem.html", message=str(e)), 400
    flash(f"Thank you: {user.email} is confirmed.", "success")
    return redirect(url_for("pages.dashboard" if current_user.is_authenticated
                            else "accounts.login"))


@bp.post("/settings/resend-confirmation", endpoint="resend_confirmation")
@login_required
@limiter.limit(lambda: current_app.config["RESET_LIMIT"])
def resend_confirmation_submit():
    try:
        resend_confirmation(current_user._get_current_object())
    except OffloadError as e:
        flash(str(e), "info")
    else:
        flash("We sent a new confirmation link. It works for "
              f"{current_app.config['CONFIRM_MAX_AGE_SECONDS'] // 86400} days.", "success")
    return redirect(url_for("accounts.settings"))


@bp.route("/reset", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["RESET_LIMIT"], methods=["POST"])
@limiter.limit(lambda: current_app.config["RESET_LIMIT"], methods=["POST"],
               key_func=account_at_address)
def request_reset():
    form = RequestResetForm()
    return submit(form, lambda: request_password_reset(form.email.data),
                  done="If an account uses that address, we've sent it a link to choose a "
                       "new password.",
                  then=url_for("accounts.login"),
                  again=lambda: (render_template("accounts/reset_request.html", form=form),
                                 _status(form)))


@bp.route("/reset/<token>", methods=["GET", "POST"], endpoint="reset_password")
def reset_password_page(token: str):
    try:
        read_reset_token(token)
    except OffloadError as e:
        return render_template("accounts/link_problem.html", message=str(e)), 400
    form = ResetPasswordForm()

    def reset():
        reset_password(token, form.password.data)
        logout_user()
        session.clear()

    return submit(form, reset,
                  done="Your password is changed and every session has ended. Log in with "
                       "the new password.",
                  then=url_for("accounts.login"),
                  again=lambda: (render_template("accounts/reset_password.html", form=form),
                                 _status(form)),
                  fields={"": "password"})  # every refusal is about the new password


def _settings_page(status: int = 200, **forms):
    forms.setdefault("password_form", ChangePasswordForm(formdata=None))
    forms.setdefault("email_form", ChangeEmailForm(formdata=None))
    forms.setdefault("work_role_form", WorkRoleForm(
        formdata=None, data={"work_role": current_user.work_role}))
    forms.setdefault("token_form", PersonalTokenForm(formdata=None))
    forms.setdefault("time_zone_form", TimeZoneForm(
        formdata=None, data={"time_zone": current_user.time_zone},
        current=current_user.time_zone))
    feed_link = feed_link_of(current_user.id)
    return render_template("accounts/settings.html", tokens=personal_tokens_of(current_user.id),
                           feed_link=feed_link, revoke_feed_form=RevokeFeedLinkForm(formdata=None),
                           feed_form=(ReplaceFeedLinkForm if feed_link else MakeFeedLinkForm)(
                               formdata=None), **forms), status


@bp.get("/settings")
@login_required
def settings():
    return _settings_page()


@bp.post("/settings/work-role", endpoint="change_work_role")
@login_required
def change_work_role_submit():
    form = WorkRoleForm()
    return submit(form, lambda: set_work_role(current_user._get_current_object(),
                                              form.work_role.data),
                  done="Saved: your dashboard leads with what you mainly do.",
                  then=url_for("accounts.settings"),
                  again=lambda: _settings_page(422, work_role_form=form))


@bp.post("/settings/time-zone", endpoint="change_time_zone")
@login_required
def change_time_zone_submit():
    form = TimeZoneForm(current=current_user.time_zone)
    return submit(form, lambda: set_time_zone(current_user._get_current_object(),
                                              form.time_zone.data),
                  done=lambda _: f"Saved: times are now shown in {form.time_zone.data}.",
                  then=url_for("accounts.settings", _anchor="time-zone"),
                  again=lambda: _settings_page(422, time_zone_form=form))


@bp.post("/settings/password", endpoint="change_password")
@login_required
def change_password_submit():
    form = ChangePasswordForm()
    user = current_user._get_current_object()

    def change():
        change_password(user, current_password=form.current_password.data,
                        new_password=form.new_password.data)
        remembered = current_app.config["REMEMBER_COOKIE_NAME"] in request.cookies
        session.clear()
        login_user(user, remember=remembered)  # this session goes on; all others end

    return submit(form, change,
                  done="Your password is changed. Every other session has been logged out.",
                  then=url_for("accounts.settings"),
                  again=lambda: _settings_page(422, password_form=form),
                  fields={"": "current_password"})  # as today: beside the password typed


def _member_or_address() -> str:
    """Rate-limit key: the member logged in (the limit is checked before log-in is)."""
    if current_user.is_authenticated:
        return f"member:{current_user.id}"
    return get_remote_address()


@bp.post("/settings/email", endpoint="change_email")
@login_required
# each try checks the password and mails an address: a hijacked session may not use it
# to guess the password or to fill someone's mailbox
@limiter.limit(lambda: current_app.config["EMAIL_CHANGE_LIMIT"], key_func=_member_or_address)
def change_email_submit():
    form = ChangeEmailForm()
    return submit(form, lambda: change_email(current_user._get_current_object(),
                                             password=form.password.data,
                                             new_email=form.new_email.data),
                  done=lambda _: f"We sent a link to {form.new_email.data.strip().lower()}. "
                                 "Your address changes when you open it.",
                  then=url_for("accounts.settings"),
                  again=lambda: _settings_page(422, email_form=form))


@bp.post("/settings/tokens", endpoint="create_token")
@login_required
def create_token_submit():
    """The new token's secret is on the page this answers with, once: not in a flash
    (the session cookie is signed, not encrypted) nor in a redirect's URL. A token with
    the ``wallet`` scope asks a member with 2FA on for a fresh code first."""
    form = PersonalTokenForm()
    if form.validate_on_submit() and (ask := step_up_for_wallet_token(form.scopes.data)):
        return ask
    return submit(form, lambda: create_personal_token(
                      actor=current_user._get_current_object(), name=form.name.data,
                      scopes=form.scopes.data, days=form.days.data,
                      once_key=form.once_key.data or ""),
                  done=None, answer=lambda new: _settings_page(new_token=new),
                  again=lambda: _settings_page(422, token_form=form.renew_key()))


@bp.post("/settings/tokens/<int:token_id>/revoke", endpoint="revoke_token")
@login_required
def revoke_token_submit(token_id: int):
    token = personal_token_for(current_user, token_id)
    return submit_button(ButtonForm(), lambda: revoke_personal_token(
                             token.id, actor=current_user._get_current_object()),
                         done=f"Revoked “{token.name}”: it no longer works.",
                         to=url_for("accounts.settings", _anchor="api-tokens"))


# --- signed-in devices ------------------------------------------------------------------

@bp.get("/settings/sessions", endpoint="sessions")
@login_required
def sessions_page():
    within = max(current_app.config["PERMANENT_SESSION_LIFETIME"],
                 current_app.config["REMEMBER_COOKIE_DURATION"])
    return render_template("accounts/sessions.html", devices=signed_in_devices(
        current_user.id, current_user.member_session_id, within=within))


@bp.post("/settings/sessions/<int:member_session_id>/end", endpoint="end_session")
@login_required
def end_session_submit(member_session_id: int):
    found = member_session_for(current_user, member_session_id)
    return submit_button(ButtonForm(), lambda: end_member_session(
                             found, actor=current_user._get_current_object()),
                         done="That device is logged out.", to=url_for("accounts.sessions"))


@bp.post("/settings/sessions/end-others", endpoint="end_other_sessions")
@login_required
def end_other_sessions_submit():
    return submit_button(ButtonForm(), lambda: end_other_member_sessions(
                             actor=current_user._get_current_object()),
                         done=lambda n: f"Logged out everywhere else ({n} device"
                                        f"{'' if n == 1 else 's'}).",
                         to=url_for("accounts.sessions"))


# --- two-factor authentication ----------------------------------------------------------

def _two_factor_page(status: int = 200, **forms):
    state = two_factor_status(current_user.id)
    pending = pending_set_up(current_user) if state.is_pending else None
    forms.setdefault("enable_form", EnableTwoFactorForm(formdata=None))
    forms.setdefault("regenerate_form", RegenerateBackupCodesForm(formdata=None))
    forms.setdefault("disable_form", DisableTwoFactorForm(formdata=None))
    # drawn here, as SVG in the page: the secret never goes to a third party's QR service
    qr = Markup(segno.make(pending.uri, error="m").svg_inline(
        scale=5, title="QR code to scan with your authenticator app")) if pending else None
    forms.setdefault("passkey_form", AddPasskeyForm(formdata=None))
    code_form = ConfirmCodeForm(formdata=None, data={
        "next": url_for("accounts.two_factor", _anchor="passkeys")})
    code_form.code.render_kw = {**code_form.code.render_kw, "autofocus": False}
    forms.setdefault("passkey_code_form", code_form)
    return render_template("accounts/two_factor.html", state=state, pending=pending, qr=qr,
                           begin_form=ButtonForm(formdata=None),
                           remove_passkey_form=ButtonForm(formdata=None),
                           passkeys=passkeys_of(current_user.id) if state.is_on else [],
                           code_for_passkey=state.is_on and not code_is_fresh(code_only=True),
                           **forms), status


@bp.get("/settings/two-factor")
@login_required
def two_factor():
    return _two_factor_page()


@bp.post("/settings/two-factor/begin", endpoint="begin_two_factor")
@login_required
def begin_two_factor_submit():
    return submit_button(ButtonForm(), lambda: begin_two_factor(
                             actor=current_user._get_current_object()),
                         done="Scan the QR code with your app, then enter the code it shows.",
                         to=url_for("accounts.two_factor"))


def _backup_codes_page(codes: list[str]):
    """The backup codes, once: on the page answering the POST, never in a flash or URL."""
    return render_template("accounts/backup_codes.html", codes=codes)


@bp.post("/settings/two-factor/enable", endpoint="enable_two_factor")
@login_required
def enable_two_factor_submit():
    form = EnableTwoFactorForm()

    def enable():
        user = current_user._get_current_object()
        codes = enable_two_factor(actor=user, code=form.code.data)
        # every session ended with the token's rotation: this one goes on (as after a
        # password change), having just passed the second factor
        remembered = current_app.config["REMEMBER_COOKIE_NAME"] in request.cookies
        session.clear()
        login_user(user, remember=remembered)
        session.permanent = True
        mark_code_entered()
        return codes

    return submit(form, enable, done="Two-factor authentication is on.",
                  answer=_backup_codes_page,
                  again=lambda: _two_factor_page(422, enable_form=_emptied(form)))


def _emptied(form):
    """A refused code is not shown again: the member types the next one."""
    form.code.data = ""
    return form


@bp.post("/settings/two-factor/backup-codes", endpoint="regenerate_backup_codes")
@login_required
@limiter.limit(lambda: current_app.config["LOGIN_LIMIT_PER_ACCOUNT"],
               key_func=_member_or_address, deduct_when=_failed)
def regenerate_backup_codes_submit():
    form = RegenerateBackupCodesForm()
    return submit(form, lambda: regenerate_backup_codes(
                      actor=current_user._get_current_object(),
                      code=form.code.data),
                  done="New backup codes: the old ones no longer work.",
                  answer=_backup_codes_page,
                  again=lambda: _two_factor_page(422, regenerate_form=_emptied(form)))


@bp.post("/settings/two-factor/disable", endpoint="disable_two_factor")
@login_required
@limiter.limit(lambda: current_app.config["LOGIN_LIMIT_PER_ACCOUNT"],
               key_func=_member_or_address, deduct_when=_failed)
def disable_two_factor_submit():
    form = DisableTwoFactorForm()
    return submit(form, lambda: disable_two_factor(
                      actor=current_user._get_current_object(), password=form.password.data,
                      code=form.code.data),
                  done="Two-factor authentication is off. We sent you an e-mail about it.",
                  then=url_for("accounts.two_factor"),
                  again=lambda: _two_factor_page(422, disable_form=_emptied(form)))


# --- passkeys ---------------------------------------------------------------------------

def _ceremony_answer(ceremony):
    """A ceremony's options for the browser's script; its challenge kept in the session."""
    session[PASSKEY_CEREMONY] = ceremony.token
    return current_app.response_class(ceremony.options, mimetype="application/json")


@bp.post("/settings/two-factor/passkeys/options", endpoint="passkey_registration_options")
@login_required
def passkey_registration_options_answer():
    """The options for ``navigator.credentials.create`` (``static/js/passkeys.js``), once
    a code was given lately (``step_up``)."""
    if not two_factor_status(current_user.id).is_on:
        return jsonify(error="Turn on two-factor authentication with an app first."), 409
    if why := code_needed_for_new_passkey():
        return jsonify(error=why), 403
    return _ceremony_answer(passkey_registration_options(current_user._get_current_object()))


@bp.post("/settings/two-factor/passkeys", endpoint="add_passkey")
@login_required
def add_passkey_submit():
    """Needs a code from the app or a backup code given lately, not a passkey: ``step_up``.
    Asked before the ceremony's challenge is taken out, so it goes through after it."""
    if ask := step_up_for_new_passkey():
        return ask
    form = AddPasskeyForm()
    return submit(form, lambda: add_passkey(
                      actor=current_user._get_current_object(), name=form.name.data,
                      credential=form.credential.data or "",
                      ceremony=session.pop(PASSKEY_CEREMONY, None)),
                  done=lambda key: f"Passkey “{key.name}” added: use it at log-in instead of "
                                   "the code.",
                  then=url_for("accounts.two_factor", _anchor="passkeys"),
                  fields={"passkey": "credential"},
                  again=lambda: _two_factor_page(422, passkey_form=form))


@bp.post("/settings/two-factor/passkeys/<int:passkey_id>/remove", endpoint="remove_passkey")
@login_required
def remove_passkey_submit(passkey_id: int):
    """Needs a second factor entered lately (a code or a passkey): ``step_up``."""
    found = passkey_for(current_user, passkey_id)
    if ask := step_up_for_passkey_removal():
        return ask
    return submit_button(ButtonForm(), lambda: remove_passkey(
                             found.id, actor=current_user._get_current_object()),
                         done=f"Passkey “{found.name}” removed: it no longer logs you in.",
                         to=url_for("accounts.two_factor", _anchor="passkeys"))


@bp.post("/login/passkey/options", endpoint="login_passkey_options")
@limiter.limit(lambda: current_app.config["LOGIN_LIMIT_PER_ADDRESS"])
def login_passkey_options_answer():
    """The options for ``navigator.credentials.get`` at the log-in's second step."""
    if current_user.is_authenticated:
        return redirect(url_for("pages.dashboard"))
    try:
        user = pending_login(_pending().get("token"))
    except OffloadError as e:
        return jsonify(error=str(e)), 400
    return _ceremony_answer(passkey_authentication_options(user))


@bp.post("/two-factor/passkey/options", endpoint="passkey_options")
@login_required
def passkey_options_answer():
    """The options for ``navigator.credentials.get`` on the "re-enter your code" page."""
    return _ceremony_answer(passkey_authentication_options(current_user._get_current_object()))


@bp.route("/two-factor/confirm", methods=["GET", "POST"], endpoint="confirm_code")
@login_required
@limiter.limit(lambda: current_app.config["LOGIN_LIMIT_PER_ACCOUNT"], methods=["POST"],
               key_func=_member_or_address, deduct_when=_failed)
def confirm_code_page():
    """"Re-enter your code": then back to the page (or the POST) it came from."""
    if not two_factor_status(current_user.id).is_on:
        return redirect(url_for("accounts.two_factor"))
    with_passkey = "two_factor-credential" in request.form
    form = _posted(ConfirmCodeForm, not with_passkey, data={"next": request.args.get("next")}
                   if request.method == "GET" else None)
    passkey_form = _posted(PasskeyConfirmForm, with_passkey)
    used = passkey_form if with_passkey else form
    replay = request.form.get("two_factor-replay") == "1"  # a held-back POST to send on
    if used.validate_on_submit():
        member = current_user._get_current_object()
        try:
            if with_passkey:
                check_passkey(member, passkey_form.credential.data,
                              session.pop(PASSKEY_CEREMONY, None))
            else:
                check_code(member, form.code.data)
        except OffloadError as e:
            show_error(used, e, {"passkey": ""})
        else:
            mark_code_entered(by_passkey=with_passkey)
            return send_back(safe_next(used.next.data), replay=replay)
    form.code.data = ""
    next_url = used.next.data or request.args.get("next")
    return render_template("accounts/confirm_code.html", form=form, why=None,
                           replay=replay_fields() if replay else None,
                           **passkey_confirm(next_url, passkey_form if with_passkey else None)
                           ), _status(used)
