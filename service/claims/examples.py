"""OpenAPI examples for claims, drawn from the reference corpus (Awtan Post, 24 Nov 2019)."""

from __future__ import annotations

from litestar.openapi.spec import Example

AKAR_ID = "01937a5e-0000-7000-8000-00000000a4a1"
RUSSIA_ID = "01937a5e-0000-7000-8000-000000000159"
SDF_ID = "01937a5e-0000-7000-8000-0000000005df"
SOURCE_ID = "01937a5e-0000-7000-8000-0000000a1155"

CREATE = [
    Example(
        summary="Akar: some SDF members are still in the safe zone",
        value={
            "speaker_id": AKAR_ID,
            "text": "إن بعض عناصر ميليشيات قسد مازالوا موجودين في المنطقة الآمنة رغم أن روسيا "
            "كانت قد أكدت شفوياً وكتابياً سابقاً بأن “الإرهابيين” أخلوا تماماً تلك المناطق",
            "lang": "ar",
            "verbatim": True,
            "translations": [
                {
                    "lang": "en",
                    "text": "Some SDF members are still present in the safe zone, although Russia "
                    "had confirmed orally and in writing that the 'terrorists' had fully "
                    "left those areas.",
                }
            ],
            "kind": "assertion",
            "stated_on": "2019-11-24",
            "stated_on_precision": "day",
            "appearances": [{"source_id": SOURCE_ID, "note": "Quoted in paragraph 9."}],
            "targets": [
                {"actor_id": SDF_ID, "role": "accused"},
                {"actor_id": RUSSIA_ID, "role": "criticized"},
            ],
            "topics": ["safe-zone"],
        },
    ),
    Example(
        summary="Russia's withdrawal assurance, known only through Akar",
        value={
            "speaker_id": RUSSIA_ID,
            "text": "روسيا كانت قد أكدت شفوياً وكتابياً سابقاً بأن “الإرهابيين” أخلوا تماماً تلك المناطق",
            "lang": "ar",
            "verbatim": False,
            "kind": "assertion",
            "stated_on": "2019-11-01",
            "stated_on_precision": "month",
            "relayed_by_id": AKAR_ID,
            "appearances": [{"source_id": SOURCE_ID, "note": "Relayed by Hulusi Akar."}],
            "targets": [{"actor_id": SDF_ID, "role": "mentioned"}],
            "topics": ["safe-zone"],
        },
    ),
]

UPDATE = [
    Example(
        summary="Correct the date to a month",
        value={"stated_on": "2019-11-01", "stated_on_precision": "month"},
    ),
]
