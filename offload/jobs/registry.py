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
from offload.cases.services import open_overdue_commission_cases
from offload.commissions.services import (
    accept_lapsed_invoice_reviews,
    flag_overdue_commissions,
    remind_due_commissions,
)
from offload.gigs.services import expire_gigs
from offload.invites.services import expire_invites
from offload.notifications.services import deliver_outbox
from offload.projects.services import flag_stalling_projects
from offload.reviews.services import publish_due_reviews


@dataclass(frozen=True)
class Job:
    name: str
    run: Callable[[], str]  # does the work, returns a one-line summary
    # how often the worker runs it; None: a mail job, run whenever there may be mail
    every: timedelta | None = None

    @property
    def is_periodic(self) -> bool:
        return self.every is not None


def _deliver_outbox() -> str:
    return str(deliver_outbox())


def _resolve_password_resets() -> str:
    return f"queued {resolve_password_resets().queued} password reset mails"


def _expire_invites() -> str:
    return f"expired {expire_invites()} invites"


def _expire_gigs() -> str:
    return f"expired {expire_gigs()} gigs"


def _remind_due_commissions() -> str:
    return f"reminded {remind_due_commissions()} performers of due commissions"


def _flag_overdue_commissions() -> str:
    return f"flagged {flag_overdue_commissions()} overdue commissions"


def _open_overdue_commission_cases() -> str:
    return f"opened {open_overdue_commission_cases()} cases for overdue commissions"


def _accept_lapsed_invoice_reviews() -> str:
    return f"accepted {accept_lapsed_invoice_reviews()} invoiced amounts left unreviewed"


def _publish_due_reviews() -> str:
    return f"published {publish_due_reviews()} reviews whose window closed"


def _send_instant_alerts() -> str:
    return f"sent {send_instant_alerts()} keyword alerts"


def _send_daily_digests() -> str:
    return f"sent {send_daily_digests()} daily alert digests"


def _flag_stalling_projects() -> str:
    return f"told the referrers of {flag_stalling_projects()} stalling projects"


MINUTE = timedelta(minutes=1)

# Each job picks up whatever is due, so a longer interval only delays it; most run
# every minute, as cron ran them. The mail jobs run last, so that mail written by the
# jobs before them goes out in the same run.
JOBS: tuple[Job, ...] = (
    Job("expire_invites", _expire_invites, MINUTE),
    Job("expire_gigs", _expire_gigs, MINUTE),
    Job("flag_stalling_projects", _flag_stalling_projects, MINUTE),
    Job("remind_due_commissions", _remind_due_commissions, MINUTE),
    Job("flag_overdue_commissions", _flag_overdue_commissions, MINUTE),
    Job("open_overdue_commission_cases", _open_overdue_commission_cases, MINUTE),
    Job("accept_lapsed_invoice_reviews", _accept_lapsed_invoice_reviews, MINUTE),
    Job("publish_due_reviews", _publish_due_reviews, MINUTE),
    Job("send_instant_alerts", _send_instant_alerts, MINUTE),
    # works once a day (from ALERT_DIGEST_HOUR), each alert claimed for its day
    Job("send_daily_digests", _send_daily_digests, 5 * MINUTE),
    Job("resolve_password_resets", _resolve_password_resets),
    Job("deliver_outbox", _deliver_outbox),
)
