"""The demo dataset: one real Arabic news article as actors, a source, claims, a dispute and a
sample review.

Where it comes from: Awtan Post (أوطان بوست), an article published around Sunday 24 November
2019, kept in the repository's reference corpus as ``shared/corpus/awtan-post-ain-issa.ar.txt``
(described in English in ``shared/corpus/README.md``). Its URL is not known, so the source is
recorded as an offline source (``url`` None) rather than with a guessed address.

- Arabic claim texts are copied from the article character for character: its quotation marks
  (“ ” and "), diacritics and typos (تفاؤوله, حو, امنعت, ِِإسناد) are kept. A quote that runs
  over two paragraphs keeps the article's blank line. For a direct quote (``verbatim``) the text
  is the quoted words without the quotation marks that enclose the whole quote; for a reported
  statement it is the article's sentence that reports it.
- The English translations, names and descriptions are the project's own.
- Appearance notes number the paragraphs of the article body after the byline, subheadings
  included: paragraph 1 begins "تطورات جديدة", paragraph 3 is the first subheading.
- The reviewer ("Claimdesk Demo Fact-Check") is fictional; so is its review.

References between items are by ``key``; ``claimdesk demo`` (``service/demo.py``) resolves them
to ids. Wikidata ids are given only where certain.
"""

from __future__ import annotations

from typing import Any

# The article's headline, as the page shows it (ellipsis included). The line printed below it in
# the scraped page, 'اتفاق "روسي - تركي" حول عين عيسى .. ضوء أخضر للجيش التركي وقسد أمام خيارَين
# لا ثالث لهما', is not this article's headline: nothing in the body is about that agreement, while
# this headline sums up the body's three sections.
TITLE = (
    "قسد تتهم روسيا بالوقوف مع تركيا ضدها؛ وتركيا تشكك بروسيا حول المنطقة الآمنة، "
    "والجيش الوطني السوري يختار مواجهة روسيا وإيران…"
)

ACTORS: list[dict[str, Any]] = [
    {
        "key": "sdf",
        "kind": "armed_group",
        "name": "Syrian Democratic Forces",
        "names": [
            {"value": "قسد", "lang": "ar", "kind": "abbreviation"},
            # The article's pejorative usage ("the SDF militias"), kept so searches find it.
            {"value": "ميليشيات قسد", "lang": "ar", "kind": "common"},
            {"value": "قوات سوريا الديمقراطية", "lang": "ar", "kind": "official"},
            {"value": "SDF", "lang": "en", "kind": "abbreviation"},
            {"value": "Syrian Democratic Forces", "lang": "en", "kind": "official"},
        ],
        "description": "Kurdish-led alliance holding much of north-east Syria in 2019. The "
        'article calls it "ميليشيات قسد" ("the SDF militias"); Turkey\'s defence minister, '
        'as quoted, calls its fighters "the terrorists".',
        "country": "SY",
        "wikidata_id": None,
        "memberships": [],
    },
    {
        "key": "russia",
        "kind": "state",
        "name": "Russia",
        "names": [
            {"value": "روسيا", "lang": "ar", "kind": "common"},
            {"value": "Russia", "lang": "en", "kind": "common"},
            {"value": "Russian Federation", "lang": "en", "kind": "official"},
            {"value": "Россия", "lang": "ru", "kind": "common"},
        ],
        "description": "Backer of the Assad government; party with Turkey to the Sochi "
        "agreement of 22 October 2019 on north-east Syria, and guarantor of its ceasefire.",
        "country": "RU",
        "wikidata_id": "Q159",
        "memberships": [],
    },
    {
        "key": "turkey",
        "kind": "state",
        "name": "Turkey",
        "names": [
            {"value": "تركيا", "lang": "ar", "kind": "common"},
            {"value": "Turkey", "lang": "en", "kind": "common"},
            {"value": "Türkiye", "lang": "tr", "kind": "official"},
        ],
        "description": "Party with Russia to the Sochi agreement of 22 October 2019; backs the "
        "Syrian National Army.",
        "country": "TR",
        "wikidata_id": "Q43",
        "memberships": [],
    },
    {
        "key": "akar",
        "kind": "person",
        "name": "Hulusi Akar",
        "names": [
            {"value": "خلوصي آكار", "lang": "ar", "kind": "transliteration"},
            # How the article refers to him after first mention.
            {"value": "آكار", "lang": "ar", "kind": "common"},
            {"value": "Hulusi Akar", "lang": "en", "kind": "official"},
            {"value": "Hulusi Akar", "lang": "tr", "kind": "official"},
        ],
        "description": "Turkish general and politician; Turkey's Minister of National Defence "
        "from July 2018 to June 2023.",
        "country": "TR",
        "wikidata_id": None,
        "memberships": [
            {
                "organization": "turkey",
                "role": "Minister of National Defence",
                "start_date": "2018-07-10",
                "end_date": "2023-06-03",
            }
        ],
    },
    {
        "key": "sna",
        "kind": "armed_group",
        "name": "Syrian National Army",
        "names": [
            {"value": "الجيش الوطني السوري", "lang": "ar", "kind": "official"},
            {"value": "Syrian National Army", "lang": "en", "kind": "official"},
            {"value": "SNA", "lang": "en", "kind": "abbreviation"},
        ],
        "description": "Turkish-backed coalition of Syrian opposition factions; the article "
        "reports its attack, with Turkish support, on Ain Issa.",
        "country": "SY",
        "wikidata_id": None,
        "memberships": [],
    },
    {
        "key": "turkish-army",
        "kind": "armed_group",
        "name": "Turkish Armed Forces",
        "names": [
            {"value": "الجيش التركي", "lang": "ar", "kind": "common"},
            {"value": "Turkish army", "lang": "en", "kind": "common"},
            {"value": "Türk Silahlı Kuvvetleri", "lang": "tr", "kind": "official"},
        ],
        "description": "Turkey's military, named by the SDF statement as an attacker of Ain Issa.",
        "country": "TR",
        "wikidata_id": None,
        "memberships": [],
    },
    {
        # An organization, not a state: the article speaks of "نظام الأسد" (the Assad regime) and
        # "ميليشيات الأسد" (the Assad militias) as one party to the war, the government and its
        # forces, not of Syria the country (Q858), which every side here claims to speak for.
        "key": "assad-government",
        "kind": "organization",
        "name": "Assad government",
        "names": [
            {"value": "نظام الأسد", "lang": "ar", "kind": "common"},
            {"value": "ميليشيات الأسد", "lang": "ar", "kind": "common"},
            {"value": "Assad regime", "lang": "en", "kind": "common"},
        ],
        "description": "The Syrian government of Bashar al-Assad and its forces. The article "
        'calls them "نظام الأسد" and "ميليشيات الأسد"; Jaber Ali Basha calls them '
        '"العصابة الطائفية" ("the sectarian gang").',
        "country": "SY",
        "wikidata_id": None,
        "memberships": [],
    },
    {
        "key": "iran",
        "kind": "state",
        "name": "Iran",
        "names": [
            {"value": "إيران", "lang": "ar", "kind": "common"},
            {"value": "Iran", "lang": "en", "kind": "common"},
            {"value": "ایران", "lang": "fa", "kind": "common"},
        ],
        "description": "Backer of the Assad government; the article speaks of Iranian militias "
        "on the southern Idlib front.",
        "country": "IR",
        "wikidata_id": "Q794",
        "memberships": [],
    },
    {
        "key": "activists",
        "kind": "group",
        "name": "Activists (unnamed)",
        "names": [{"value": "ناشطون", "lang": "ar", "kind": "common"}],
        "description": "Activists the article cites without naming them. An anonymous speaker "
        "is still a speaker.",
        "country": None,
        "wikidata_id": None,
        "memberships": [],
    },
    {
        "key": "awtan-post",
        "kind": "media",
        "name": "Awtan Post",
        "names": [
            {"value": "أوطان بوست", "lang": "ar", "kind": "official"},
            {"value": "Awtan Post", "lang": "en", "kind": "transliteration"},
        ],
        "description": "Syrian opposition news website; publisher of the reference article.",
        "country": "SY",
        "wikidata_id": None,
        "memberships": [],
    },
    {
        "key": "nfl",
        "kind": "armed_group",
        "name": "National Front for Liberation",
        "names": [
            {"value": "الجبهة الوطنية للتحرير", "lang": "ar", "kind": "official"},
            {"value": "الجبهة الوطنية", "lang": "ar", "kind": "common"},
            {"value": "National Front for Liberation", "lang": "en", "kind": "official"},
        ],
        "description": "Coalition of Syrian opposition factions in Idlib; it joined the Syrian "
        "National Army in October 2019, which is why the article's headline attributes its "
        "commander's statement to the Syrian National Army.",
        "country": "SY",
        "wikidata_id": None,
        "memberships": [],
    },
    {
        "key": "basha",
        "kind": "person",
        "name": "Jaber Ali Basha",
        "names": [
            {"value": "جابر علي باشا", "lang": "ar", "kind": "official"},
            # How the article refers to him after first mention.
            {"value": "جابر علي", "lang": "ar", "kind": "common"},
            {"value": "Jaber Ali Basha", "lang": "en", "kind": "transliteration"},
        ],
        "description": "A commander (القيادي) of the National Front for Liberation.",
        "country": "SY",
        "wikidata_id": None,
        "memberships": [
            {"organization": "nfl", "role": "commander", "start_date": None, "end_date": None}
        ],
    },
    {
        "key": "demo-fact-check",
        "kind": "organization",
        "name": "Claimdesk Demo Fact-Check",
        "names": [{"value": "Claimdesk Demo Fact-Check", "lang": "en", "kind": "official"}],
        "description": "A fictional fact-checking organisation, the reviewer of the demo's "
        "sample review. It does not exist and its review is illustrative only.",
        "country": None,
        "wikidata_id": None,
        "memberships": [],
    },
]

SOURCE: dict[str, Any] = {
    "key": "awtan-ain-issa",
    "url": None,  # not known: an offline source
    "title": TITLE,
    "publisher": "awtan-post",
    "published_at": "2019-11-24",
    "lang": "ar",
    "kind": "article",
    "archive_url": None,
}

CLAIMS: list[dict[str, Any]] = [
    {
        "key": "sdf-blind-eye",
        "speaker": "sdf",
        "text": "إن القوات الروسية غضت النظر عن هجمات الجيش التركي والجيش الوطني السوري على "
        "منطقة “عين عيسى” في ريف الرقة الشمالي.\n\n"
        "وأوضحت قسد في بيانها أن الهجوم الذي خاضه الجيش الوطني السوري بدعم تركي، كان أمام "
        "أنظار القوات الروسية التي لم تحرك ساكناً لإيقاف هذا الغزو، والتي من المفترض أنها "
        "موجودة على الأرض كضامن لوقف إطلاق النار",
        "lang": "ar",
        "verbatim": True,
        "translations": [
            {
                "lang": "en",
                "text": "The Russian forces turned a blind eye to the attacks of the Turkish "
                "army and the Syrian National Army on the area of “Ain Issa” in the northern "
                "Raqqa countryside.\n\n"
                "The SDF explained in its statement that the attack waged by the Syrian "
                "National Army with Turkish support took place before the eyes of the Russian "
                "forces, who did not lift a finger to stop this invasion and who are supposed "
                "to be present on the ground as guarantor of the ceasefire",
            }
        ],
        "kind": "accusation",
        "stated_on": "2019-11-01",
        "stated_on_precision": "month",
        "appearances": [
            {
                "source": "awtan-ain-issa",
                "note": "Paragraphs 5-6, quoted from an SDF statement (undated in the article). "
                "The article's quotation marks open in paragraph 5 and close at the end of "
                "paragraph 6, though paragraph 6 is framed as reported speech. Paragraph 4 "
                "sums it up as an accusation of collusion with Turkey.",
            }
        ],
        "relayed_by": None,
        "targets": [
            {"actor": "russia", "role": "accused"},
            {"actor": "turkish-army", "role": "accused"},
            {"actor": "sna", "role": "accused"},
            {"actor": "turkey", "role": "mentioned"},
        ],
        "topics": ["ain-issa", "russia-guarantor"],
    },
    {
        "key": "sdf-guarantor-doubt",
        "speaker": "sdf",
        "text": "وأضاف البيان، أن تجاهل روسيا لهجمات الجيش الوطني السوري والجيش التركي، وعدم "
        "قيامها بدورها كضامن، يثير الكثير من الشكوك حول دور روسيا كضامن في الحل السياسي في "
        "عموم سوريا.",
        "lang": "ar",
        "verbatim": False,
        "translations": [
            {
                "lang": "en",
                "text": "The statement added that Russia's ignoring of the attacks of the "
                "Syrian National Army and the Turkish army, and its failure to play its role as "
                "guarantor, raise many doubts about Russia's role as a guarantor of the "
                "political solution throughout Syria.",
            }
        ],
        "kind": "doubt",
        "stated_on": "2019-11-01",
        "stated_on_precision": "month",
        "appearances": [
            {
                "source": "awtan-ain-issa",
                "note": "Paragraph 7, reported from the same SDF statement.",
            }
        ],
        "relayed_by": None,
        "targets": [
            {"actor": "russia", "role": "criticized"},
            {"actor": "sna", "role": "mentioned"},
            {"actor": "turkish-army", "role": "mentioned"},
        ],
        "topics": ["russia-guarantor"],
    },
    {
        "key": "sdf-demand",
        "speaker": "sdf",
        "text": "وطالبت ميليشيات قسد بوقف العمليات التركية العسكرية.",
        "lang": "ar",
        "verbatim": False,
        "translations": [
            {
                "lang": "en",
                "text": "And the SDF militias demanded a halt to the Turkish military operations.",
            }
        ],
        "kind": "demand",
        "stated_on": "2019-11-01",
        "stated_on_precision": "month",
        "appearances": [
            {
                "source": "awtan-ain-issa",
                "note": "Paragraph 4 (the section's lead), reported.",
            }
        ],
        "relayed_by": None,
        "targets": [{"actor": "turkey", "role": "addressed"}],
        "topics": ["ain-issa", "operation-peace-spring"],
    },
    {
        "key": "activists-russian-orders",
        "speaker": "activists",
        "text": "ورجح ناشطون أن سبب امتناع ميليشيات الأسد من مساندة قسد، جاء بعد أوامر روسية.",
        "lang": "ar",
        "verbatim": False,
        "translations": [
            {
                "lang": "en",
                "text": "Activists suggested that the Assad militias' refraining from "
                "supporting the SDF came after Russian orders.",
            }
        ],
        # A hedged assertion ("رجح": judged it likely), not a formal accusation.
        "kind": "assertion",
        "stated_on": "2019-11-01",
        "stated_on_precision": "month",
        "appearances": [
            {
                "source": "awtan-ain-issa",
                "note": "Paragraph 8, reported; the activists are not named and the date is "
                "not given.",
            }
        ],
        "relayed_by": None,
        "targets": [
            {"actor": "russia", "role": "accused"},
            {"actor": "assad-government", "role": "mentioned"},
            {"actor": "sdf", "role": "mentioned"},
        ],
        "topics": ["ain-issa"],
    },
    {
        "key": "russia-withdrawal",
        "speaker": "russia",
        "text": "روسيا كانت قد أكدت شفوياً وكتابياً سابقاً بأن “الإرهابيين” أخلوا تماماً تلك المناطق",
        "lang": "ar",
        "verbatim": False,
        "translations": [
            {
                "lang": "en",
                "text": "Russia had previously confirmed orally and in writing that the "
                "“terrorists” had completely vacated those areas",
            }
        ],
        "kind": "assertion",
        # Only "previously" (سابقاً): after the 22 October 2019 Sochi agreement (paragraph 14)
        # and before Akar's statement, a span over two months; the year is what the source
        # supports.
        "stated_on": "2019-01-01",
        "stated_on_precision": "year",
        "appearances": [
            {
                "source": "awtan-ain-issa",
                "note": "Paragraph 11, known only second hand, inside Hulusi Akar's quoted "
                'statement; "the terrorists" is Turkey\'s word for the SDF. The subheading '
                "(paragraph 9) and paragraph 10 allude to Russia's statements on a complete "
                "SDF withdrawal without quoting them.",
            }
        ],
        "relayed_by": "akar",
        "targets": [{"actor": "sdf", "role": "mentioned"}],
        "topics": ["safe-zone", "sdf-withdrawal"],
    },
    {
        "key": "akar-members-remain",
        "speaker": "akar",
        "text": "إن بعض عناصر ميليشيات قسد مازالوا موجودين في المنطقة الآمنة رغم أن روسيا كانت "
        "قد أكدت شفوياً وكتابياً سابقاً بأن “الإرهابيين” أخلوا تماماً تلك المناطق",
        "lang": "ar",
        "verbatim": True,
        "translations": [
            {
                "lang": "en",
                "text": "Some members of the SDF militias are still present in the safe zone, "
                "although Russia had previously confirmed orally and in writing that the "
                "“terrorists” had completely vacated those areas",
            }
        ],
        # An assertion that contradicts Russia's: it denies the withdrawal but is phrased as a
        # statement of fact, so its denial is recorded as a stance in the dispute below.
        "kind": "assertion",
        "stated_on": "2019-11-01",
        "stated_on_precision": "month",
        "appearances": [
            {
                "source": "awtan-ain-issa",
                "note": "Paragraph 11, quoted (in Arabic; the article does not date it). "
                '"ميليشيات قسد" inside the quote is likely the outlet\'s wording rather than '
                "the minister's.",
            }
        ],
        "relayed_by": None,
        "targets": [
            {"actor": "sdf", "role": "accused"},
            {"actor": "russia", "role": "criticized"},
        ],
        "topics": ["safe-zone", "sdf-withdrawal"],
    },
    {
        "key": "akar-coordination",
        "speaker": "akar",
        "text": "وأضاف آكار أن أنقرة تواصل التنسيق مع روسيا للتحقق من مغادرة قسد للمنطقة، "
        "مشيراً إلى وجود بعض الصعوبات أثناء تنفيذ الدوريات المشتركة.",
        "lang": "ar",
        "verbatim": False,
        "translations": [
            {
                "lang": "en",
                "text": "Akar added that Ankara is continuing to coordinate with Russia to "
                "verify the SDF's departure from the area, pointing to some difficulties while "
                "carrying out the joint patrols.",
            }
        ],
        "kind": "assertion",
        "stated_on": "2019-11-01",
        "stated_on_precision": "month",
        "appearances": [{"source": "awtan-ain-issa", "note": "Paragraph 12, reported."}],
        "relayed_by": None,
        "targets": [
            {"actor": "russia", "role": "mentioned"},
            {"actor": "sdf", "role": "mentioned"},
        ],
        "topics": ["safe-zone", "sdf-withdrawal", "joint-patrols"],
    },
    {
        "key": "akar-confidence",
        "speaker": "akar",
        "text": "وأعرب آكار عن ثقته وتفاؤوله من تحقيق نجاح في المنطقة الآمنة والتغلب على "
        "الصعوبات في خلال الفترة القادمة.",
        "lang": "ar",
        "verbatim": False,
        "translations": [
            {
                "lang": "en",
                "text": "Akar expressed his confidence and optimism about achieving success in "
                "the safe zone and overcoming the difficulties in the coming period.",
            }
        ],
        "kind": "prediction",
        "stated_on": "2019-11-01",
        "stated_on_precision": "month",
        "appearances": [{"source": "awtan-ain-issa", "note": "Paragraph 13, reported."}],
        "relayed_by": None,
        "targets": [],
        "topics": ["safe-zone"],
    },
    {
        "key": "awtan-sochi",
        "speaker": "awtan-post",
        "text": "وتوصل الرئيسين الروسي والتركي في 22 تشرين الأول/أكتوبر الماضي إلى اتفاق حول "
        "منطقة شمال شرقي سوريا في مدينة “سوتشي” يقضي بانسحاب ميليشيات قسد من المنطقة الآمنة "
        "بعمق 30 كلم خلال 150 ساعة وبدء تسيير دوريات تركية روسية مشتركة بعمق 10 كم مع الحفاظ "
        "على الوضع في المنطقة الواقعة ضمن عملية “نبع السلام” على ما هو عليه، كما تم يوم أمس "
        "السبت تسيير الدورية العاشرة المشتركة بين القامشلي وتل أبيض.",
        "lang": "ar",
        # The publisher's own words: the text is exactly what this speaker wrote.
        "verbatim": True,
        "translations": [
            {
                "lang": "en",
                "text": "On 22 October the Russian and Turkish presidents reached an agreement "
                "in the city of “Sochi” on the north-east Syria region, providing for the "
                "withdrawal of the SDF militias from the safe zone to a depth of 30 km within "
                "150 hours and the start of joint Turkish-Russian patrols to a depth of 10 km, "
                "while keeping the situation in the area covered by Operation “Peace Spring” "
                "as it is; and yesterday, Saturday, the tenth joint patrol was run between "
                "Qamishli and Tal Abyad.",
            }
        ],
        "kind": "assertion",
        "stated_on": "2019-11-24",
        "stated_on_precision": "day",
        "appearances": [
            {
                "source": "awtan-ain-issa",
                "note": "Paragraph 14, the publisher's own report; dated by the publication "
                'date (the patrol ran "yesterday, Saturday", 23 November 2019).',
            }
        ],
        "relayed_by": None,
        "targets": [
            {"actor": "russia", "role": "mentioned"},
            {"actor": "turkey", "role": "mentioned"},
            {"actor": "sdf", "role": "mentioned"},
        ],
        "topics": [
            "sochi-agreement",
            "safe-zone",
            "sdf-withdrawal",
            "joint-patrols",
            "operation-peace-spring",
        ],
    },
    {
        "key": "basha-battle",
        "speaker": "basha",
        "text": "كنا وما زلنا نَعُدُّ أنفسنا في معركة مستمرة مع العصابة الطائفية، فلا تكاد تنتهي "
        "مرحلة إلا وتبدأ أخرى، وما بينهما قصف وحشي لا يتوقف، ومجازر مستمرة بحق الأبرياء، "
        "وتدمير للبنى التحتية من مدارس ومشافٍ وأفران ومراكز للدفاع المدني، كلُّ ذلك وسط صمت "
        "دولي، بل تواطؤ ورضا بما يحصل",
        "lang": "ar",
        "verbatim": True,
        "translations": [
            {
                "lang": "en",
                "text": "We have counted ourselves, and still do, in an ongoing battle with the "
                "sectarian gang: hardly does one stage end before another begins, and in "
                "between there is savage bombardment that never stops, continuing massacres of "
                "the innocent, and destruction of infrastructure, of schools, hospitals, "
                "bakeries and civil defence centres, all of it amid international silence, "
                "indeed complicity and approval of what is happening",
            }
        ],
        "kind": "accusation",
        "stated_on": "2019-11-24",
        "stated_on_precision": "day",
        "appearances": [
            {
                "source": "awtan-ain-issa",
                "note": 'Paragraph 17, quoted from the statement he published "today, '
                'Sunday" on his official social-media accounts (paragraph 16).',
            }
        ],
        "relayed_by": None,
        # "The sectarian gang" is the Assad government; the quote names no one else.
        "targets": [{"actor": "assad-government", "role": "accused"}],
        "topics": ["idlib"],
    },
    {
        "key": "basha-confrontation",
        "speaker": "basha",
        "text": "نشر القيادي في الجبهة الوطنية للتحرير “جابر علي باشا” اليوم الأحد بياناً له على "
        "حساباته الرسمية في مواقع التواصل الاجتماعي، أكد من خلاله على خيار المواجهة ضد "
        "الميليشيات الروسية والإيرانية في مناطق ريف إدلب الجنوبي.",
        "lang": "ar",
        "verbatim": False,
        "translations": [
            {
                "lang": "en",
                "text": "The National Front for Liberation commander “Jaber Ali Basha” today, "
                "Sunday, published a statement on his official social-media accounts in which "
                "he affirmed the option of confrontation against the Russian and Iranian "
                "militias in the southern Idlib countryside.",
            }
        ],
        # A commitment to a course of action, which events can later bear out or not.
        "kind": "promise",
        "stated_on": "2019-11-24",
        "stated_on_precision": "day",
        "appearances": [
            {
                "source": "awtan-ain-issa",
                "note": "Paragraph 16, reported; the headline attributes this stance to the "
                "Syrian National Army, which the National Front for Liberation had joined.",
            }
        ],
        "relayed_by": None,
        "targets": [
            {"actor": "russia", "role": "mentioned"},
            {"actor": "iran", "role": "mentioned"},
        ],
        "topics": ["idlib"],
    },
    {
        "key": "awtan-air-sorties",
        "speaker": "awtan-post",
        "text": "يأتي التصعيد على ريف إدلب الجنوبي وجبهة الكبية بريف اللاذقية الشمالي على الأرض "
        "بالتزامن مع شن العشرات من الطلعات الجوية للطيران الروسي، واستهداف المدن والأحياء "
        "السكنية، ما تسبب من معاناة الأهالي بشكل كبير ووقوع شهداء وجرحى بشكل يومي.\n\n"
        "الجدير بالذكر أنه صباح اليوم الأحد 25 نوفمبر، جرت اشتباكات عنيف بين الفصائل الثورية "
        "من جهة والميليشيات الروسية والإيرانية من جهة أخرى، على محاور “المشيرفِة” و”الزرزور” "
        "و”تل خزنة” جنوب إدلب، بعد محاولة فاشلة من قبل الميليشيات للتقدم، وسط ِِإسناد جوي "
        "ومدفعي كثيفين.",
        "lang": "ar",
        # The publisher's own words: the text is exactly what this speaker wrote.
        "verbatim": True,
        "translations": [
            {
                "lang": "en",
                "text": "The escalation on the ground in the southern Idlib countryside and on "
                "the al-Kabiya front in the northern Latakia countryside comes as Russian "
                "aircraft fly dozens of sorties and target towns and residential "
                "neighbourhoods, causing the inhabitants great suffering, with martyrs and "
                "wounded every day.\n\n"
                "It is worth noting that on the morning of today, Sunday 25 November, violent "
                "clashes took place between the revolutionary factions on one side and the "
                "Russian and Iranian militias on the other, on the “Mushayrifa”, “Zarzour” and "
                "“Tal Khazna” fronts south of Idlib, after a failed attempt by the militias to "
                "advance, amid heavy air and artillery support.",
            }
        ],
        "kind": "assertion",
        "stated_on": "2019-11-24",
        "stated_on_precision": "day",
        "appearances": [
            {
                "source": "awtan-ain-issa",
                "note": "Paragraphs 19-20, the publisher's own report. The article dates the "
                'clashes "today, Sunday 25 November", but in 2019 the Sunday was 24 November '
                "(the publication date) and 25 November a Monday; recorded as 24 November, "
                "the day the publication date supports.",
            }
        ],
        "relayed_by": None,
        "targets": [
            {"actor": "russia", "role": "accused"},
            {"actor": "iran", "role": "mentioned"},
        ],
        "topics": ["idlib", "latakia", "airstrikes"],
    },
]

DISPUTES: list[dict[str, Any]] = [
    {
        "key": "sdf-withdrawal",
        "title": "SDF withdrawal from the safe zone",
        "question": "Has the SDF fully withdrawn from the safe zone?",
        "status": "open",
        "positions": [
            {"claim": "russia-withdrawal", "stance": "affirms"},
            {"claim": "akar-members-remain", "stance": "denies"},
            # Ankara is still working with Russia "to verify" the departure: not yet settled.
            {"claim": "akar-coordination", "stance": "questions"},
        ],
        "topics": ["safe-zone", "sdf-withdrawal"],
    },
]

REVIEWS: list[dict[str, Any]] = [
    {
        "claim": "russia-withdrawal",
        "reviewer": "demo-fact-check",
        "rating": {"label": "Disputed", "value": 2, "best": 5, "worst": 1},
        "summary": "Russia's assurance is known only second hand, through Turkey's defence "
        "minister Hulusi Akar, who contradicts it in the same statement: he says some SDF "
        "members are still in the safe zone, and Ankara is still working with Moscow to verify "
        "the withdrawal. The source offers no independent verification either way.",
        "url": None,
        "published_at": "2019-11-25",
        "lang": "en",
    },
]
