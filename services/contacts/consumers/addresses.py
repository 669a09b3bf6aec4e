"""Postal addresses laid out the way each country's post expects them."""

from __future__ import annotations

from services.contacts.consumers.model import PostalAddress

# The line after the street lines, per country; countries not listed use the international default.
_LAST_LINES = {
    "US": ["{locality}, {administrative_area} {postal_code}"],
    "CA": ["{locality} {administrative_area} {postal_code}"],
    "AU": ["{locality} {administrative_area} {postal_code}"],
    "GB": ["{locality}", "{postal_code}"],
    "IE": ["{locality}", "{administrative_area}", "{postal_code}"],
    "FR": ["{postal_code} {locality} {sorting_code}"],
    "DE": ["{postal_code} {locality}"],
    "ES": ["{postal_code} {locality}", "{administrative_area}"],
    "IT": ["{postal_code} {locality} {administrative_area}"],
    "NL": ["{postal_code} {locality}"],
    "JP": ["〒{postal_code}", "{administrative_area}{locality}"],
}
_DEFAULT = ["{postal_code} {locality}", "{administrative_area}"]
COUNTRY_NAMES = {
    "US": "UNITED STATES",
    "CA": "CANADA",
    "GB": "UNITED KINGDOM",
    "FR": "FRANCE",
    "DE": "GERMANY",
}


def format_address(address: PostalAddress, *, home_region: str | None = None) -> str:
    """The address as lines; the country is named only when it is not the home region."""
    values = {
        "locality": address.locality,
        "administrative_area": address.administrative_area,
        "postal_code": address.postal_code,
        "sorting_code": address.sorting_code,
    }
    lines = list(address.address_lines)
    for template in _LAST_LINES.get(address.region_code, _DEFAULT):
        line = " ".join(template.format(**values).split()).strip(" ,")
        if line and line != "〒":
            lines.append(line)
    if home_region and address.region_code != home_region.upper():
        lines.append(COUNTRY_NAMES.get(address.region_code, address.region_code))
    return "\n".join(lines)
