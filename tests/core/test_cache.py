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


def test_a_list_key_changes_with_any_row_and_with_the_order(app):
    from collections import namedtuple

    from offload.core.cache import list_key

    row = namedtuple("row", "fragment_key")
    a, b = row("1.v1"), row("2.v1")
    assert list_key([a, b]) == list_key([row("1.v1"), row("2.v1")])
    assert len({list_key([a, b]), list_key([b, a]), list_key([a, row("2.v2")]),
                list_key([a]), list_key([row("1.v12")]), list_key([])}) == 6


def test_stitch_puts_the_values_in_at_the_fragments_own_marks(app):
    from markupsafe import Markup

    from offload.core.cache import stitch, stitch_mark

    mark = stitch_mark()
    assert mark != stitch_mark()  # a new one each time: no text can pass for it
    fragment = f"{mark}<li>#{mark}</li><li>{mark}</li>"
    assert stitch(fragment, [3, "<b>"]) == "<li>#3</li><li>&lt;b&gt;</li>"
    assert stitch(fragment, [1, Markup("<b>x</b>")]) == "<li>#1</li><li><b>x</b></li>"
    try:
        stitch(fragment, [1])
    except ValueError:
        pass
    else:
        raise AssertionError("a value short must fail, not shift the rest")
