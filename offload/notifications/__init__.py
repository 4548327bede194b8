"""Notifications, preferences and the e-mail outbox; the design note opens models.py."""
