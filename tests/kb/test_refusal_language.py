"""The middleware's refusals (413, 411, 400, 408, 429) come before LocaleMiddleware has chosen a
language: a person still reads them in theirs; the API keeps English."""

from __future__ import annotations

import pytest
from django.test import Client


@pytest.fixture
def small_limit(settings):
    settings.KB_MAX_REQUEST_BYTES = 10_000


@pytest.mark.parametrize(
    ("how", "expected"),
    [
        ({"path": "/search/?lang=ja"}, "リクエストが上限の 10,000 バイトを超えています。"),
        ({"HTTP_ACCEPT_LANGUAGE": "zh-CN,zh;q=0.9"}, "请求超过了 10,000 字节的上限。"),
        ({}, "The request is larger than the limit of 10,000 bytes."),
    ],
)
def test_a_too_large_body_is_refused_in_the_readers_language(db, small_limit, how, expected):
    how = dict(how)
    path = how.pop("path", "/search/")
    response = Client().post(path, {"q": "x" * 20_000}, **how)
    assert response.status_code == 413
    assert expected in response.content.decode()


def test_the_language_cookie_chooses_the_refusals_language(db, small_limit, settings):
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ja"
    response = client.post("/search/", {"q": "x" * 20_000})
    assert "リクエストが上限" in response.content.decode()


def test_the_api_refuses_in_english_whatever_the_reader_asks(db, small_limit):
    response = Client().post(
        "/api/diagnose/?lang=ja",
        "x" * 20_000,
        content_type="text/plain",
        HTTP_ACCEPT_LANGUAGE="ja",
    )
    assert response.status_code == 413
    assert response.json()["error"] == "The request is larger than the limit of 10,000 bytes."


def test_an_unknown_charset_is_refused_in_the_readers_language(db):
    response = Client().generic(
        "POST",
        "/troubleshoot/?lang=zh",
        b"x",
        content_type="application/x-www-form-urlencoded; charset=no-such-charset",
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "不支持的字符集" in page and "no-such-charset" in page
    api = Client().generic(
        "POST", "/api/diagnose/?lang=zh", b"x", content_type="text/plain; charset=no-such-charset"
    )
    assert "is not supported; send UTF-8 text" in api.json()["error"]
