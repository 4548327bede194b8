"""Profiles: what members show each other (bio, skills, education, portfolio, documents)."""
