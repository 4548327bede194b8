"""The fragment cache: a template's ``{% cache %}`` block is rendered once per key, and
every key carries the release's prefix."""

from __future__ import annotations

from flask import render_template_string

from offload.core.cache import cache, templates_digest

BLOCK = ("{% cache None, 'sample', row_id|string, version|string %}{{ text }}"
         "{% endcache %}")


def test_a_fragment_is_rendered_once_per_id_and_version(app):
    with app.test_request_context():
        assert render_template_string(BLOCK, row_id=1, version=1, text="first") == "first"
        assert render_template_string(BLOCK, row_id=1, version=1, text="later") == "first"
        assert render_template_string(BLOCK, row_id=1, version=2, text="later") == "later"
        assert render_template_string(BLOCK, row_id=2, version=1, text="other") == "other"


def test_keys_carry_the_release_and_tests_start_empty(app):
    assert app.config["CACHE_KEY_PREFIX"] == f"offload:{templates_digest()}:"
    assert app.config["CACHE_TYPE"] == "SimpleCache"
    cache.set("probe", 1)
    assert cache.get("probe") == 1


def test_each_test_starts_with_an_empty_cache(app):
    assert cache.get("probe") is None
