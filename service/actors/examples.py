"""OpenAPI examples for actors, drawn from the reference corpus (Awtan Post, 24 Nov 2019)."""

from __future__ import annotations

from litestar.openapi.spec import Example

TURKEY_ID = "01937a5e-0000-7000-8000-000000000043"
NAME_EXAMPLE = Example(summary="The SDF by its Arabic abbreviation", value="قسد")
TYPEAHEAD_EXAMPLE = Example(summary="Akar, typed without hamza", value="خلوصي اكا")

CREATE = [
    Example(
        summary="The SDF, under all its names",
        value={
            "kind": "armed_group",
            "name": "Syrian Democratic Forces",
            "names": [
                {"value": "قسد", "lang": "ar", "kind": "abbreviation"},
                {"value": "ميليشيات قسد", "lang": "ar", "kind": "common"},
                {"value": "قوات سوريا الديمقراطية", "lang": "ar", "kind": "official"},
                {"value": "SDF", "lang": "en", "kind": "abbreviation"},
            ],
            "description": "Kurdish-led alliance in north-east Syria.",
            "country": "SY",
        },
    ),
    Example(
        summary="Hulusi Akar, Turkey's defence minister",
        value={
            "kind": "person",
            "name": "Hulusi Akar",
            "names": [
                {"value": "خلوصي آكار", "lang": "ar", "kind": "transliteration"},
                {"value": "Hulusi Akar", "lang": "tr", "kind": "official"},
            ],
            "country": "TR",
            "memberships": [
                {
                    "organization_id": TURKEY_ID,
                    "role": "Minister of National Defence",
                    "start_date": "2018-07-10",
                    "end_date": "2023-06-03",
                }
            ],
        },
    ),
]

UPDATE = [
    Example(
        summary="Add Turkey's Wikidata id",
        value={"wikidata_id": "Q43", "country": "TR"},
    ),
]

SDF_ID = "01937a5e-0000-7000-8000-000000000500"
MERGE = [
    Example(
        summary="قسد entered twice: merge the duplicate into the Syrian Democratic Forces",
        value={"into_id": SDF_ID},
    ),
]
