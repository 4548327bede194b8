"""The API's endpoints, one module per area of the site; ``views.py`` imports each
(listed there: no discovery), which adds its routes to the blueprint."""
