"""The demo contacts' verbatims, so that the dashboard's themes have words to group: a few phrasings per
issue code, in English and some French, as consumers write them (nothing personal in them). Picked by
the contact's id, so running the seed again picks the same words."""

from __future__ import annotations

import zlib

from services.insights.domain.facts import ContactFact

BY_CODE = {
    "complaint.quality.taste_odour": (
        "It tastes stale, like an old box.",
        "The taste is off, bitter and stale.",
        "Smells rancid when I opened it.",
        "Goût rance, pas frais du tout.",
    ),
    "complaint.quality.texture": (
        "Soggy and chewy, not crunchy at all.",
        "The texture is gritty.",
        "Tout mou, plus croustillant.",
    ),
    "complaint.quality.mould_spoilage": (
        "There was mould on top when I opened it.",
        "Green mould inside the sealed pack.",
    ),
    "complaint.quality.foreign_object.hair": ("I found a hair in the pack.", "A long hair baked into it."),
    "complaint.quality.foreign_object.plastic": (
        "I found a piece of hard plastic in my oats.",
        "Sharp plastic fragment in the porridge, lot {lot}.",
        "Blue plastic bits mixed in with the oats.",
        "Un morceau de plastique dans les flocons, lot {lot}.",
    ),
    "complaint.packaging.damaged": ("The box arrived crushed.", "The bag was torn open on the shelf."),
    "complaint.packaging.leaking": ("The bottle leaked all over the bag.", "Leaking seal, sticky carton."),
    "complaint.packaging.under_filled": ("The pack was half empty.", "Far less inside than the weight says."),
    "complaint.illness_injury.illness": ("I felt sick after eating it.", "My son had a stomach ache after."),
    "question.where_to_buy": (
        "Where can I buy it? My store stopped stocking it.",
        "Which shops near me sell it?",
        "Où puis-je acheter ce produit ?",
    ),
    "question.how_to_use": ("How long should I cook it?", "Can I use it in baking?"),
    "question.ingredients": ("Does it contain nuts?", "Is it gluten free?"),
    "compliment.product": ("Lovely taste, we buy it every week.", "Best oats I have had."),
    "compliment.service": ("Thank you for the quick help on the phone.",),
    "suggestion.product": ("Please make a bigger pack.", "A sugar-free version would be great."),
}


def verbatim_of(fact: ContactFact) -> tuple[str, str]:
    """(language, text) for a demo contact; ("", "") for a code without phrasings."""
    phrasings = BY_CODE.get(fact.issue_code, ())
    if not phrasings:
        return "", ""
    text = phrasings[zlib.crc32(fact.contact_id.encode()) % len(phrasings)].format(lot=fact.lot_code)
    french = any(word in text for word in ("Goût", "Tout", "Un morceau", "Où"))
    return ("fr" if french else "en"), text
