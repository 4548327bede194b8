"""The JSON API at /api/v1: members' own tools reach Offload with a personal access token.

Owns: the ``api`` blueprint and how an endpoint is written (``blueprint.py``), the
endpoints, one module per area (``endpoints/``), mounting it all with the OpenAPI
document and its docs page (``views.py``), bearer-token authentication and scopes
(``auth.py``), problem+json errors (``problems.py``), cursor pages with a ``Link``
header (``paging.py``), what the writes share (``writes.py``: the thing loaded before
the body is read, a 201's Location), the response and query schemas the document is
generated from (``schemas/``), and the docs page's files (``static/``: Swagger UI, vendored from
npm's swagger-ui-dist, and its start script).
Calls: other packages' queries (the read models the pages render) and services, with
the token's member as the actor; the tokens themselves are ``accounts``' (model,
services, queries), since a password change and a suspension revoke them.
Called by: nobody but ``create_app`` (``init_api``); it is an entry point, like views.

The library is flask-smorest (0.47), chosen over APIFlask and spectree:
- It is an extension of a plain ``Flask`` app. APIFlask generates its document from the
  application object (``APIFlask`` replacing ``Flask`` in ``create_app``, its JSON
  error handlers and settings app-wide); here the API is one blueprint among twenty and
  the pages must not change.
- Its schemas are marshmallow (with webargs parsing query strings and bodies, and their
  422 messages per field), and apispec writes OpenAPI 3.1 from them. Spectree's pydantic
  would be a second validation stack beside WTForms, and its Flask support is thinner.
- It leaves what we own to us: error handlers (``OffloadApi`` turns its own off, so
  ``core.errors`` answers with problem+json here and HTML pages elsewhere), and the
  document's URL and docs page (served from this package, not a CDN).
"""
