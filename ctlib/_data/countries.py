"""Countries as ISO 3166-1 alpha-2 codes, from the codes and names people write (pycountry).

A country is found by its alpha-2, alpha-3 or numeric code, or by its English name, official
name or common name, ignoring case, accents, punctuation, word order and the words "the", "of"
and "and": "Bolivia (Plurinational State of)", "Congo, Democratic Republic of the" and
"Côte d'Ivoire" all match, as IOM's HTCDS picklist writes them. A few names in everyday use
that ISO does not list (Turkey, Ivory Coast, Kosovo, UK, ...) are in ALIASES. Regions (UN M49
and the usual others: West Africa, Middle East, European Union) are refused with their own
message: a person's nationality is a country.
"""

from __future__ import annotations

import difflib
import functools
import re
import unicodedata

import pycountry

STOP_WORDS = frozenset({"the", "of", "and"})
ALIASES = {  # everyday names and codes ISO does not list -> alpha-2
    "Turkey": "TR",
    "Holy See": "VA",
    "Vatican": "VA",
    "Ivory Coast": "CI",
    "Cape Verde": "CV",
    "Swaziland": "SZ",
    "Macedonia": "MK",
    "Burma": "MM",
    "East Timor": "TL",
    "Palestine": "PS",
    "Russia": "RU",
    "Brunei": "BN",
    "Micronesia": "FM",
    "DRC": "CD",
    "DR Congo": "CD",
    "Congo-Kinshasa": "CD",
    "Congo-Brazzaville": "CG",
    "UK": "GB",
    "Great Britain": "GB",
    "USA": "US",
    "Kosovo": "XK",  # user-assigned code used by the EU, the UN and IOM
    "XK": "XK",
}
REGIONS = (  # UN M49 regions and sub-regions, and other groupings people write
    "World",
    "Africa",
    "Northern Africa",
    "Sub-Saharan Africa",
    "Eastern Africa",
    "Middle Africa",
    "Southern Africa",
    "Western Africa",
    "Americas",
    "Latin America and the Caribbean",
    "Latin America",
    "Caribbean",
    "Central America",
    "South America",
    "Northern America",
    "North America",
    "Asia",
    "Central Asia",
    "Eastern Asia",
    "South-eastern Asia",
    "Southern Asia",
    "Western Asia",
    "Europe",
    "Eastern Europe",
    "Northern Europe",
    "Southern Europe",
    "Western Europe",
    "Oceania",
    "Australia and New Zealand",
    "Melanesia",
    "Polynesia",
    "West Africa",
    "East Africa",
    "Central Africa",
    "North Africa",
    "Horn of Africa",
    "Sahel",
    "Middle East",
    "Middle East and North Africa",
    "MENA",
    "Southeast Asia",
    "South Asia",
    "East Asia",
    "Asia and the Pacific",
    "Asia-Pacific",
    "European Union",
    "EU",
    "Balkans",
    "Western Balkans",
    "Caucasus",
    "Gulf States",
)


def key(text) -> str:
    """The form in which country names compare (see the module docstring)."""
    plain = unicodedata.normalize("NFKD", str(text).casefold())
    plain = "".join(c for c in plain if not unicodedata.combining(c)).replace("'", "")
    return " ".join(sorted(set(re.findall(r"[0-9a-z]+", plain)) - STOP_WORDS))


@functools.cache
def _codes() -> dict[str, str]:
    codes = {}
    for country in pycountry.countries:
        for attribute in ("alpha_2", "alpha_3", "numeric", "name", "official_name", "common_name"):
            written = getattr(country, attribute, None)
            if written:
                codes.setdefault(key(written), country.alpha_2)
    codes.update({key(name): code for name, code in ALIASES.items()})
    return codes


@functools.cache
def _regions() -> frozenset[str]:
    return frozenset(key(name) for name in REGIONS)


def country_code(value) -> str | None:
    """The alpha-2 code of a country code or name; None when it names no country."""
    text = str(value).strip()
    if text.isdigit():
        text = text.zfill(3)  # numeric codes such as 40 (Austria) written without their zeros
    return _codes().get(key(text))


def is_region(value) -> bool:
    return key(value) in _regions()


def not_a_country(value) -> str:
    """Why a value is refused as a country, with the closest country name."""
    if is_region(value):
        return (
            f"{value!r} is a region, not a country: give the person's country "
            "(an ISO 3166 code such as NG, or its name)"
        )
    names = [country.name for country in pycountry.countries]
    closest = difflib.get_close_matches(str(value).strip(), names, n=1, cutoff=0.6)
    hint = f"; closest: {closest[0]!r}" if closest else ""
    return (
        f"{value!r} is not a country: write an ISO 3166 code (NG, NGA) or an English country "
        f"name{hint}; leave the cell empty when it is not known (or map it under values in "
        "project.yaml)"
    )


@functools.cache
def country_choices() -> tuple[tuple[str, str], ...]:
    """Every country as (alpha-2 code, its everyday English name), by name: the choices a form
    offers (pycountry's common name where it has one, and Kosovo)."""
    found = {c.alpha_2: getattr(c, "common_name", None) or c.name for c in pycountry.countries}
    found["XK"] = "Kosovo"
    return tuple(sorted(found.items(), key=lambda item: _sort_key(item[1])))


def _sort_key(name: str) -> str:
    plain = unicodedata.normalize("NFKD", name.casefold())
    return "".join(c for c in plain if not unicodedata.combining(c))
