"""What the office reads in its workspace, in Swedish, Norwegian (bokmål) and English (pure).

Labels inside FormXml and SiteMapXml carry every language (Dataverse shows the user's own
and falls back to the base language); names that Dataverse keeps as one string (a view's
``name``, a form's ``name``, the app's ``name``) are written in the office's language.
"""

from __future__ import annotations

from collections.abc import Mapping

from plugins.registration.review_text import LANGUAGES, OfficeLanguage

LCIDS: Mapping[OfficeLanguage, int] = {"sv": 1053, "nb": 1044, "en": 1033}
"""Dataverse language codes (LCID) of the office languages."""

_TEXTS: dict[str, tuple[str, str, str]] = {
    # key: (sv, nb, en)
    "app": ("Alumnkontoret", "Alumnikontoret", "Alumni office"),
    "app.description": (
        "Granska och besluta om alumnregistreringar",
        "Vurder og avgjør alumniregistreringer",
        "Review and decide alumni registrations",
    ),
    "area": ("Alumner", "Alumni", "Alumni"),
    "group.review": ("Granskning", "Vurdering", "Review"),
    "group.people": ("Personer", "Personer", "People"),
    "form.registration": ("Registrering (alumnkontoret)", "Registrering (alumnikontoret)",
                          "Registration (alumni office)"),
    "form.contact": ("Alumn (alumnkontoret)", "Alumn (alumnikontoret)",
                     "Alumnus (alumni office)"),
    "tab.review": ("Granskning", "Vurdering", "Review"),
    "tab.registration": ("Registrering", "Registrering", "Registration"),
    "tab.alumnus": ("Alumn", "Alumn", "Alumnus"),
    "section.decision": ("Beslut", "Beslutning", "Decision"),
    "section.why": ("Varför", "Hvorfor", "Why"),
    "section.person": ("Personen", "Personen", "The person"),
    "section.preferences": ("Kontaktval", "Kontaktvalg", "How to keep in touch"),
    "section.processing": ("Behandling", "Behandling", "Processing"),
    "section.categories": ("Alumnkategorier", "Alumnikategorier", "Alumni categories"),
    "section.studies": ("Studier", "Studier", "Studies"),
    "section.consent": ("Samtycke", "Samtykke", "Consent"),
    "view.review": ("Registreringar att granska", "Registreringer til vurdering",
                    "Registrations to review"),
    "view.decided": ("Beslutade i dag", "Avgjort i dag", "Decided today"),
    "view.stuck": ("Inkommen i mer än en timme", "Mottatt i mer enn en time",
                   "Stuck in Received for more than an hour"),
    "view.unregistered": ("Avregistrerade", "Avregistrerte", "Unregistered"),
    "role.office": ("Alumnkontoret", "Alumnikontoret", "Alumni office"),
    "role.integration": ("Member plugins integration", "Member plugins integration",
                         "Member plugins integration"),
    "team": ("Alumnkontoret", "Alumnikontoret", "Alumni office"),
    # Column labels.
    "mp_status": ("Status", "Status", "Status"),
    "mp_officedecision": ("Ditt beslut", "Din beslutning", "Your decision"),
    "mp_reason": ("Orsakskod", "Årsakskode", "Reason code"),
    "mp_explanation": ("Förklaring", "Forklaring", "Explanation"),
    "mp_evidencetext": ("Underlag", "Grunnlag", "Evidence"),
    "mp_personid": ("Matchad person", "Matchet person", "Matched person"),
    "mp_proposedchanges": ("Föreslagna ändringar", "Foreslåtte endringer", "Proposed changes"),
    "mp_firstname": ("Förnamn", "Fornavn", "First name"),
    "mp_lastname": ("Efternamn", "Etternavn", "Last name"),
    "mp_email": ("E-postadress", "E-postadresse", "E-mail address"),
    "mp_nationalid": ("Personnummer", "Fødselsnummer", "Identity number"),
    "mp_phone": ("Telefon", "Telefon", "Phone"),
    "mp_kind": ("Typ", "Type", "Kind"),
    "mp_selfdeclaredalumnus": ("Uppger sig vara alumn", "Oppgir å være alumn",
                               "Declares to be an alumnus"),
    "mp_terminatemembership": ("Avsluta medlemskap", "Avslutt medlemskap",
                               "Terminate membership"),
    "mp_topics": ("Ämnen", "Emner", "Topics"),
    "mp_channels": ("Kanaler", "Kanaler", "Channels"),
    "mp_consentversion": ("Samtyckesversion", "Samtykkeversjon", "Consent version"),
    "mp_consenton": ("Samtycke givet", "Samtykke gitt", "Consent given on"),
    "mp_consentsource": ("Samtyckets källa", "Samtykkets kilde", "Consent source"),
    "mp_processedon": ("Behandlad", "Behandlet", "Processed on"),
    "createdon": ("Inkommen", "Mottatt", "Received on"),
    "firstname": ("Förnamn", "Fornavn", "First name"),
    "lastname": ("Efternamn", "Etternavn", "Last name"),
    "emailaddress1": ("E-postadress", "E-postadresse", "E-mail address"),
    "mp_personcategories": ("Kategorier", "Kategorier", "Categories"),
    "mp_protectionlevel": ("Skyddad identitet", "Beskyttet identitet", "Protected identity"),
    "mp_deceased": ("Avliden", "Avdød", "Deceased"),
    "mp_emigrated": ("Utvandrad", "Utvandret", "Emigrated"),
    "mp_registrysource": ("Registerkälla", "Registerkilde", "Registry source"),
    "mp_lastenrichedon": ("Senast uppdaterad från register", "Sist oppdatert fra register",
                          "Last updated from the registries"),
    "mp_studyprogrammes": ("Program", "Studieprogram", "Programmes"),
    "mp_firststudyyear": ("Första studieår", "Første studieår", "First year of study"),
    "mp_laststudyyear": ("Senaste studieår", "Siste studieår", "Last year of study"),
    "mp_studycredits": ("Godkända högskolepoäng", "Beståtte studiepoeng", "Passed credits"),
    "mp_studentref": ("Id i studieregistret", "Id i studentregisteret", "Student register id"),
    "mp_nocommunication": ("Inga alumnutskick", "Ingen alumniutsendelser",
                           "No alumni communication"),
    "donotbulkemail": ("Inga massutskick", "Ingen masseutsendelser", "No bulk e-mail"),
}


def text(key: str, language: OfficeLanguage) -> str:
    """The text ``key`` in ``language``."""
    return _TEXTS[key][LANGUAGES.index(language)]


def labels(key: str) -> dict[int, str]:
    """The text ``key`` in every office language, by LCID."""
    return {LCIDS[language]: text(key, language) for language in LANGUAGES}


def has(key: str) -> bool:
    """Whether ``key`` has texts."""
    return key in _TEXTS
