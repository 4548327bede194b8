"""Periodic jobs and the worker: ``flask jobs worker`` (``worker``) sends mail as soon
as it is committed and runs each job on its interval under a claim (``runner``);
``flask jobs run`` runs every job once, for cron.

Jobs are entry points, like views: each calls one service that does its own
transactions, and reports what it did in one line. The list of jobs is data in
``registry.py``; adding a job is adding a line there, not registering a decorator.
They call the services of ``invites``, ``gigs``, ``projects``, ``commissions``,
``cases``, ``reviews``, ``alerts``, ``exports`` (building and expiring data
exports), ``accounts`` (password reset requests) and
``notifications`` (mail delivery) and ``webhooks`` (their delivery);
nothing but ``create_app`` imports this package.
"""
