"""Feeds and sitemaps to article entries: every format the sources file accepts."""

from __future__ import annotations

from datetime import UTC, datetime

from crawler.parse.feeds import MAX_XML_BYTES, parse_date, parse_xml_document, robots_sitemaps

BASE = "https://news.example/feeds/x.xml"


def test_rss2_items_links_and_dates() -> None:
    doc = parse_xml_document(
        b"""<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>t</title>
        <item><title>First</title><link>https://news.example/ur/news/1</link>
        <pubDate>Mon, 23 Nov 2026 10:00:00 +0500</pubDate></item>
        <item><title>Relative</title><link>/ur/news/2</link></item>
        <item><guid isPermaLink="true">https://news.example/ur/news/3</guid></item>
        </channel></rss>""",
        BASE,
    )
    assert doc.kind == "feed" and doc.error is None
    assert [e.url for e in doc.entries] == [
        "https://news.example/ur/news/1",
        "https://news.example/ur/news/2",
        "https://news.example/ur/news/3",
    ]
    assert doc.entries[0].published == datetime(2026, 11, 23, 5, 0, tzinfo=UTC)
    assert doc.entries[0].title == "First"


def test_rss1_rdf_items() -> None:
    doc = parse_xml_document(
        b"""<?xml version="1.0"?>
        <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/"
                 xmlns:dc="http://purl.org/dc/elements/1.1/">
          <channel rdf:about="https://news.example/"><title>t</title></channel>
          <item rdf:about="https://news.example/vi/news/7"><title>Bay</title>
            <link>https://news.example/vi/news/7</link><dc:date>2026-11-20T08:00:00+07:00</dc:date></item>
        </rdf:RDF>""",
        BASE,
    )
    assert doc.kind == "feed"
    assert [(e.url, e.published) for e in doc.entries] == [
        ("https://news.example/vi/news/7", datetime(2026, 11, 20, 1, 0, tzinfo=UTC))
    ]


def test_atom_alternate_link_and_updated() -> None:
    doc = parse_xml_document(
        b"""<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title>
        <entry><title>E</title><link rel="self" href="https://news.example/self"/>
        <link rel="alternate" href="https://news.example/en/news/9"/>
        <published>2026-11-21T10:00:00Z</published></entry></feed>""",
        BASE,
    )
    assert [(e.url, e.published) for e in doc.entries] == [
        ("https://news.example/en/news/9", datetime(2026, 11, 21, 10, 0, tzinfo=UTC))
    ]


def test_google_news_sitemap_and_index() -> None:
    urlset = parse_xml_document(
        b"""<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"
                    xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">
          <url><loc>https://news.example/hi/news/5</loc><lastmod>2026-11-01</lastmod>
            <news:news><news:publication><news:name>N</news:name><news:language>hi</news:language></news:publication>
            <news:publication_date>2026-11-22T09:30:00+05:30</news:publication_date><news:title>T</news:title></news:news></url>
          <url><loc>https://news.example/hi/news/6</loc><lastmod>2026-11-02</lastmod></url>
        </urlset>""",
        BASE,
    )
    assert urlset.kind == "urlset"
    first, second = urlset.entries
    assert first.published == datetime(2026, 11, 22, 4, 0, tzinfo=UTC), (
        "news:publication_date wins over lastmod"
    )
    assert (first.title, first.language) == ("T", "hi")
    assert second.published == datetime(2026, 11, 2, tzinfo=UTC), "lastmod when there is no news date"
    index = parse_xml_document(
        b"""<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
        <sitemap><loc>https://news.example/s1.xml</loc></sitemap><sitemap><loc>/s2.xml</loc></sitemap></sitemapindex>""",
        BASE,
    )
    assert index.kind == "sitemapindex"
    assert [e.url for e in index.entries] == ["https://news.example/s1.xml", "https://news.example/s2.xml"]


def test_hostile_xml_is_refused_or_read_inertly() -> None:
    laughs = b"""<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">
    <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]><rss><channel><item>
    <link>&lol1;</link></item></channel></rss>"""
    assert parse_xml_document(laughs, BASE).entries == []
    xxe = b"""<?xml version="1.0"?><!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
    <rss><channel><item><link>&xxe;</link></item></channel></rss>"""
    doc = parse_xml_document(xxe, BASE)
    assert doc.entries == [] and doc.error
    assert parse_xml_document(b"<rss><channel><item><link>https://n.example/a</link>", BASE).entries[0].url
    assert parse_xml_document(b"\x00\x01 not xml", BASE).kind == "unknown"
    assert parse_xml_document(b"<html><body>hi</body></html>", BASE).error
    assert parse_xml_document(b" " * (MAX_XML_BYTES + 1), BASE).error


def test_dates_and_robots_sitemap_lines() -> None:
    assert parse_date("2026-11-23") == datetime(2026, 11, 23, tzinfo=UTC)
    assert parse_date("not a date") is None
    assert parse_date(None) is None
    robots = (
        b"User-agent: *\nDisallow: /private/\nSitemap: https://news.example/sitemap.xml\nsitemap: /news.xml\n"
    )
    assert robots_sitemaps(robots, "https://news.example/robots.txt") == [
        "https://news.example/sitemap.xml",
        "https://news.example/news.xml",
    ]
