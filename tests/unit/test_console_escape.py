"""Every page that shows query input shows it escaped (Jinja2 autoescape): a query key and
a query value that try to close an attribute and open a script come back as text."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from .test_console import TestClient, login, web  # noqa: F401 (the fixture)

ATTACK = '"><script>alert(1)</script>'
ESCAPED = "&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"
PAGES = ["/reports", "/stats", "/", "/live", "/reports/1234", "/login"]


@pytest.mark.parametrize("path", PAGES)
def test_a_query_key_and_value_come_back_escaped(web, path: str) -> None:  # noqa: F811
    client, _feed, _accounts = web
    if path != "/login":
        login(client, "root")
    for query in (f"{quote(ATTACK)}=1", f"queue={quote(ATTACK)}", f"since={quote(ATTACK)}",
                  f"emirate={quote(ATTACK)}&{quote(ATTACK)}={quote(ATTACK)}",
                  f"lang={quote(ATTACK)}", f"by={quote(ATTACK)}"):
        page = client.get(f"{path}?{query}")
        assert page.headers["content-type"].startswith("text/html")
        assert "<script>alert" not in page.text, (path, query)
        assert 'href="/reports.csv?"><script>' not in page.text


def test_the_reports_page_reflects_the_key_in_the_csv_link_as_text(web) -> None:  # noqa: F811
    client, _feed, _accounts = web
    login(client, "root")
    page = client.get(f"/reports?{quote(ATTACK)}={quote(ATTACK)}&emirate={quote(ATTACK)}").text
    link = page.split('id="csv" href="', 1)[1].split('"', 1)[0]
    assert "<" not in link and ">" not in link  # URL-encoded, then HTML-escaped
    assert f'value="{ESCAPED}"' in page  # the emirate filter keeps what was asked, as text


def test_an_error_message_that_quotes_the_input_escapes_it(web) -> None:  # noqa: F811
    client, _feed, _accounts = web
    login(client, "root")
    page = client.get("/reports", params={"until": ATTACK})
    assert page.status_code == 400 and "<script>alert" not in page.text
    missing = client.get(f"/reports/{quote(ATTACK, safe='')}")
    assert missing.status_code == 404 and "<script>alert" not in missing.text
