"""Public landing page and the member dashboard."""
