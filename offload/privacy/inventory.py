"""What deleting an account erases and what it keeps, column by column.

The delete page and README say these lists in words (each key below is a line of
"Everything we erase" or "What we keep"), and ``tests/privacy/test_inventory.py`` holds
the code to them: every String or Text column of every table with a foreign key to
``users``, of every table one foreign key further (a gig's client details and
attachments, a message's attachments, a project's milestones and files, a webhook's
deliveries), and of ``password_reset_requests`` (tied to the member by their address
alone) must be in ``ERASED``, ``KEPT`` or ``NOT_PERSONAL``, and after a deletion no
``ERASED`` column of a row that belongs to the member holds anything but a blank or the
placeholder. A column added later without a decision fails that test.

``table.*`` stands for every column of a table whose rows are deleted.
"""

from __future__ import annotations

ERASED: dict[str, tuple[str, ...]] = {
    "Your name, username, e-mail address (and one waiting to be confirmed), "
    "organization and password: replaced by “Deleted member #id” and an address "
    "that can't receive mail": (
        "users.display_name", "users.username", "users.email", "users.pending_email",
        "users.organization_name", "users.password_hash"),
    "Your profile: headline, bio, location, time zone, photo, skills, education, "
    "portfolio and documents, with their files": (
        "users.time_zone", "profiles.*", "member_skills.*", "education_entries.*",
        "portfolio_items.*", "documents.*"),
    "Every way in: API tokens, the feed link, two-factor set-up, backup codes and "
    "passkeys, webhooks": (
        "personal_tokens.*", "feed_tokens.*", "two_factors.*", "backup_codes.*",
        "passkeys.*", "webhook_endpoints.*", "webhook_deliveries.*", "webhook_attempts.*"),
    "A password reset you asked for and we haven't answered yet": (
        "password_reset_requests.*",),
    "Your data exports and their zips": ("data_exports.*",),
    "Your signed-in devices: browsers, systems and addresses": ("member_sessions.*",),
    "Your alerts, notifications and notification settings, and the e-mails we sent "
    "you": (
        "alerts.*", "notifications.*", "notification_preferences.*", "outbox_emails.*"),
    "E-mail addresses on invites: yours, on the one that brought you in and any other "
    "sent to it, and the addresses on the invites you sent": ("invites.email",),
    "Your referral clients' names, contacts and notes": ("gig_client_details.*",),
    # gigs.title, description and skills_text, on drafts only (published gigs: KEPT)
    "The gigs you drafted and never published: their text and files": (),
    "The bank details you gave for withdrawals": ("withdrawals.payout_details",),
    "Your name and address on messages to the admins": (
        "contact_messages.name", "contact_messages.email"),
}

KEPT: dict[str, tuple[str, ...]] = {
    "Payments in the ledger and their references at Stripe, including your payout "
    "account's id there (the money's trail, which the ledger check needs)": (
        "transfers.memo", "deposits.provider_reference", "deposits.payment_reference",
        "withdrawals.transfer_reference", "withdrawals.reason", "withdrawals.send_error",
        "chargebacks.provider_reference", "chargebacks.reason",
        "payout_accounts.account_reference", "commissions.invoice_reason",
        "commissions.contest_statement"),
    "Your published gigs, offers and what was said on them: messages, questions and answers, "
    "proposals, milestones, timelines and disputes, and the files attached to them with "
    "their names, as evidence for the other members": (
        "gigs.title", "gigs.description", "gigs.skills_text", "gigs.cancel_reason",
        "gig_attachments.original_name", "offer_message_attachments.original_name",
        "project_event_files.original_name", "milestones.title", "milestones.delivery_note",
        "milestones.revision_note",
        "offers.cover_letter", "offers.decline_reason", "offer_messages.body",
        "offer_proposals.note", "price_proposals.reason", "project_events.note",
        "gig_questions.body", "gig_questions.answer", "disputes.statement",
        "disputes.reply", "disputes.reason"),
    "Reviews you wrote and received, and replies": (
        "reviews.body", "review_replies.body"),
    "Who invited whom, and why they vouched": (
        "invites.vouch_note", "invite_edge_changes.reason"),
    "The moderation record: cases, reports, the public log, and what you wrote to the "
    "admins and their answers": (
        "cases.summary", "cases.resolution_reason", "case_evidence.note",
        "member_reports.body", "member_reports.handled_reason", "moderation_log.reason",
        "contact_messages.subject", "contact_messages.body", "contact_messages.reply"),
    "Skills you added to the shared list": ("skills.name", "skills.slug"),
    # queued for no member (the outbox rows that were theirs are gone)
    "The last e-mail, confirming the deletion, in our log of mail sent, with your old "
    "address": (),
}

# states, kinds, currencies, hashes and keys: they say nothing about who the member is
NOT_PERSONAL: frozenset[str] = frozenset({
    "users.account_type", "users.work_role", "users.session_token",
    "cases.kind", "cases.state", "cases.source", "cases.resolution", "case_evidence.kind",
    "chargebacks.kind", "chargebacks.provider", "chargebacks.state",
    "commissions.currency", "commissions.state", "commissions.batch_id",
    "commissions.review_state", "contact_messages.state",
    "deposits.provider", "deposits.redirect_url", "deposits.state",
    "disputes.outcome", "gigs.kind", "gigs.category", "gigs.currency", "gigs.state",
    "idempotency_keys.key", "idempotency_keys.fingerprint", "idempotency_keys.batch_id",
    "idempotency_keys.outcome", "invites.token_hash", "invites.state",
    "ledger_accounts.kind", "ledger_accounts.currency", "member_reports.state",
    "moderation_log.action", "moderation_log.subject_type", "offer_proposals.state",
    "offers.state", "offers.fee_kind", "offers.closed_reason",
    "payout_accounts.provider", "price_proposals.state", "project_events.kind",
    "projects.kind", "projects.state", "projects.currency", "transfers.batch_id",
    "transfers.currency", "transfers.kind", "transfers.state", "transfers.cause_type",
    "withdrawals.state", "withdrawals.send_failure", "milestones.state",
    # files' generated names and their types (their original names are above)
    "gig_attachments.stored_name", "gig_attachments.content_type",
    "offer_message_attachments.stored_name", "offer_message_attachments.content_type",
    "project_event_files.stored_name", "project_event_files.content_type",
})


def erased_columns() -> set[str]:
    return {column for columns in ERASED.values() for column in columns}


def kept_columns() -> set[str]:
    return {column for columns in KEPT.values() for column in columns}
