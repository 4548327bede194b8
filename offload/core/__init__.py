"""Shared building blocks: database, errors, tokens, text, pagination, uploads.

Nothing in here imports a feature package.
"""
