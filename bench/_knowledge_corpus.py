"""A knowledge base of a realistic size for the benchmark: a food company's catalogue, five kinds of article
per product, in five languages, around the demo articles that the evaluation questions are about.

The catalogue's products are the company's others: none of them is an answer to an evaluation question,
so a question's article is still the one to find. Its articles share the demo's kinds, templates of
words (where to buy, preparation, allergens, coupons) and languages, so they are near neighbours, not
unrelated text.
"""

from __future__ import annotations

import random

from services.knowledge.articles import Article

FAMILIES = {
    # family: (en, fr, de, es, ja) names, and the words an article of the family uses
    "muesli": (("Muesli", "muesli", "Müsli", "muesli", "ミューズリー"), "breakfast"),
    "juice": (
        ("Orange juice", "jus d'orange", "Orangensaft", "zumo de naranja", "オレンジジュース"),
        "drink",
    ),
    "jam": (
        ("Strawberry jam", "confiture de fraise", "Erdbeermarmelade", "mermelada de fresa", "いちごジャム"),
        "spread",
    ),
    "tea": (("Green tea", "thé vert", "Grüntee", "té verde", "緑茶"), "tea"),
    "biscuit": (
        ("Butter biscuits", "biscuits au beurre", "Butterkekse", "galletas de mantequilla", "バタークッキー"),
        "snack",
    ),
    "chocolate": (
        ("Dark chocolate", "chocolat noir", "Zartbitterschokolade", "chocolate negro", "ダークチョコレート"),
        "sweet",
    ),
    "pasta": (("Penne pasta", "pâtes penne", "Penne Nudeln", "pasta penne", "ペンネ"), "pasta"),
    "soup": (("Tomato soup", "soupe de tomate", "Tomatensuppe", "sopa de tomate", "トマトスープ"), "soup"),
    "yoghurt": (
        ("Plain yoghurt", "yaourt nature", "Naturjoghurt", "yogur natural", "プレーンヨーグルト"),
        "dairy",
    ),
    "cereal": (("Corn flakes", "pétales de maïs", "Cornflakes", "copos de maíz", "コーンフレーク"), "cereal"),
    "rice": (("Basmati rice", "riz basmati", "Basmatireis", "arroz basmati", "バスマティライス"), "rice"),
    "honey": (("Flower honey", "miel de fleurs", "Blütenhonig", "miel de flores", "はちみつ"), "spread"),
    "ketchup": (("Tomato ketchup", "ketchup", "Tomatenketchup", "kétchup", "ケチャップ"), "sauce"),
    "water": (("Sparkling water", "eau gazeuse", "Mineralwasser", "agua con gas", "炭酸水"), "drink"),
    "icecream": (
        ("Vanilla ice cream", "glace vanille", "Vanilleeis", "helado de vainilla", "バニラアイス"),
        "frozen",
    ),
    "crisps": (
        ("Salted crisps", "chips salées", "Kartoffelchips", "patatas fritas", "ポテトチップス"),
        "snack",
    ),
}
VARIANTS = [
    "Classic",
    "Organic",
    "Family pack",
    "Light",
    "Extra",
    "Mini",
    "Gold",
    "Wholegrain",
    "Zero",
    "Kids",
]
SIZES = ["250 g", "500 g", "750 g", "1 kg", "6 x 330 ml", "12 x 330 ml", "1 l", "200 g", "400 g", "10 pods"]
STORES = ["Carrefour", "Tesco", "Lidl", "Edeka", "Mercadona", "Aeon", "Auchan", "Rewe", "Sainsbury's", "Dia"]
ALLERGENS = ["gluten", "milk", "soya", "hazelnut", "peanut", "sesame", "egg", "mustard"]

TEMPLATES = {
    "where_to_buy": {
        "en": (
            "Where to buy {name}",
            "{name} {size} is sold at {s1} and {s2}, in the {aisle} aisle, and in "
            "our online shop. If your store has stopped stocking it, ask at the desk: they can order it "
            "from the regional warehouse. Give us your postcode and we will tell you the nearest shops.",
        ),
        "fr": (
            "Où acheter {name}",
            "{name} {size} est vendu chez {s1} et {s2}, au rayon {aisle}, et sur "
            "notre boutique en ligne. Si votre magasin ne l'a plus, demandez à l'accueil de le commander.",
        ),
        "de": (
            "Wo gibt es {name}",
            "{name} {size} gibt es bei {s1} und {s2} im Regal {aisle} und in "
            "unserem Onlineshop. Führt Ihr Markt es nicht mehr, fragen Sie an der Information.",
        ),
        "es": (
            "Dónde comprar {name}",
            "{name} {size} se vende en {s1} y {s2}, en la sección {aisle}, y en "
            "nuestra tienda en línea. Si su tienda ya no lo tiene, pida que lo encarguen.",
        ),
        "ja": (
            "{name}の販売店",
            "{name} {size}は{s1}や{s2}の{aisle}売り場、オンラインショップで販売して"
            "います。お近くの店にない場合はサービスカウンターで取り寄せをご依頼ください。",
        ),
    },
    "how_to_use": {
        "en": (
            "How to prepare {name}",
            "For {name}: use {n} ml of water or milk per serving and heat for "
            "{m} minutes, stirring halfway. Store in a cool dry place and use within {d} weeks of opening.",
        ),
        "fr": (
            "Comment préparer {name}",
            "Pour {name} : {n} ml d'eau ou de lait par portion, chauffer "
            "{m} minutes en remuant. Conserver au sec et consommer sous {d} semaines après ouverture.",
        ),
        "de": (
            "Zubereitung von {name}",
            "Für {name}: {n} ml Wasser oder Milch pro Portion, {m} Minuten "
            "erhitzen und umrühren. Trocken lagern und nach dem Öffnen binnen {d} Wochen verbrauchen.",
        ),
        "es": (
            "Cómo preparar {name}",
            "Para {name}: {n} ml de agua o leche por ración, calentar {m} "
            "minutos removiendo. Conservar en lugar seco y consumir en {d} semanas tras abrir.",
        ),
        "ja": (
            "{name}の作り方",
            "{name}は1人分に水か牛乳{n}mlを入れ、{m}分温めて途中で混ぜてください。"
            "開封後は涼しい所に保存し、{d}週間以内にお召し上がりください。",
        ),
    },
    "ingredients": {
        "en": (
            "{name}: ingredients and allergens",
            "{name} contains {a1}. It is made in a factory that "
            "also handles {a2}, so traces may be present. {kcal} kcal per 100 g.",
        ),
        "fr": (
            "{name} : ingrédients et allergènes",
            "{name} contient {a1}. Fabriqué dans un atelier qui "
            "utilise aussi {a2} : traces possibles. {kcal} kcal pour 100 g.",
        ),
        "de": (
            "{name}: Zutaten und Allergene",
            "{name} enthält {a1}. Hergestellt in einem Betrieb, der "
            "auch {a2} verarbeitet; Spuren möglich. {kcal} kcal pro 100 g.",
        ),
        "es": (
            "{name}: ingredientes y alérgenos",
            "{name} contiene {a1}. Elaborado en una fábrica que "
            "también usa {a2}, puede contener trazas. {kcal} kcal por 100 g.",
        ),
        "ja": (
            "{name}の原材料とアレルゲン",
            "{name}には{a1}が含まれます。{a2}を扱う工場で製造しています。100gあたり{kcal}kcal。",
        ),
    },
    "promotions": {
        "en": (
            "{name} offers and coupons",
            "The {name} coupon is valid until the end of the month at "
            "{s1}. If a till refuses it, keep the receipt and send us a photo: we refund the discount.",
        ),
        "fr": (
            "Offres et bons {name}",
            "Le bon de réduction {name} est valable jusqu'à la fin du mois chez "
            "{s1}. Si la caisse le refuse, gardez le ticket et envoyez-nous une photo.",
        ),
        "de": (
            "Angebote und Gutscheine {name}",
            "Der Gutschein für {name} gilt bis Monatsende bei {s1}. "
            "Lehnt die Kasse ihn ab, schicken Sie uns ein Foto des Kassenbons.",
        ),
        "es": (
            "Ofertas y cupones {name}",
            "El cupón de {name} es válido hasta fin de mes en {s1}. Si la "
            "caja lo rechaza, guarde el tique y envíenos una foto.",
        ),
        "ja": (
            "{name}のキャンペーンとクーポン",
            "{name}のクーポンは今月末まで{s1}で使えます。"
            "レジで使えなかった場合はレシートの写真をお送りください。",
        ),
    },
    "general": {
        "en": (
            "About {name}",
            "{name} is made in our plant in {plant}. The best-before date and lot code "
            "are printed on the {where}. Recycle the packaging with {bin}.",
        ),
        "fr": (
            "À propos de {name}",
            "{name} est fabriqué dans notre usine de {plant}. La date et le lot "
            "sont imprimés sur {where}. L'emballage se recycle avec {bin}.",
        ),
        "de": (
            "Über {name}",
            "{name} wird in unserem Werk in {plant} hergestellt. MHD und Los stehen auf "
            "{where}. Die Verpackung gehört in {bin}.",
        ),
        "es": (
            "Sobre {name}",
            "{name} se fabrica en nuestra planta de {plant}. La fecha y el lote están "
            "en {where}. El envase se recicla con {bin}.",
        ),
        "ja": (
            "{name}について",
            "{name}は{plant}工場で製造しています。賞味期限とロット番号は{where}に印字されています。",
        ),
    },
}
LANGUAGES = ("en", "fr", "de", "es", "ja")


def catalogue(count: int, *, seed: int = 3) -> list[Article]:
    """`count` published article versions (id, language), products cycling through families and variants."""
    rng = random.Random(seed)
    out: list[Article] = []
    n = 0
    while len(out) < count:
        family = list(FAMILIES)[n % len(FAMILIES)]
        names, aisle = FAMILIES[family]
        variant = VARIANTS[(n // len(FAMILIES)) % len(VARIANTS)]
        sku = f"{family[:3].upper()}-{n:04d}"
        for kind, by_language in TEMPLATES.items():
            for li, language in enumerate(LANGUAGES):
                if len(out) >= count:
                    break
                title, body = by_language[language]
                s1, s2 = rng.sample(STORES, 2)
                a1, a2 = rng.sample(ALLERGENS, 2)
                fields = dict(
                    name=f"{names[li]} {variant}",
                    size=rng.choice(SIZES),
                    s1=s1,
                    s2=s2,
                    aisle=aisle,
                    n=rng.choice((100, 150, 200, 250)),
                    m=rng.randrange(1, 12),
                    d=rng.randrange(2, 8),
                    a1=a1,
                    a2=a2,
                    kcal=rng.randrange(40, 600),
                    plant=rng.choice(("Lyon", "Ulm", "Leeds")),
                    where=rng.choice(("lid", "base", "back of the pack")),
                    bin=rng.choice(("paper", "plastics")),
                )
                out.append(
                    Article(
                        id=f"{family}-{n:04d}-{kind.replace('_', '-')}",
                        product_sku=sku,
                        kind=kind,
                        language=language,
                        version=1,
                        title=title.format(**fields),
                        body=body.format(**fields),
                        state="published",
                        owner="bench",
                        author="bench",
                    )
                )
        n += 1
    return out
