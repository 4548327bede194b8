"""Accountability: cases, the hook, reports and suspensions.

Owns ``Case`` (opened by an admin, from a member's report, or by the system for an
overdue commission), its evidence and resolution (cleared, warned, suspended),
``Report``, and the hook: while a case is open its subject and their inviter can't
invite, post gigs or make offers (``hook.why_on_the_hook``, which the policies of
``gigs``, ``invites`` and ``offers`` ask). A suspension closes what the member had
open (gigs, offers, invites) and ends their sessions; a contested invoice
(``invoices``) opens a case whose resolution may correct the commission through
``commissions``. Every admin decision writes to ``moderation``; members are told
through ``notifications``. Called by the views, the job opening overdue-commission
cases, and the project page (contesting an invoice).
"""
