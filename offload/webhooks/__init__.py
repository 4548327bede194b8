"""Webhooks: signed HTTP POSTs to a member's (or, set by an admin, the whole site's)
endpoints when something happens to them.

Owns ``WebhookEndpoint`` (a URL, the event types it wants, its signing secret),
``WebhookDelivery`` (one event for one endpoint: the outbox row) and
``WebhookAttempt`` (the delivery log), the Webhooks settings page and its admin pages.
Calls ``notifications`` (the owner's notice when an endpoint is turned off; the worker's
wake-up), ``moderation`` (admins' site-wide endpoints leave an entry with a reason) and
``accounts``. Called by ``notifications.notify()`` through the listener ``create_app``
installs (``enqueue_webhooks``: rows in the notifying transaction), by
``cases.suspension`` (``disable_member_webhooks``: a suspended member's endpoints go
off) and by the jobs (``deliver_webhooks``: the HTTP calls, after commit, outside any
transaction, through ``sending`` to the address ``destinations`` checked).

Secrets are stored in the clear, by design: signing needs the secret back, so it
cannot be hashed as an API token is.
"""
