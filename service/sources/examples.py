"""OpenAPI examples for sources, drawn from the reference corpus."""

from __future__ import annotations

from litestar.openapi.spec import Example

AWTAN_POST_ID = "01937a5e-0000-7000-8000-0000000a7a01"
URL_EXAMPLE = Example(
    summary="The Awtan Post article", value="https://news.example/awtan-post/2019/11/24/ain-issa/"
)

CREATE = [
    Example(
        summary="The Awtan Post article on Ain Issa",
        value={
            "kind": "article",
            "title": "قسد تتهم روسيا بالوقوف مع تركيا ضدها؛ وتركيا تشكك بروسيا حول المنطقة "
            "الآمنة، والجيش الوطني السوري يختار مواجهة روسيا وإيران…",
            "url": "https://news.example/awtan-post/2019/11/24/ain-issa/",
            "publisher_id": AWTAN_POST_ID,
            "published_at": "2019-11-24",
            "lang": "ar",
        },
    ),
]

UPDATE = [
    Example(
        summary="Add an archived copy",
        value={
            "archive_url": "https://web.archive.org/web/2019/https://news.example/awtan-post/2019/11/24/ain-issa/"
        },
    ),
]
