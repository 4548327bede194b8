"""Periodic jobs, run by cron through ``flask jobs run`` (every minute).

Jobs are entry points, like views: each calls one service that does its own
transactions, and reports what it did in one line. The list of jobs is data in
``registry.py``; adding a job is adding a line there, not registering a decorator.
They call the services of ``invites``, ``gigs``, ``projects``, ``commissions``,
``cases``, ``reviews``, ``alerts`` and ``notifications`` (mail delivery, last);
nothing but ``create_app`` imports this package.
"""
