"""The shapes of the API's answers, bodies and query strings (marshmallow), from which the
OpenAPI document is generated: one module per area beside ``endpoints/``, and
``common.py`` for what every area uses (the base ``Schema``, problems, pages of items,
cursor queries, a member's name). Each response schema dumps a read model the pages
render (``SignedIn``, ``GigListItem``, ``GigDetail``, ``QuestionItem``, ...) as it is:
attributes are read by name, nothing is loaded for the API alone.
"""
