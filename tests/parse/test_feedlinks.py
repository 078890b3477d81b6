"""A page's feeds from its `<link rel="alternate">` elements: resolved, the first of each kind
first, nothing but RSS, Atom and JSON Feed, and never a crash on any markup."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ingest.parse.feedlinks import feed_links

pytestmark = pytest.mark.timeout(30)

PAGE = "https://site.example/blog/post/"

CASES = [
    (  # WordPress: the posts feed, then the comments feed, both RSS
        '<html><head><link rel="alternate" type="application/rss+xml" title="Site &raquo; Feed" '
        'href="https://site.example/feed/"><link rel="alternate" type="application/rss+xml" '
        'title="Site &raquo; Comments Feed" href="https://site.example/comments/feed/"></head>',
        [("https://site.example/feed/", "RSS", "Site » Feed"),
         ("https://site.example/comments/feed/", "RSS", "Site » Comments Feed")],
    ),
    (  # relative hrefs, resolved against the page
        '<!DOCTYPE html><html><head><link rel="alternate" type="application/atom+xml" '
        'href="../atom.xml"><link rel=alternate type=application/rss+xml href=/rss.xml>',
        [("https://site.example/blog/atom.xml", "Atom", ""),
         ("https://site.example/rss.xml", "RSS", "")],
    ),
    (  # <base href> moves the base
        '<head><base href="https://cdn.example/x/"><link rel="alternate" '
        'type="application/feed+json" href="feed.json"></head>',
        [("https://cdn.example/x/feed.json", "JSON Feed", "")],
    ),
    (  # the first of each kind leads; the rest keep their order; repeats dropped
        "<head>"
        '<link rel="alternate" type="application/rss+xml" href="/a.rss">'
        '<link rel="alternate" type="application/rss+xml" href="/b.rss">'
        '<link rel="alternate" type="application/atom+xml" href="/a.atom">'
        '<link rel="alternate" type="application/rss+xml" href="/a.rss#again">'
        '<link rel="alternate" type="application/feed+json" href="/a.json">'
        "</head>",
        [("https://site.example/a.rss", "RSS", ""), ("https://site.example/a.atom", "Atom", ""),
         ("https://site.example/a.json", "JSON Feed", ""),
         ("https://site.example/b.rss", "RSS", "")],
    ),
    (  # case, several rel tokens, a charset parameter on the type
        '<HEAD><LINK REL="Alternate Feed" TYPE="Application/RSS+XML; charset=utf-8" '
        'HREF="/upper.xml"></HEAD>',
        [("https://site.example/upper.xml", "RSS", "")],
    ),
    (  # not feeds: another rel, another type, a javascript: href, an empty href
        '<head><link rel="stylesheet" type="text/css" href="/s.css">'
        '<link rel="alternate" hreflang="de" href="/de/">'
        '<link rel="alternate" type="application/rss+xml" href="javascript:alert(1)">'
        '<link rel="alternate" type="application/rss+xml" href="">'
        '<link rel="icon" type="application/rss+xml" href="/icon.xml"></head>',
        [],
    ),
    (  # links in the body are not the page's feeds (a post quoting another site's markup)
        '<html><head><title>x</title></head><body><link rel="alternate" '
        'type="application/rss+xml" href="/in-body.xml"></body></html>',
        [],
    ),
    (  # no <head> element at all: links before the body still count
        '<link rel="alternate" type="application/rss+xml" href="//other.example/feed">'
        "<p>text</p>",
        [("https://other.example/feed", "RSS", "")],
    ),
]  # fmt: skip


@pytest.mark.parametrize(("html", "expected"), CASES)
def test_feed_links(html: str, expected: list[tuple[str, str, str]]) -> None:
    assert [(link.url, link.kind, link.title) for link in feed_links(html, PAGE)] == expected


def test_a_head_past_the_first_chunk_is_still_read() -> None:
    filler = "<meta name=x content=y>" * 10_000  # 230 kB of head before the link
    html = f'<head>{filler}<link rel="alternate" type="application/rss+xml" href="/late.xml">'
    assert [link.url for link in feed_links(html, PAGE)] == ["https://site.example/late.xml"]


@settings(max_examples=300, deadline=None)
@given(st.text(st.sampled_from("<>/=\"' ahlinkrefty&#;:-+xmlapscio"), max_size=300))
def test_any_markup_gives_links_or_none_never_a_crash(html: str) -> None:
    for link in feed_links(html, PAGE):
        assert link.url.startswith(("http://", "https://"))
