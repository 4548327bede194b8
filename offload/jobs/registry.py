"""The explicit list of jobs, in order, with how often each runs.

``flask jobs worker`` runs each periodic job when its interval has passed since the
last run anywhere (``JobRun``), and the mail jobs (``every=None``) whenever there may
be mail work: on every wake-up and after the periodic jobs. ``flask jobs run`` (cron)
runs them all once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from offload.accounts.services import resolve_password_resets
from offload.alerts.services import send_daily_digests, send_instant_alerts
from offload.cases.services import open_overdue_commission_cases, open_returned_withdrawal_case
from offload.commissions.services import (
    accept_lapsed_invoice_reviews,
    flag_overdue_commissions,
    remind_due_commissions,
)
from offload.exports.services import build_due_exports, expire_exports
from offload.gigs.services import expire_gigs
from offload.invites.services import expire_invites
from offload.notifications.services import deliver_outbox
from offload.projects.services import flag_stalling_projects
from offload.reviews.services import publish_due_reviews
from offload.wallet.services import reverse_returning_withdrawals
from offload.webhooks.services import deliver_webhooks


@dataclass(frozen=True)
class Job:
    name: str
    run: Callable[[], str]  # does the work, returns a one-line summary
    # how often the worker runs it; None: a mail job, run whenever there may be mail
    every: timedelta | None = None

    @property
    def is_periodic(self) -> bool:
        return self.every is not None


def _counted(work: Callable[[], int], summary: str) -> Callable[[], str]:
    """A job that runs ``work`` and says how many it handled: ``summary`` with ``{}``."""
    return lambda: summary.format(work())


MINUTE = timedelta(minutes=1)

# Each job picks up whatever is due, so a longer interval only delays it; most run
# every minute, as cron ran them. The mail jobs run last, so that mail written by the
# jobs before them goes out in the same run.
JOBS: tuple[Job, ...] = (
    Job("expire_invites", _counted(expire_invites, "expired {} invites"), MINUTE),
    Job("expire_gigs", _counted(expire_gigs, "expired {} gigs"), MINUTE),
    Job("flag_stalling_projects", _counted(
        flag_stalling_projects, "told the referrers of {} stalling projects"), MINUTE),
    Job("remind_due_commissions", _counted(
        remind_due_commissions, "reminded {} performers of due commissions"), MINUTE),
    Job("flag_overdue_commissions", _counted(
        flag_overdue_commissions, "flagged {} overdue commissions"), MINUTE),
    Job("open_overdue_commission_cases", _counted(
        open_overdue_commission_cases, "opened {} cases for overdue commissions"), MINUTE),
    Job("accept_lapsed_invoice_reviews", _counted(
        accept_lapsed_invoice_reviews, "accepted {} invoiced amounts left unreviewed"),
        MINUTE),
    Job("publish_due_reviews", _counted(
        publish_due_reviews, "published {} reviews whose window closed"), MINUTE),
    Job("send_instant_alerts", _counted(send_instant_alerts, "sent {} keyword alerts"),
        MINUTE),
    # works once a day (from ALERT_DIGEST_HOUR), each alert claimed for its day
    Job("send_daily_digests", _counted(send_daily_digests, "sent {} daily alert digests"),
        5 * MINUTE),
    Job("reverse_returning_withdrawals", _counted(
        lambda: reverse_returning_withdrawals(then=open_returned_withdrawal_case),
        "returned {} withdrawals whose payout failed"), MINUTE),
    Job("build_exports", _counted(build_due_exports, "built {} data exports"), MINUTE),
    Job("expire_exports", _counted(expire_exports, "expired {} data exports"), MINUTE),
    Job("resolve_password_resets", _counted(lambda: resolve_password_resets().queued,
                                            "queued {} password reset mails")),
    Job("deliver_outbox", _counted(deliver_outbox, "{}")),
    Job("deliver_webhooks", _counted(deliver_webhooks, "{}")),
)
