"""The demo's scanned letters, drawn at seed time (no scan is kept in git): a French one as a PNG and an
English one as a PDF, in var/demo-letters/, for an agent to upload on the console's Letters page."""

from __future__ import annotations

import pathlib

from PIL import Image, ImageDraw, ImageFont

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]
FOLDER = REPO_ROOT / "var" / "demo-letters"
# scripts/system-deps.sh sets this font up; it has the accented letters French needs.
FONT = "/usr/share/fonts/opentype/ipafont-gothic/ipag.ttf"
LETTERS = {
    "lettre-biscuits.png": (
        "Paris, le 3 novembre\n\nMadame, Monsieur,\n\nLes biscuits au beurre achetés mardi\n"
        "étaient cassés et avaient un goût rance.\nLe lot imprimé sur le paquet est L2291.\n"
        "Je souhaite un remboursement.\n\nClaire Martin\n12 rue des Lilas, 75011 Paris"
    ),
    "letter-cereal.pdf": (
        "Leeds, 2 November\n\nDear Customer Care,\n\nThe box of oat cereal I bought last week\n"
        "contained a piece of hard plastic.\nThe batch code on the box is B7731.\n"
        "Please tell me what you will do about it.\n\nGeorge Hall\n4 Mill Lane, Leeds LS6 2AB"
    ),
}


def page(text: str) -> Image.Image:
    """An A4 page at 150 dpi, black text on white, as a flatbed scanner gives it."""
    sheet = Image.new("L", (1240, 1754), 255)
    ImageDraw.Draw(sheet).multiline_text(
        (120, 160), text, fill=0, font=ImageFont.truetype(FONT, 36), spacing=18
    )
    return sheet


def write(folder: pathlib.Path = FOLDER) -> list[pathlib.Path]:
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in LETTERS.items():
        path = folder / name
        page(text).save(path, resolution=150.0)
        written.append(path)
    return written
