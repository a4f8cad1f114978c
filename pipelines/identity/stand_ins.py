"""Names that stand for no name: what forms, registrations and exports hold where a person's name is not known.

Three kinds, after what agencies and CRM exports are known to hold (the US Census Bureau's person validation
lists names such as "Lady of House", "Respondent", "Four" or "Man of the House" entered for a name):

- **unknown markers, refusals and form labels** (:data:`UNKNOWN_NAMES`): "FNU", "Unknown", "Refused", "Last Name",
  "Apellido". In any name field they are no name: :func:`placeholder`;
- **role words and titles** (:data:`ROLE_WORDS`): "Baby Boy", "Adult Male", "Lady of the House", "GOH" (gentleman
  of the household), "Person Two", a bare "Ms". In a given or middle name they are no name. Some are family
  names too (Child, Son, Friend, Parent), so in a family name they are a **stand-in** (:func:`stand_in_family`):
  two family names that agree still agree, but a disagreement with one of them is no evidence;
- **words of the house** ("of the house", "de la casa"): no name in any field; "House" or "Home" alone is no given
  name and a stand-in family name.

The word lists hold the forms :func:`pipelines.identity.features.fold` gives (lower case ASCII, no punctuation).
"""

from __future__ import annotations

from functools import lru_cache

TITLES = frozenset({"mr", "mrs", "ms", "miss", "dr", "prof", "sir", "herr", "frau", "hr", "fr", "m", "mme", "mlle",
                    "sig", "sigra", "dott", "ing", "dipl", "mag", "sr", "sra", "dhr", "mevr"})
#: What is keyed where a name is not known ("FNU" / "LNU": first / last name unknown, as US agencies write it), a
#: refusal, or the label of the form's field
UNKNOWN_NAMES = frozenset({
    "unknown", "unk", "unkn", "none", "null", "nil", "na", "nn", "nfn", "nln", "nmn", "nmi", "fnu", "lnu", "mnu",
    "noname", "no name", "no first name", "no last name", "no middle name", "not known", "not given", "not stated",
    "xx", "xxx", "unbekannt", "inconnu", "sconosciuto", "desconocido", "onbekend",
    "anon", "anonymous", "refused", "declined", "withheld", "dont know", "do not know",
    "last name", "lastname", "surname", "family name", "first name", "firstname", "given name",  # the form's label
    "apellido", "apellidos", "nombre", "nachname", "vorname", "cognome", "prenom", "achternaam", "voornaam",
})
#: What forms and registrations hold in place of a given name: a role in the household, a bare description or a
#: member's number ("Baby Boy", "Adult Male", "Grandchild", "Respondent", "Person Two"; GOH, LOH, MOH, SOH, DOH,
#: COH: gentleman, lady, man, son, daughter, child of the household; HH / HHM: householder, household member)
ROLE_WORDS = frozenset({
    "baby", "boy", "girl", "child", "kid", "infant", "newborn", "son", "daughter", "dau", "grandson",
    "granddaughter", "grandchild", "nephew", "niece", "brother", "sister", "husband", "wife", "spouse", "mother",
    "father", "mom", "mum", "dad", "parent", "adult", "male", "female", "man", "woman", "minor", "oldest",
    "youngest", "eldest", "younger", "older", "inmate", "resident", "occupant", "respondent", "respondant", "resp",
    "tenant", "roommate", "owner", "friend", "householder", "hh", "hhm", "guardian", "hijo", "hija", "nino", "nina",
    "bebe", "enfant", "sohn", "tochter", "gentleman", "gentlemen", "gent", "lady", "senor", "senora", "person",
    "goh", "loh", "moh", "soh", "doh", "coh", "one", "two", "three", "four", "five",
})
#: Family names that stand in for one as often as they are one (John Doe; "No" for no family name)
_STAND_IN_FAMILY = frozenset({"doe", "no", "house", "home"})
_FILLERS = frozenset({"of", "the", "in", "de", "la", "del"})  # "Lady of the house", "Man in the", "de la casa"
_HOUSE = frozenset({"house", "home", "household", "casa", "hogar"})


def placeholder(name: str, *, roles: bool = True) -> bool:
    """A normalised name that stands for no name: an "unknown" marker, a refusal or a form's label, a part of
    "of the house" ("of the house", "de la casa": any name part), or (``roles``, for given and middle names) only
    role words, titles, words of the house and initials ("Adult Male", "Lady of House", "Child F", a bare "Ms",
    "House")."""
    if name in UNKNOWN_NAMES:
        return True
    tokens = name.split()
    if not tokens:
        return False
    house = any(t in _HOUSE for t in tokens)
    if house and all(t in _HOUSE or t in _FILLERS for t in tokens) and (roles or any(t in _FILLERS for t in tokens)):
        return True
    if not roles or not any(_role(t) for t in tokens):
        return False
    return all(_role(t) or t in _FILLERS or t in _HOUSE or len(t) == 1 for t in tokens)


def _role(token: str) -> bool:
    return token in ROLE_WORDS or (len(token) > 1 and token in TITLES)  # "m" is an initial, not Monsieur


@lru_cache(maxsize=16384)
def stand_in_family(name: str) -> bool:
    """A normalised family name that may stand for none: role words (Wife, Respondent, Man of the House), "Doe",
    "No", "House" alone. A disagreement with it says nothing; an agreement still counts (Parent / Parent)."""
    return name in _STAND_IN_FAMILY or placeholder(name)
