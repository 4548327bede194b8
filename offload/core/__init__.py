"""Shared building blocks: the database and ``atomic()`` transactions, errors,
extensions, form helpers, images, logs, the mailer, money, pagination, routing,
security headers, templating, text (markdown), tokens, uploads, and ``links``
(site paths and e-mail URLs built from endpoint names).

Nothing in here imports a feature package; every feature imports from here.
"""
