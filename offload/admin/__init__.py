"""The admin area: every page under ``/admin``, in one blueprint named ``admin``.

Design: the admin is one more entry point over the features, not a feature of its own.
Its routes live here, one small module per subject (dashboard, withdrawals, disputes,
conversations, cases and reports, the invite tree, contact messages), and each calls
the services and queries of the feature it acts on: the rules, the written reason and
the moderation-log entry stay in those services. Features never import this package.
``views.bp`` is what ``create_app`` registers; every route answers 404 to anyone but an
admin (``admin_required``, and ``core.errors`` for the POST-only routes' 405).
"""
