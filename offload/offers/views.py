"""Offer pages: making an offer, the offer page (terms, negotiation, the conversation and
the actions of each side), a gig's ranked offers for its poster, and the member's own
offers. The conversation's own routes are in ``offload.conversations``; this page shows it.

An offer is seen by its maker, the gig's poster and admins; everyone else gets 404,
and so do the actions. Refusals from the services come back as messages: next to the
field they name, above the form, or flashed on the offer page.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy import inspect

from offload.accounts.decorators import confirmed_required
from offload.conversations.forms import MessageForm
from offload.conversations.policies import why_cannot_message
from offload.conversations.queries import conversation_page, reading_of, unread_counts
from offload.core.errors import OffloadError
from offload.core.forms import ButtonForm, chosen_state, show_error
from offload.core.submit import submit, submit_button
from offload.gigs.models import GigKind
from offload.gigs.queries import gig_for
from offload.projects.queries import project_of_gig
from offload.wallet.queries import wallet_summary

from . import negotiation, services
from .forms import DeclineForm, MyOffersFilterForm, OfferForm, ProposalForm
from .models import OfferState
from .policies import (
    is_party,
    why_cannot_answer_award,
    why_cannot_award,
    why_cannot_decline,
    why_cannot_negotiate,
    why_cannot_offer,
    why_cannot_shortlist,
    why_cannot_take_back_award,
    why_cannot_withdraw,
)
from .queries import (
    live_offer_count,
    live_offer_of,
    my_offers,
    offer_for,
    offer_page,
    portfolio_choices,
    proposal_for,
    ranked_offers_page,
)
from .ranking import places_of

bp = Blueprint("offers", __name__)


# --- making an offer ----------------------------------------------------------------------

@bp.route("/gigs/<int:gig_id>/offers/new", methods=["GET", "POST"])
@confirmed_required
def new(gig_id: int):
    gig = gig_for(current_user, gig_id)
    mine = live_offer_of(gig.id, current_user.id)
    if mine is not None:
        # one live offer per member and gig: show theirs rather than a form the service
        # would refuse (also what a second click on "Send the offer" lands on)
        flash("You already have an offer on this gig: here it is. A member has one live "
              "offer per gig; to make a new one, withdraw this one first.", "info")
        return redirect(url_for(".show", offer_id=mine.id))
    form = OfferForm() if request.method == "POST" else OfferForm(formdata=None)
    member_id = current_user.id
    form.set_choices(is_task=gig.kind == GigKind.TASK,
                     portfolio=lambda: portfolio_choices(member_id))
    fee_problem = False
    if form.validate_on_submit():
        try:
            offer = services.make_offer(gig, actor=current_user, **form.terms())
        except services.FeeNotCovered as e:
            form.form_errors.append(str(e))
            fee_problem = True
        except OffloadError as e:
            show_error(form, e)
        else:
            flash("Your offer is sent; the poster is told.", "success")
            # its id from the identity map: reading offer.id would reload the committed row
            return redirect(url_for(".show", offer_id=inspect(offer).identity[0]))
    # re-read: a failed service call rolled back what was loaded
    gig = gig_for(current_user, gig_id)
    return render_template(
        "offers/new.html", gig=gig, form=form, cannot_offer=why_cannot_offer(gig, current_user),
        summary=wallet_summary(current_user.id), fee_problem=fee_problem,
        prepaid_fee=services.fee_for("prepaid"), postpaid_fee=services.fee_for("postpaid"),
    ), 422 if form.errors or form.form_errors else 200


# --- the offer page -----------------------------------------------------------------------

@bp.get("/offers/<int:offer_id>")
@login_required
def show(offer_id: int):
    return _render_show(offer_id)


@bp.post("/offers/<int:offer_id>/withdraw")
@login_required
def withdraw(offer_id: int):
    offer = offer_for(current_user, offer_id)
    return _button(offer_id, lambda: services.withdraw_offer(offer, actor=current_user),
                   "Your offer is withdrawn.")


@bp.post("/offers/<int:offer_id>/shortlist")
@login_required
def shortlist(offer_id: int):
    offer = offer_for(current_user, offer_id)
    on = request.args.get("on", "1") != "0"
    return _button(offer_id, lambda: services.shortlist_offer(
        offer, actor=current_user, shortlisted=on),
        "The offer is on your shortlist." if on else "The offer is off your shortlist.")


@bp.post("/offers/<int:offer_id>/decline")
@login_required
def decline(offer_id: int):
    offer = offer_for(current_user, offer_id)
    form = DeclineForm(prefix="decline")
    return _button(offer_id, lambda: services.decline_offer(
        offer, actor=current_user, reason=form.reason.data),
        "The offer is declined; its maker is told.", form=form)


@bp.post("/offers/<int:offer_id>/award")
@login_required
def award(offer_id: int):
    offer = offer_for(current_user, offer_id)
    return _button(offer_id, lambda: services.award_offer(offer, actor=current_user),
                   "You chose this offer. Its maker is asked to accept.")


@bp.post("/offers/<int:offer_id>/take-back-award")
@login_required
def take_back_award(offer_id: int):
    offer = offer_for(current_user, offer_id)
    return _button(offer_id, lambda: services.take_back_award(offer, actor=current_user),
                   "You took the award back; the gig is open for offers again.")


@bp.post("/offers/<int:offer_id>/accept-award")
@login_required
def accept_award(offer_id: int):
    offer = offer_for(current_user, offer_id)
    return _button(offer_id, lambda: services.accept_award(offer, actor=current_user),
                   "You accepted the award: the project has started.")


@bp.post("/offers/<int:offer_id>/decline-award")
@login_required
def decline_award(offer_id: int):
    offer = offer_for(current_user, offer_id)
    return _button(offer_id, lambda: services.decline_award(offer, actor=current_user),
                   "You turned the award down; the gig is open again.")


@bp.post("/offers/<int:offer_id>/proposals")
@login_required
def propose(offer_id: int):
    offer = offer_for(current_user, offer_id)
    form = ProposalForm(prefix="propose")
    return submit(form, lambda: negotiation.propose_terms(offer, actor=current_user,
                                                          **form.terms()),
                  done="Your proposal is sent; the other side can accept or counter it.",
                  then=url_for(".show", offer_id=offer_id, _anchor="negotiation"),
                  again=lambda: _render_show(offer_id, propose_form=form))


@bp.post("/offers/proposals/<int:proposal_id>/accept")
@login_required
def accept_proposal(proposal_id: int):
    proposal = proposal_for(current_user, proposal_id)
    return _button(proposal.offer_id, lambda: negotiation.accept_proposal(
        proposal, actor=current_user), "You agreed to the new terms.", anchor="negotiation")


@bp.post("/offers/proposals/<int:proposal_id>/decline")
@login_required
def decline_proposal(proposal_id: int):
    proposal = proposal_for(current_user, proposal_id)
    return _button(proposal.offer_id, lambda: negotiation.decline_proposal(
        proposal, actor=current_user), "You kept the current terms.", anchor="negotiation")


@bp.post("/offers/proposals/<int:proposal_id>/counter")
@login_required
def counter_proposal(proposal_id: int):
    proposal = proposal_for(current_user, proposal_id)
    form = ProposalForm(prefix="counter")
    return submit(form, lambda: negotiation.counter_proposal(proposal, actor=current_user,
                                                             **form.terms()),
                  done="Your counter-proposal is sent.",
                  then=url_for(".show", offer_id=proposal.offer_id, _anchor="negotiation"),
                  again=lambda: _render_show(proposal.offer_id, counter_form=form))


# --- lists --------------------------------------------------------------------------------

@bp.get("/gigs/<int:gig_id>/offers")
@login_required
def for_gig(gig_id: int):
    gig = gig_for(current_user, gig_id)
    if gig.poster_id != current_user.id and not current_user.is_admin:
        abort(404)
    page = ranked_offers_page(gig.id, request.args.get("after"))
    return render_template("offers/for_gig.html", gig=gig, page=page,
                           places=places_of([o.id for o in page.items]),
                           unread=(unread_counts(current_user.id, [o.id for o in page.items])
                                   if gig.poster_id == current_user.id else {}),
                           live_count=live_offer_count(gig.id))


@bp.get("/my/offers")
@login_required
def mine():
    form = MyOffersFilterForm(request.args)
    state = chosen_state(form.state, OfferState)
    page, places = my_offers(current_user.id, state, request.args.get("before"))
    return render_template("offers/mine.html", page=page, places=places, form=form,
                           unread=unread_counts(current_user.id, [o.id for o in page.items]),
                           state=state), 422 if form.state.errors else 200


# --- helpers ------------------------------------------------------------------------------

def _button(offer_id: int, call: Callable[[], object], done: str, *,
            form: FlaskForm | None = None, anchor: str | None = None):
    """A button of the offer page: its service call, the outcome flashed, and back to
    the page either way."""
    return submit_button(form or ButtonForm(), call, done=done,
                         to=url_for(".show", offer_id=offer_id, _anchor=anchor))


def _render_show(offer_id: int, **forms: FlaskForm):
    """The offer page with the given (submitted) forms and fresh ones for the rest.

    Read after any failed service call: its rollback expired what was loaded before.
    """
    page = offer_page(offer_id, current_user)
    if page is None:
        abort(404)
    messages_page = conversation_page(offer_id, request.args.get("before"))
    offer, gig, user = page.offer, page.offer.gig, current_user
    status = 422 if any(f.errors or f.form_errors for f in forms.values()) else 200
    pending = page.pending
    return render_template(
        "offers/show.html", page=page, offer=offer, gig=gig,
        messages=list(reversed(messages_page.items)), messages_page=messages_page,
        is_poster=user.id == gig.poster_id, is_offerer=user.id == offer.member_id,
        can_withdraw=why_cannot_withdraw(offer, user) is None,
        can_shortlist=why_cannot_shortlist(offer, gig, user) is None,
        can_decline=why_cannot_decline(offer, gig, user) is None,
        can_award=why_cannot_award(offer, gig, user) is None,
        can_answer_award=why_cannot_answer_award(offer, user) is None,
        can_take_back_award=why_cannot_take_back_award(offer, gig, user) is None,
        can_negotiate=why_cannot_negotiate(offer, gig, user) is None,
        can_answer_pending=pending is not None and pending.proposer_id != user.id
        and why_cannot_negotiate(offer, gig, user) is None,
        why_cannot_message=why_cannot_message(offer, gig, user),
        propose_form=forms.get("propose_form") or ProposalForm(prefix="propose", formdata=None),
        counter_form=forms.get("counter_form") or ProposalForm(prefix="counter", formdata=None),
        message_form=forms.get("message_form") or MessageForm(prefix="message", formdata=None),
        decline_form=DeclineForm(prefix="decline", formdata=None),
        button_form=ButtonForm(formdata=None),
        project_id=project_of_gig(gig) if offer.state == OfferState.ACCEPTED else None,
        reading=reading_of(offer.id, user.id) if is_party(offer, gig, user) else None,
    ), status
