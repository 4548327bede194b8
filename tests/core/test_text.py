from offload.core.text import render_markdown


def test_markdown_is_rendered_and_sanitized():
    html = render_markdown("**bold** <script>alert(1)</script> [x](javascript:alert(1)) "
                           "[ok](https://example.com)")
    assert "<strong>bold</strong>" in html
    assert "<script" not in html and 'href="javascript' not in html
    assert 'href="https://example.com"' in html and 'rel="nofollow' in html


def test_raw_html_is_escaped_not_rendered():
    html = render_markdown('<img src=x onerror="alert(1)">')
    assert "<img" not in html


def test_empty_markdown_is_empty():
    assert render_markdown(None) == "" and render_markdown("") == ""
