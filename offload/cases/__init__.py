"""Accountability: cases, the hook, reports and suspensions."""
