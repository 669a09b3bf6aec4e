"""Coded verbatims written for the demo and the evaluation, in five languages.

Each code has short phrases per language; a verbatim is a phrase set in a frame (greeting, product
nickname, lot code, run-on sentence) and then roughened with typing slips. Frames are split: the held-out
set uses frames the model never saw in training, so it measures more than memory:
the last phrase of each code and language, and two frames, appear only in the held-out set.
"""

from __future__ import annotations

import random

from services.knowledge.demo.phrasings import MORE
from services.knowledge.suggest import Example

PRODUCTS = {
    "en": [
        "the oats",
        "golden oats 500g",
        "oat clusters",
        "peanut butter",
        "PB jar",
        "the cola",
        "zero cola",
        "corn flakes",
        "granola",
        "the coffee",
        "espresso pods",
        "baby puree",
        "dark choc",
        "laundry liquid",
    ],
    "fr": [
        "les flocons d'avoine",
        "avoine 500g",
        "le beurre de cacahuète",
        "le cola",
        "le café",
        "la purée bébé",
        "le chocolat noir",
        "les corn flakes",
        "la lessive",
    ],
    "de": [
        "die Haferflocken",
        "Hafer 500g",
        "die Erdnussbutter",
        "die Cola",
        "der Kaffee",
        "der Babybrei",
        "die Schokolade",
        "die Cornflakes",
    ],
    "es": [
        "los copos de avena",
        "avena 500g",
        "la crema de cacahuete",
        "la cola",
        "el café",
        "el puré de bebé",
        "el chocolate negro",
        "los corn flakes",
    ],
    "ja": [
        "オートミール",
        "ピーナッツバター",
        "コーラ",
        "コーヒー",
        "ベビーフード",
        "チョコレート",
        "コーンフレーク",
    ],
}

PHRASES = {
    "question.where_to_buy": {
        "en": ["where can i buy {p}", "which shops sell {p}", "cant find {p} in my supermarket anymore"],
        "fr": ["où acheter {p}", "quel magasin vend {p}", "je ne trouve plus {p} au supermarché"],
        "de": ["wo kann ich {p} kaufen", "welcher laden verkauft {p}"],
        "es": ["dónde puedo comprar {p}", "qué tienda vende {p}"],
        "ja": ["{p}はどこで買えますか", "{p}を売っている店"],
    },
    "question.how_to_use": {
        "en": ["how do i use {p}", "how long do i cook {p}", "how to prepare {p}"],
        "fr": ["comment utiliser {p}", "combien de temps faut il cuire {p}", "comment préparer {p}"],
        "de": ["wie benutze ich {p}", "wie lange muss ich {p} kochen"],
        "es": ["cómo se usa {p}", "cuánto tiempo hay que cocinar {p}"],
        "ja": ["{p}の使い方", "{p}の作り方を教えて"],
    },
    "question.ingredients": {
        "en": ["does {p} contain gluten", "is {p} nut free", "what are the ingredients of {p}"],
        "fr": [
            "est ce que {p} contient du gluten",
            "quels sont les ingrédients de {p}",
            "{p} contient des traces de noix",
        ],
        "de": ["enthält {p} gluten", "welche zutaten hat {p}"],
        "es": ["{p} contiene gluten", "cuáles son los ingredientes de {p}"],
        "ja": ["{p}にグルテンは入っていますか", "{p}の原材料"],
    },
    "question.promotions": {
        "en": ["is there a coupon for {p}", "the promo on {p} did not work", "any discount code for {p}"],
        "fr": [
            "y a t il un bon de réduction pour {p}",
            "la promo sur {p} na pas marché",
            "un code promo pour {p}",
        ],
        "de": ["gibt es einen gutschein für {p}", "die aktion für {p} hat nicht funktioniert"],
        "es": ["hay algún cupón para {p}", "la promoción de {p} no funcionó"],
        "ja": ["{p}のクーポンはありますか", "{p}のキャンペーン"],
    },
    "complaint.quality.taste_odour": {
        "en": ["{p} tastes off", "{p} smells weird like chemicals", "the taste of {p} changed"],
        "fr": ["{p} a un goût bizarre", "{p} sent mauvais", "le goût de {p} a changé"],
        "de": ["{p} schmeckt komisch", "{p} riecht seltsam"],
        "es": ["{p} sabe raro", "{p} huele mal"],
        "ja": ["{p}の味がおかしい", "{p}が変なにおい"],
    },
    "complaint.quality.texture": {
        "en": ["{p} is soggy", "{p} is all clumpy and hard", "{p} went grainy"],
        "fr": ["{p} est tout mou", "{p} a des grumeaux", "la texture de {p} est granuleuse"],
        "de": ["{p} ist matschig", "{p} ist klumpig"],
        "es": ["{p} está blando", "{p} tiene grumos"],
        "ja": ["{p}の食感が悪い", "{p}がダマになっている"],
    },
    "complaint.quality.foreign_object.plastic": {
        "en": [
            "there was plastic in {p}",
            "found a bit of plastic in {p}",
            "a piece of blue plastic in my box",
        ],
        "fr": [
            "il y avait du plastique dans {p}",
            "un morceau de plastique dans ma boîte",
            "du plastique dans {p}",
        ],
        "de": ["da war plastik in {p}", "ein stück plastik in der packung"],
        "es": ["había plástico en {p}", "un trozo de plástico en la caja"],
        "ja": ["{p}にプラスチックが入っていた", "プラスチックの破片"],
    },
    "complaint.quality.foreign_object.metal": {
        "en": ["a metal wire in {p}", "found a screw in {p}", "metal shaving in {p}"],
        "fr": ["un fil de métal dans {p}", "une vis dans {p}", "un bout de métal dans {p}"],
        "de": ["ein metalldraht in {p}", "eine schraube in {p}"],
        "es": ["un alambre de metal en {p}", "un tornillo en {p}"],
        "ja": ["{p}に金属が入っていた", "{p}にネジ"],
    },
    "complaint.quality.foreign_object.glass": {
        "en": ["glass in {p}", "a shard of glass in {p}", "broken glass pieces in {p}"],
        "fr": ["du verre dans {p}", "un éclat de verre dans {p}", "des bouts de verre dans {p}"],
        "de": ["glas in {p}", "eine glasscherbe in {p}"],
        "es": ["vidrio en {p}", "un trozo de cristal en {p}"],
        "ja": ["{p}にガラス", "{p}にガラスの破片"],
    },
    "complaint.quality.foreign_object.insect": {
        "en": ["a bug in {p}", "found a dead fly in {p}", "little insects crawling in {p}"],
        "fr": ["un insecte dans {p}", "une mouche morte dans {p}", "des petites bêtes dans {p}"],
        "de": ["ein insekt in {p}", "eine tote fliege in {p}"],
        "es": ["un insecto en {p}", "una mosca muerta en {p}"],
        "ja": ["{p}に虫が入っていた", "{p}にハエ"],
    },
    "complaint.quality.foreign_object.hair": {
        "en": ["a hair in {p}", "long hair baked into {p}", "there was a hair in it"],
        "fr": ["un cheveu dans {p}", "un poil dans {p}", "il y avait un cheveu"],
        "de": ["ein haar in {p}", "ein langes haar in {p}"],
        "es": ["un pelo en {p}", "había un pelo largo en {p}"],
        "ja": ["{p}に髪の毛", "{p}に毛が入っていた"],
    },
    "complaint.quality.mould_spoilage": {
        "en": ["mould on {p}", "{p} was mouldy before the date", "{p} had gone off and was fizzy"],
        "fr": ["de la moisissure sur {p}", "{p} était moisi", "{p} était périmé avant la date"],
        "de": ["schimmel auf {p}", "{p} war verschimmelt"],
        "es": ["moho en {p}", "{p} estaba podrido"],
        "ja": ["{p}にカビ", "{p}が腐っていた"],
    },
    "complaint.packaging.leaking": {
        "en": ["{p} leaked everywhere", "the bottle of {p} is leaking", "{p} was dripping in the bag"],
        "fr": ["{p} a fui partout", "la bouteille de {p} fuit", "{p} coulait dans le sac"],
        "de": ["{p} ist ausgelaufen", "die flasche {p} leckt"],
        "es": ["{p} se salió", "la botella de {p} gotea"],
        "ja": ["{p}が漏れていた", "{p}の容器から液漏れ"],
    },
    "complaint.packaging.damaged": {
        "en": ["the box of {p} arrived crushed", "{p} pack was torn", "dented can of {p}"],
        "fr": [
            "la boîte de {p} est arrivée écrasée",
            "le paquet de {p} était déchiré",
            "canette de {p} cabossée",
        ],
        "de": ["die packung {p} war zerdrückt", "{p} verpackung war kaputt"],
        "es": ["la caja de {p} llegó aplastada", "el paquete de {p} estaba roto"],
        "ja": ["{p}の箱がつぶれていた", "{p}の袋が破れていた"],
    },
    "complaint.packaging.hard_to_open": {
        "en": ["cant open {p}", "the lid of {p} is impossible to open", "{p} is so hard to open"],
        "fr": ["impossible d'ouvrir {p}", "le couvercle de {p} ne s'ouvre pas", "{p} est dur à ouvrir"],
        "de": ["ich kann {p} nicht öffnen", "der deckel von {p} geht nicht auf"],
        "es": ["no puedo abrir {p}", "la tapa de {p} no se abre"],
        "ja": ["{p}が開けられない", "{p}のふたが開かない"],
    },
    "complaint.packaging.under_filled": {
        "en": ["{p} was half empty", "not enough in the pack of {p}", "the {p} box is only half full"],
        "fr": [
            "{p} était à moitié vide",
            "il n'y a pas assez dans le paquet de {p}",
            "la boîte de {p} est à moitié pleine",
        ],
        "de": ["{p} war halb leer", "zu wenig inhalt in {p}"],
        "es": ["{p} estaba medio vacío", "el paquete de {p} viene con poco"],
        "ja": ["{p}が半分しか入っていない", "{p}の中身が少ない"],
    },
    "complaint.illness_injury.illness": {
        "en": [
            "my child got sick after eating {p}",
            "i was vomiting after {p}",
            "we all had diarrhoea after {p}",
        ],
        "fr": [
            "mon enfant a été malade après {p}",
            "j'ai vomi après avoir mangé {p}",
            "toute la famille malade après {p}",
        ],
        "de": ["mein kind wurde krank nach {p}", "ich musste mich nach {p} übergeben"],
        "es": ["mi hijo se enfermó después de {p}", "vomité después de comer {p}"],
        "ja": ["{p}を食べた子どもが具合が悪くなった", "{p}の後に吐いた"],
    },
    "complaint.illness_injury.allergic_reaction": {
        "en": [
            "allergic reaction after {p}",
            "my son broke out in hives from {p}",
            "had to use the epipen after {p}",
        ],
        "fr": [
            "réaction allergique après {p}",
            "mon fils a eu de l'urticaire avec {p}",
            "crise d'allergie après {p}",
        ],
        "de": ["allergische reaktion nach {p}", "mein sohn bekam ausschlag von {p}"],
        "es": ["reacción alérgica después de {p}", "mi hijo tuvo urticaria por {p}"],
        "ja": ["{p}でアレルギー反応が出た", "{p}を食べてじんましん"],
    },
    "complaint.illness_injury.injury": {
        "en": ["i cut my finger on the {p} lid", "broke a tooth on {p}", "burned my hand opening {p}"],
        "fr": [
            "je me suis coupé avec le couvercle de {p}",
            "je me suis cassé une dent sur {p}",
            "brûlé la main en ouvrant {p}",
        ],
        "de": ["ich habe mich am deckel von {p} geschnitten", "zahn abgebrochen an {p}"],
        "es": ["me corté el dedo con la tapa de {p}", "me rompí un diente con {p}"],
        "ja": ["{p}のふたで指を切った", "{p}で歯が欠けた"],
    },
    "compliment.product": {
        "en": ["i love {p}", "{p} is the best thank you", "just wanted to say {p} is delicious"],
        "fr": ["j'adore {p}", "{p} est délicieux merci", "bravo pour {p}"],
        "de": ["ich liebe {p}", "{p} ist super lecker danke"],
        "es": ["me encanta {p}", "{p} está buenísimo gracias"],
        "ja": ["{p}が大好きです", "{p}はとてもおいしい"],
    },
    "compliment.service": {
        "en": [
            "your agent was so helpful last time",
            "thanks for the quick refund",
            "great customer service",
        ],
        "fr": [
            "votre conseillère a été très aimable",
            "merci pour le remboursement rapide",
            "super service client",
        ],
        "de": ["ihr mitarbeiter war sehr hilfsbereit", "danke für die schnelle erstattung"],
        "es": ["su agente fue muy amable", "gracias por el reembolso rápido"],
        "ja": ["対応がとても丁寧でした", "返金が早くて助かりました"],
    },
    "suggestion.product": {
        "en": [
            "please make {p} in a bigger size",
            "you should do a chocolate version of {p}",
            "bring back the old {p}",
        ],
        "fr": [
            "faites {p} en plus grand format",
            "vous devriez faire {p} au chocolat",
            "remettez l'ancien {p}",
        ],
        "de": ["bitte {p} in einer größeren packung", "macht {p} mit schokolade"],
        "es": ["hagan {p} en tamaño grande", "deberían sacar {p} con chocolate"],
        "ja": ["{p}の大きいサイズを作ってほしい", "{p}のチョコ味を出して"],
    },
    "suggestion.packaging": {
        "en": [
            "a resealable bag for {p} would be nice",
            "use less plastic packaging on {p}",
            "please put {p} in recyclable packs",
        ],
        "fr": [
            "un sachet refermable pour {p} serait pratique",
            "moins d'emballage sur {p}",
            "des emballages recyclables pour {p}",
        ],
        "de": ["ein wiederverschließbarer beutel für {p} wäre gut", "weniger verpackung bei {p}"],
        "es": ["una bolsa con cierre para {p} estaría bien", "menos envase en {p}"],
        "ja": ["{p}をチャック付きの袋にしてほしい", "{p}の包装を減らしてほしい"],
    },
}

FRAMES = {
    "en": [
        "{x}",
        "hi {x} thanks",
        "hello i bought it last week and {x} lot {lot} best before {date}",
        "{x}!!! not happy",
        "so i was at the shop yesterday and i picked it up and {x} and my wife said call you",
        "Dear sir or madam, {x}. Batch code {lot}.",
    ],
    "fr": [
        "{x}",
        "bonjour {x} merci",
        "bonjour j'ai acheté la semaine dernière et {x} lot {lot}",
        "{x} !!! pas content",
        "alors hier au magasin j'ai pris et {x} et ma femme m'a dit de vous appeler",
        "Madame, Monsieur, {x}. Numéro de lot {lot}.",
    ],
    "de": [
        "{x}",
        "hallo {x} danke",
        "guten tag ich habe letzte woche gekauft und {x} charge {lot}",
        "{x}!!! nicht zufrieden",
        "also gestern im laden und dann {x} und meine frau sagt ich soll anrufen",
        "Sehr geehrte Damen und Herren, {x}. Los {lot}.",
    ],
    "es": [
        "{x}",
        "hola {x} gracias",
        "hola lo compré la semana pasada y {x} lote {lot}",
        "{x}!!! no estoy contento",
        "ayer en la tienda lo cogí y {x} y mi mujer dijo que llamara",
        "Estimados señores, {x}. Lote {lot}.",
    ],
    "ja": [
        "{x}",
        "こんにちは。{x}",
        "先週買いましたが、{x}。ロット{lot}",
        "{x}!!",
        "昨日お店で買って{x}ので電話しました",
        "お世話になります。{x}。製造番号{lot}",
    ],
}
HELD_OUT_FRAMES = {3, 5}


def _slip(text: str, rng: random.Random) -> str:
    """One typing slip in some words: a dropped, doubled or swapped letter."""
    words = text.split(" ")
    for i, word in enumerate(words):
        if len(word) > 4 and rng.random() < 0.15:
            j = rng.randrange(1, len(word) - 2)
            kind = rng.randrange(3)
            if kind == 0:
                words[i] = word[:j] + word[j + 1 :]
            elif kind == 1:
                words[i] = word[:j] + word[j] + word[j:]
            else:
                words[i] = word[:j] + word[j + 1] + word[j] + word[j + 2 :]
    return " ".join(words)


def _verbatim(phrase: str, frame: str, language: str, rng: random.Random) -> str:
    inner = phrase.format(p=rng.choice(PRODUCTS[language]))
    lot = f"{rng.choice('ABCLX')}{rng.randrange(10, 99)}{rng.randrange(100, 999)}"
    text = frame.format(x=inner, lot=lot, date=f"{rng.randrange(1, 28)}/0{rng.randrange(1, 9)}/27")
    return _slip(text.lower() if rng.random() < 0.5 else text, rng)


def held_out_phrasings() -> dict[tuple[str, str], str]:
    """(code, language) -> the one phrasing kept out of training: the last one written in PHRASES."""
    return {(code, lang): phrases[-1] for code, langs in PHRASES.items() for lang, phrases in langs.items()}


def generate(
    *, per_phrase: int = 2, seed: int = 11, more: bool = True
) -> tuple[list[Example], list[Example]]:
    """(training, held-out): a held-out verbatim has a phrasing and a frame the training set never has.

    Training: every phrasing but the last of PHRASES, and (with `more`) the phrasings of MORE, in the
    training frames. Held-out: the last phrasing in the two held-out frames, drawn from its own random
    stream, so it is the same whatever the training set holds.
    """
    train_rng, held_rng = random.Random(seed), random.Random(seed + 1)
    kept = held_out_phrasings()
    training: list[Example] = []
    held_out: list[Example] = []
    for code, languages in PHRASES.items():
        for language, phrases in languages.items():
            seen = phrases[:-1] + (MORE[code][language] if more else [])
            for phrase in seen:
                for n, frame in enumerate(FRAMES[language]):
                    if n in HELD_OUT_FRAMES:
                        continue
                    for _ in range(per_phrase):
                        training.append(
                            Example(_verbatim(phrase, frame, language, train_rng), code, language)
                        )
            for n in sorted(HELD_OUT_FRAMES):
                frame = FRAMES[language][n]
                held_out.append(
                    Example(_verbatim(kept[code, language], frame, language, held_rng), code, language)
                )
    return training, held_out
