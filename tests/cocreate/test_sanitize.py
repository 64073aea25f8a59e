from __future__ import annotations

import pytest

from cocreate.sanitize import clean_html, clean_text

VECTORS = [
    "<script>alert(1)</script>",
    '<img src=x onerror="alert(1)">',
    '<a href="javascript:alert(1)">x</a>',
    '<a href="JaVaScRiPt:alert(1)">x</a>',
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">x</a>',
    '<p style="background:url(javascript:alert(1))">x</p>',
    '<div style="width: expression(alert(1))">x</div>',
    "<svg><script>alert(1)</script></svg>",
    '<svg onload="alert(1)"></svg>',
    "<iframe src='https://evil.example'></iframe>",
    "<scr<script>ipt>alert(1)</script>",
    '<p onclick="alert(1)">click</p>',
    "<math><mi xlink:href='javascript:alert(1)'>x</mi></math>",
    "<<script>script>alert(1)<</script>/script>",
    "<object data='x.swf'></object>",
    "<style>body{display:none}</style>",
]


@pytest.mark.parametrize("vector", VECTORS)
def test_no_vector_survives_the_html_policy(vector: str) -> None:
    cleaned = str(clean_html(vector)).lower()
    for forbidden in (
        "<script",
        "onerror",
        "onload",
        "onclick",
        "javascript:",
        "data:text",
        "<iframe",
        "<svg",
        "<object",
        "<style",
        "expression(",
        "style=",
    ):
        assert forbidden not in cleaned


@pytest.mark.parametrize("vector", VECTORS)
def test_no_tag_survives_plain_text_cleaning(vector: str) -> None:
    cleaned = clean_text(vector).lower()
    assert "<script" not in cleaned
    assert "<img" not in cleaned
    assert "<svg" not in cleaned


def test_allowed_markup_is_kept() -> None:
    html = "<p>Hello <strong>world</strong> <em>now</em></p><ul><li>one</li></ul>"
    assert str(clean_html(html)) == html


def test_links_get_nofollow_noopener() -> None:
    cleaned = str(clean_html('<a href="https://example.com/x">x</a>'))
    assert cleaned == '<a href="https://example.com/x" rel="nofollow noopener">x</a>'


def test_bare_urls_become_safe_links() -> None:
    cleaned = str(clean_html("<p>see https://example.com</p>"))
    assert 'href="https://example.com"' in cleaned
    assert 'rel="nofollow noopener"' in cleaned


def test_entity_encoded_tags_do_not_come_back_in_plain_text() -> None:
    assert "<script" not in clean_text("&lt;script&gt;alert(1)&lt;/script&gt;")


def test_plain_text_keeps_ampersands_readable() -> None:
    assert clean_text("R&D <b>team</b>") == "R&D team"
