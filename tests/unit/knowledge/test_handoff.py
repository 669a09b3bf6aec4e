"""Each hand-off rule, in English, French and the other demo languages."""

import pytest

from services.knowledge.handoff import ASKED_FOR_PERSON, LOW_CONFIDENCE, SAFETY, decide

SAFETY_QUESTIONS = [
    "my child got sick after eating it",
    "I think I'm allergic, my lips are swelling",
    "there was a piece of glass in the jar",
    "mon enfant est malade après avoir mangé les flocons",
    "il y avait un ver dans les flocons",
    "j'ai trouvé des vers dans le paquet",
    "il y avait du plastique dans ma boîte",
    "j'ai fait une réaction allergique",
    "mein Kind ist krank geworden",
    "había un trozo de plástico en la caja",
    "子どもが食べて具合が悪くなった",
    "子どもがアレルギー反応を起こした",
    "I had an allergic reaction",
    "my son is allergic and ate it and now has hives",
    "ma fille est allergique et elle en a mangé",
    "allergische Reaktion nach dem Frühstück",
    "mi hijo tuvo una reacción alérgica",
    "アレルギー反応が出ました",
]

BASIC_QUESTIONS = [
    "what are the allergens in the oat clusters?",
    "does it contain nuts",
    "is it gluten free?",
    "quels sont les allergènes des flocons d'avoine ?",
    "sans gluten ?",
    "dans quel magasin trouver l'avoine golden",
    "est-ce que ça contient des noix ?",
    "Welche Allergene sind im Müsli?",
    "¿qué alérgenos tiene la crema de cacahuete?",
    "オーツのアレルゲンは何ですか",
]


@pytest.mark.parametrize("question", SAFETY_QUESTIONS)
def test_safety_hands_off_even_when_the_answer_is_certain(question):
    decision = decide(question, confidence=0.99, threshold=0.5)
    assert decision.hand_off and decision.reason == SAFETY


@pytest.mark.parametrize("question", BASIC_QUESTIONS)
def test_allergen_and_other_basic_questions_are_answered_not_handed_off(question):
    assert not decide(question, confidence=0.9, threshold=0.8).hand_off


@pytest.mark.parametrize(
    "question",
    ["can I talk to a person please", "je veux parler à un conseiller", "quiero hablar con un agente"],
)
def test_asking_for_a_person_hands_off(question):
    assert decide(question, confidence=0.99, threshold=0.5).reason == ASKED_FOR_PERSON


@pytest.mark.parametrize("question", ["where can I buy the oats", "où acheter les flocons d'avoine"])
def test_low_confidence_hands_off_and_high_confidence_answers(question):
    assert decide(question, confidence=0.4, threshold=0.8).reason == LOW_CONFIDENCE
    assert not decide(question, confidence=0.9, threshold=0.8).hand_off


def test_everyday_words_are_not_read_as_safety():
    for question in [
        "will the promotion come back",
        "what are the ingredients of the cola",
        "je passerai vers midi, le magasin vers la gare vend-il les flocons ?",
    ]:
        assert not decide(question, confidence=0.9, threshold=0.8).hand_off


@pytest.mark.parametrize(
    "question",
    [
        "un ver dans ma boîte",
        "il y a des vers dans le paquet de flocons",
        "deux petits vers dans le bol, c'est dégoûtant",
        "la boîte était pleine de vers",
        "des vers blancs dans les céréales",
        "there was a worm in the oats",
        "worms in the cereal box",
    ],
)
def test_a_worm_in_the_food_hands_off_for_safety(question):
    assert decide(question, confidence=0.99, threshold=0.5).reason == SAFETY


@pytest.mark.parametrize(
    "question",
    [
        "je vais vers le magasin, ont-ils les flocons ?",
        "vers quelle heure ouvrez-vous ?",
        "je l'ai acheté le 3 vers midi, où trouver le format 1 kg ?",
        "pouvez-vous m'orienter vers des magasins qui vendent le cola ?",
        "I am heading towards the store, do they stock the oats?",
    ],
)
def test_vers_as_towards_or_around_is_a_plain_question(question):
    assert not decide(question, confidence=0.9, threshold=0.8).hand_off
