"""A small hand-labelled set of verbatims, in English, French and Spanish, for the theme clustering's unit
tests and for bench/themes_quality.py, which compares representations on it. Each line: (label, language, text).
The labels are the themes a reader would name; the texts vary their words as consumers do.
"""

LABELLED = [
    ("plastic", "en", "I found a piece of hard plastic in my oats this morning"),
    ("plastic", "en", "There was a sharp plastic piece in the porridge, nearly broke a tooth"),
    ("plastic", "en", "A blue plastic fragment was in the bag of oats"),
    ("plastic", "en", "Small bits of plastic mixed in with the cereal, lot OAT-12"),
    ("plastic", "en", "My son bit on a plastic piece hidden in the oats"),
    ("plastic", "en", "Plastic shard found inside the packet, very dangerous"),
    ("plastic", "fr", "J'ai trouvé un morceau de plastique dans mes flocons d'avoine"),
    ("plastic", "fr", "Un bout de plastique dur dans le paquet, lot OAT-12"),
    ("plastic", "es", "Encontré un trozo de plástico en la avena"),
    ("stale", "en", "The crackers taste stale, like they were old"),
    ("stale", "en", "Stale taste, the biscuits were soft and not crunchy at all"),
    ("stale", "en", "These taste stale and old even though the date is fine"),
    ("stale", "en", "Opened a new box and the crackers were stale and chewy"),
    ("stale", "en", "Tastes rancid and stale, had to throw it away"),
    ("stale", "en", "The cookies had an old, stale taste"),
    ("stale", "fr", "Les biscuits ont un goût rance, pas frais du tout"),
    ("stale", "fr", "Goût de vieux, les crackers ne sont plus croustillants"),
    ("stale", "es", "Las galletas saben rancias y viejas"),
    ("where", "en", "Where can I buy the oat milk? My store stopped stocking it"),
    ("where", "en", "Which shops near me sell your granola?"),
    ("where", "en", "I can't find the crackers in any store anymore, where to buy them?"),
    ("where", "en", "Is the gluten free range sold in supermarkets near Springfield?"),
    ("where", "en", "Where do I buy the large pack? None of the stores carry it"),
    ("where", "en", "Can I order it online, the shop no longer sells it"),
    ("where", "fr", "Où puis-je acheter votre granola ? Mon magasin n'en vend plus"),
    ("where", "fr", "Dans quel magasin trouver les crackers ?"),
    ("where", "es", "¿Dónde puedo comprar la avena? Mi tienda ya no la vende"),
]

ENGLISH = [(label, text) for label, language, text in LABELLED if language == "en"]
