"""Exports: a member takes away everything the site keeps about them, as one zip.

The member asks on Settings → "Export my data" (their password again); that writes a
``DataExport`` row and nothing else. The job worker builds the archive
(``build_due_exports``, a periodic job): each export is claimed with a guarded UPDATE
(requested → building, with a lease), so two workers never build one twice, and a
worker that died mid-build leaves it to be claimed again when its lease ends. The
archive (``builder``) is written under ``UPLOAD_FOLDER/exports/`` from read models
(``queries``): only what the member sees on the site, never another member's e-mail
address. When it is ready the member is mailed (through the outbox) a link with a
random token, stored hashed, that expires after EXPORT_LINK_HOURS; the download also
needs the owner logged in, and that link is the only way to the zip (the page can mail
a new one, which replaces the old token: ``resend_export_link``). A member keeps one
zip: the one becoming ready expires their earlier ones. ``expire_exports`` (periodic)
deletes the zips past that and marks them expired; ``erase_member_exports`` is for
account deletion.

Owns ``data_exports``. Reads ``accounts``, ``profiles``, ``gigs``, ``offers``,
``projects``, ``milestones``, ``conversations``, ``reviews``, ``notifications``,
``invites`` and ``wallet``; writes mail through ``notifications``. Called by its
settings page and by the jobs.
"""
