"""The WSGI entry point: ``gunicorn wsgi:app``."""

from offload import create_app

app = create_app()
