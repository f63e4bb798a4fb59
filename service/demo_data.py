"""The demo dataset: the reference article (Awtan Post, أوطان بوست, published around
24 November 2019; ``shared/corpus/awtan-post-ain-issa.ar.txt``) as actors, one source,
its claims, the dispute it supports and a sample review.

Arabic texts are copied from the article character for character (its quotation marks and
typos included); the English translations are the project's own. The article's URL is not
known, so the source has none (an offline source), and the reviewer is fictional. References
between items are by ``key``; ``claimdesk demo`` resolves them to ids.
"""

from __future__ import annotations

from typing import Any

TITLE = 'اتفاق "روسي - تركي" حول عين عيسى .. ضوء أخضر للجيش التركي وقسد أمام خيارَين لا ثالث لهما'

TEXTS = {
    "sdf-blind-eye": "إن القوات الروسية غضت النظر عن هجمات الجيش التركي والجيش الوطني السوري على منطقة “عين عيسى” في ريف الرقة الشمالي. أن الهجوم الذي خاضه الجيش الوطني السوري بدعم تركي، كان أمام أنظار القوات الروسية التي لم تحرك ساكناً لإيقاف هذا الغزو، والتي من المفترض أنها موجودة على الأرض كضامن لوقف إطلاق النار”.",
    "sdf-guarantor-doubt": "أن تجاهل روسيا لهجمات الجيش الوطني السوري والجيش التركي، وعدم قيامها بدورها كضامن، يثير الكثير من الشكوك حول دور روسيا كضامن في الحل السياسي في عموم سوريا.",
    "sdf-demand": "وطالبت ميليشيات قسد بوقف العمليات التركية العسكرية.",
    "activists-russian-orders": "ورجح ناشطون أن سبب امتناع ميليشيات الأسد من مساندة قسد، جاء بعد أوامر روسية.",
    "russia-withdrawal": "روسيا كانت قد أكدت شفوياً وكتابياً سابقاً بأن “الإرهابيين” أخلوا تماماً تلك المناطق",
    "akar-members-remain": "إن بعض عناصر ميليشيات قسد مازالوا موجودين في المنطقة الآمنة رغم أن روسيا كانت قد أكدت شفوياً وكتابياً سابقاً بأن “الإرهابيين” أخلوا تماماً تلك المناطق",
    "akar-coordination": "أن أنقرة تواصل التنسيق مع روسيا للتحقق من مغادرة قسد للمنطقة، مشيراً إلى وجود بعض الصعوبات أثناء تنفيذ الدوريات المشتركة.",
    "akar-confidence": "وأعرب آكار عن ثقته وتفاؤوله من تحقيق نجاح في المنطقة الآمنة والتغلب على الصعوبات في خلال الفترة القادمة.",
    "awtan-sochi": "وتوصل الرئيسين الروسي والتركي في 22 تشرين الأول/أكتوبر الماضي إلى اتفاق حول منطقة شمال شرقي سوريا في مدينة “سوتشي” يقضي بانسحاب ميليشيات قسد من المنطقة الآمنة بعمق 30 كلم خلال 150 ساعة وبدء تسيير دوريات تركية روسية مشتركة بعمق 10 كم مع الحفاظ على الوضع في المنطقة الواقعة ضمن عملية “نبع السلام” على ما هو عليه، كما تم يوم أمس السبت تسيير الدورية العاشرة المشتركة بين القامشلي وتل أبيض.",
    "basha-battle": "كنا وما زلنا نَعُدُّ أنفسنا في معركة مستمرة مع العصابة الطائفية، فلا تكاد تنتهي مرحلة إلا وتبدأ أخرى، وما بينهما قصف وحشي لا يتوقف، ومجازر مستمرة بحق الأبرياء، وتدمير للبنى التحتية من مدارس ومشافٍ وأفران ومراكز للدفاع المدني، كلُّ ذلك وسط صمت دولي، بل تواطؤ ورضا بما يحصل",
    "basha-confrontation": "أكد من خلاله على خيار المواجهة ضد الميليشيات الروسية والإيرانية في مناطق ريف إدلب الجنوبي.",
    "awtan-air-sorties": "يأتي التصعيد على ريف إدلب الجنوبي وجبهة الكبية بريف اللاذقية الشمالي على الأرض بالتزامن مع شن العشرات من الطلعات الجوية للطيران الروسي، واستهداف المدن والأحياء السكنية، ما تسبب من معاناة الأهالي بشكل كبير ووقوع شهداء وجرحى بشكل يومي. الجدير بالذكر أنه صباح اليوم الأحد 25 نوفمبر، جرت اشتباكات عنيف بين الفصائل الثورية من جهة والميليشيات الروسية والإيرانية من جهة أخرى، على محاور “المشيرفِة” و”الزرزور” و”تل خزنة” جنوب إدلب، بعد محاولة فاشلة من قبل الميليشيات للتقدم، وسط ِِإسناد جوي ومدفعي كثيفين.",
}

ACTORS: list[dict[str, Any]] = [
    {
        "key": "sdf",
        "kind": "armed_group",
        "name": "Syrian Democratic Forces",
        "names": [
            {"value": "قسد", "lang": "ar", "kind": "abbreviation"},
            {"value": "ميليشيات قسد", "lang": "ar", "kind": "common"},
            {"value": "قوات سوريا الديمقراطية", "lang": "ar", "kind": "official"},
            {"value": "SDF", "lang": "en", "kind": "abbreviation"},
        ],
        "description": "Kurdish-led alliance holding north-east Syria; the article calls it "
        'ميليشيات قسد ("the SDF militias"), Turkey "the terrorists".',
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
            {"value": "Russian Federation", "lang": "en", "kind": "official"},
        ],
        "description": "Guarantor of the Sochi ceasefire in north-east Syria.",
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
            {"value": "Türkiye", "lang": "tr", "kind": "official"},
        ],
        "description": None,
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
            {"value": "آكار", "lang": "ar", "kind": "common"},
            {"value": "Hulusi Akar", "lang": "tr", "kind": "official"},
        ],
        "description": "Turkish general; Minister of National Defence 2018-2023.",
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
        "names": [{"value": "الجيش الوطني السوري", "lang": "ar", "kind": "official"}],
        "description": "Turkish-backed Syrian opposition forces.",
        "country": "SY",
        "wikidata_id": None,
        "memberships": [],
    },
    {
        "key": "turkish-army",
        "kind": "armed_group",
        "name": "Turkish Armed Forces",
        "names": [{"value": "الجيش التركي", "lang": "ar", "kind": "common"}],
        "description": None,
        "country": "TR",
        "wikidata_id": None,
        "memberships": [],
    },
    {
        # The article speaks of the government's forces as a party ("نظام الأسد",
        # "ميليشيات الأسد"), not of the state of Syria: an organization, not a state.
        "key": "assad-government",
        "kind": "organization",
        "name": "Assad government",
        "names": [
            {"value": "نظام الأسد", "lang": "ar", "kind": "common"},
            {"value": "ميليشيات الأسد", "lang": "ar", "kind": "common"},
            {"value": "العصابة الطائفية", "lang": "ar", "kind": "common"},
        ],
        "description": "The Syrian government and its forces, as the article names them.",
        "country": "SY",
        "wikidata_id": None,
        "memberships": [],
    },
    {
        "key": "iran",
        "kind": "state",
        "name": "Iran",
        "names": [{"value": "إيران", "lang": "ar", "kind": "common"}],
        "description": None,
        "country": "IR",
        "wikidata_id": None,
        "memberships": [],
    },
    {
        "key": "activists",
        "kind": "group",
        "name": "Activists (unnamed)",
        "names": [{"value": "ناشطون", "lang": "ar", "kind": "common"}],
        "description": "Unnamed activists the article cites; an anonymous speaker is a speaker.",
        "country": None,
        "wikidata_id": None,
        "memberships": [],
    },
    {
        "key": "nfl",
        "kind": "armed_group",
        "name": "National Front for Liberation",
        "names": [{"value": "الجبهة الوطنية للتحرير", "lang": "ar", "kind": "official"}],
        "description": "Syrian opposition coalition in Idlib.",
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
            {"value": "جابر علي", "lang": "ar", "kind": "common"},
        ],
        "description": None,
        "country": "SY",
        "wikidata_id": None,
        "memberships": [
            {"organization": "nfl", "role": "commander", "start_date": None, "end_date": None}
        ],
    },
    {
        "key": "awtan-post",
        "kind": "media",
        "name": "Awtan Post",
        "names": [{"value": "أوطان بوست", "lang": "ar", "kind": "official"}],
        "description": "Syrian opposition news site.",
        "country": "SY",
        "wikidata_id": None,
        "memberships": [],
    },
    {
        "key": "demo-fact-check",
        "kind": "organization",
        "name": "Claimdesk Demo Fact-Check",
        "names": [],
        "description": "A fictional fact-checking desk for the demo review.",
        "country": None,
        "wikidata_id": None,
        "memberships": [],
    },
]

SOURCE: dict[str, Any] = {
    "key": "awtan-ain-issa",
    "kind": "article",
    "title": TITLE,
    "url": None,
    "publisher": "awtan-post",
    "published_at": "2019-11-24",
    "lang": "ar",
    "archive_url": None,
}


def _claim(
    key: str,
    speaker: str,
    kind: str,
    verbatim: bool,
    english: str,
    note: str,
    stated_on: str | None,
    precision: str | None,
    topics: list[str],
    targets: list[tuple[str, str]],
    relayed_by: str | None = None,
) -> dict[str, Any]:
    return {
        "key": key,
        "speaker": speaker,
        "text": TEXTS[key],
        "lang": "ar",
        "verbatim": verbatim,
        "translations": [{"lang": "en", "text": english}],
        "kind": kind,
        "stated_on": stated_on,
        "stated_on_precision": precision,
        "appearances": [{"source": "awtan-ain-issa", "note": note}],
        "relayed_by": relayed_by,
        "targets": [{"actor": actor, "role": role} for actor, role in targets],
        "topics": topics,
    }


CLAIMS: list[dict[str, Any]] = [
    _claim(
        "sdf-blind-eye",
        "sdf",
        "accusation",
        True,
        "Russian forces turned a blind eye to the attacks of the Turkish army and the Syrian "
        "National Army on Ain Issa in the northern Raqqa countryside. The attack ran before "
        "the eyes of Russian forces, who did nothing to stop this invasion although they are "
        "supposed to be on the ground as guarantor of the ceasefire.",
        "Quoted from an SDF statement, paragraphs 5-6.",
        "2019-11-24",
        "day",
        ["ain-issa", "russia-guarantor"],
        [("russia", "accused"), ("turkish-army", "accused"), ("sna", "accused")],
    ),
    _claim(
        "sdf-guarantor-doubt",
        "sdf",
        "doubt",
        False,
        "Russia ignoring the attacks and failing in its role as guarantor casts much doubt on "
        "its role as guarantor of a political solution throughout Syria.",
        "Reported from the SDF statement, paragraph 7.",
        "2019-11-24",
        "day",
        ["russia-guarantor"],
        [("russia", "criticized")],
    ),
    _claim(
        "sdf-demand",
        "sdf",
        "demand",
        False,
        "The SDF demanded an end to Turkish military operations.",
        "Reported, paragraph 4.",
        "2019-11-24",
        "day",
        ["ain-issa"],
        [("turkey", "addressed")],
    ),
    _claim(
        "activists-russian-orders",
        "activists",
        "assertion",
        False,
        "Activists suggested that the Assad forces held back from supporting the SDF on "
        "Russian orders.",
        "Reported, paragraph 8; the activists are not named.",
        "2019-11-01",
        "month",
        ["ain-issa"],
        [("assad-government", "accused"), ("russia", "accused")],
    ),
    _claim(
        "russia-withdrawal",
        "russia",
        "assertion",
        False,
        'Russia had confirmed orally and in writing that the "terrorists" had fully left '
        "those areas.",
        "Known only second hand: relayed by Hulusi Akar, paragraph 10.",
        "2019-11-01",
        "month",
        ["safe-zone"],
        [("sdf", "mentioned")],
        relayed_by="akar",
    ),
    _claim(
        "akar-members-remain",
        "akar",
        "assertion",
        True,
        "Some members of the SDF militias are still present in the safe zone, although "
        'Russia had earlier confirmed orally and in writing that the "terrorists" had '
        "fully left those areas.",
        "Quoted, paragraph 10.",
        "2019-11-24",
        "day",
        ["safe-zone"],
        [("sdf", "accused"), ("russia", "criticized")],
    ),
    _claim(
        "akar-coordination",
        "akar",
        "assertion",
        False,
        "Ankara continues to coordinate with Russia to verify that the SDF has left the "
        "area, with some difficulties in carrying out the joint patrols.",
        "Reported, paragraph 11.",
        "2019-11-24",
        "day",
        ["safe-zone", "joint-patrols"],
        [("russia", "mentioned")],
    ),
    _claim(
        "akar-confidence",
        "akar",
        "prediction",
        False,
        "Akar expressed confidence and optimism that the safe zone will succeed and the "
        "difficulties will be overcome in the coming period.",
        "Reported, paragraph 12.",
        "2019-11-24",
        "day",
        ["safe-zone"],
        [],
    ),
    _claim(
        "awtan-sochi",
        "awtan-post",
        "assertion",
        False,
        "On 22 October the Russian and Turkish presidents reached an agreement in Sochi on "
        "north-east Syria: the SDF withdraws from the safe zone to a depth of 30 km within "
        "150 hours, and joint Turkish-Russian patrols start to a depth of 10 km, leaving the "
        "Operation Peace Spring area as it is; yesterday, Saturday, the tenth joint patrol "
        "ran between Qamishli and Tal Abyad.",
        "The publisher's own report, paragraph 13.",
        "2019-11-24",
        "day",
        ["sochi-agreement", "safe-zone", "joint-patrols"],
        [("russia", "mentioned"), ("turkey", "mentioned"), ("sdf", "mentioned")],
    ),
    _claim(
        "basha-battle",
        "basha",
        "accusation",
        True,
        "We were and still are in an ongoing battle with the sectarian gang: no stage ends "
        "before another begins, and in between relentless bombardment, continuing massacres "
        "of innocents, destruction of schools, hospitals, bakeries and civil-defence "
        "centres, all amid international silence, even complicity and approval.",
        "Quoted from his statement on social media, paragraph 16.",
        "2019-11-24",
        "day",
        ["idlib"],
        [("assad-government", "accused")],
    ),
    _claim(
        "basha-confrontation",
        "basha",
        "assertion",
        False,
        "He affirmed that confronting the Russian and Iranian militias in the southern Idlib "
        "countryside is the chosen path.",
        "Reported, paragraph 15.",
        "2019-11-24",
        "day",
        ["idlib"],
        [("russia", "addressed"), ("iran", "addressed")],
    ),
    _claim(
        "awtan-air-sorties",
        "awtan-post",
        "assertion",
        False,
        "Dozens of Russian air sorties hit towns and residential areas in southern Idlib and "
        'northern Latakia; on the morning of "Sunday 25 November" rebel factions clashed '
        "with Russian and Iranian militias on the Mushayrifa, Zarzour and Tal Khazna fronts.",
        "The publisher's own report, paragraphs 18-19. The article dates the clashes "
        '"Sunday 25 November", but 24 November 2019 was the Sunday: recorded as the '
        "publication day.",
        "2019-11-24",
        "day",
        ["idlib"],
        [("russia", "accused"), ("iran", "mentioned")],
    ),
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
        ],
        "topics": ["safe-zone"],
    },
]

REVIEWS: list[dict[str, Any]] = [
    {
        "claim": "russia-withdrawal",
        "reviewer": "demo-fact-check",
        "rating": {"label": "Disputed", "value": 2, "best": 5, "worst": 1},
        "summary": "Known only through Turkey's defence minister, who contradicts it in the same "
        "breath; the source offers no independent verification of a full withdrawal.",
        "url": None,
        "published_at": "2019-11-25",
        "lang": "en",
    },
]
