"""The pages' texts in Swedish, Norwegian (bokmål) and English, and choosing the language (pure).

The language comes from an explicit choice (the ``lang`` switch on every page, carried in
links and forms), else from the browser's ``Accept-Language``, else from the settings'
default. ``no`` and ``nn`` are served in bokmål, the written standard most Norwegians read.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

Language = Literal["sv", "nb", "en"]
LANGUAGES: tuple[Language, ...] = ("sv", "nb", "en")
_ALIASES: dict[str, Language] = {"sv": "sv", "nb": "nb", "no": "nb", "nn": "nb", "en": "en"}

TEXTS: dict[Language, dict[str, str]] = {
    "sv": {
        "language_name": "Svenska",
        "language_switch": "Språk",
        "optional": "valfritt",
        "home_title": "Min alumnsida",
        "home_intro": "Håll kontakten med {org} på det sätt du själv väljer.",
        "nav_register": "Registrera dig",
        "nav_update": "Uppdatera dina uppgifter",
        "nav_unregister": "Avregistrera dig",
        "register_title": "Registrera dig som alumn",
        "register_intro": "Berätta vem du är och hur du vill hålla kontakten med {org}.",
        "first_name": "Förnamn",
        "last_name": "Efternamn",
        "email": "E-postadress",
        "national_id": "Personnummer",
        "national_id_hint": (
            "Till exempel ÅÅÅÅMMDD-NNNN. Hjälper oss att hitta dig i våra register."
        ),
        "phone": "Telefonnummer",
        "phone_hint": "Gärna med landsnummer, till exempel +46 70 123 45 67.",
        "self_declared": "Jag har studerat vid {org}",
        "topics_legend": "Vad vill du höra om?",
        "topic_newsletter": "Nyhetsbrev",
        "topic_events": "Evenemang och återträffar",
        "topic_mentoring": "Mentorskap",
        "topic_career": "Karriär",
        "topic_giving": "Stöd och donationer",
        "channels_legend": "Hur vill du att vi kontaktar dig?",
        "channel_email": "E-post",
        "channel_sms": "SMS",
        "channel_post": "Brev",
        "consent_legend": "Samtycke",
        "consent_text": (
            "{org} sparar uppgifterna du lämnar här för att hålla kontakten med dig som alumn, "
            "på de sätt du har valt. Du kan när som helst ändra dina val eller avregistrera dig."
        ),
        "consent_label": "Jag samtycker (version {version})",
        "honeypot": "Lämna det här fältet tomt",
        "submit_register": "Skicka registreringen",
        "errors_title": "Något behöver rättas",
        "error_required": "Fyll i det här fältet.",
        "error_too_long": "Högst {max} tecken.",
        "error_invalid_name": "Använd bokstäver, mellanslag, bindestreck eller apostrof.",
        "error_invalid_email": "Skriv en e-postadress som namn@exempel.se.",
        "error_invalid_phone": (
            "Skriv ett telefonnummer med 6 till 15 siffror, gärna med +landsnummer."
        ),
        "error_invalid_choice": "Välj bland alternativen.",
        "error_consent_required": "Kryssa i rutan för att samtycka.",
        "error_national_id": "Det här är inte ett giltigt personnummer.",
        "error_national_id_checksum": "Kontrollsiffran stämmer inte. Kontrollera numret.",
        "error_national_id_date": "Födelsedatumet i numret finns inte.",
        "error_national_id_length": "Numret har fel antal siffror.",
        "error_session": "Formuläret hade gått ut. Kontrollera uppgifterna och skicka igen.",
        "registered_title": "Tack, vi har tagit emot din registrering",
        "registered_next": (
            "Vad händer nu? Vi jämför dina uppgifter med våra register, oftast inom några "
            "minuter. Känner vi igen dig som alumn blir du godkänd direkt. Annars går "
            "registreringen till alumnkontoret, som går igenom den för hand."
        ),
        "registered_confirm": (
            "Vi skickar en länk för att bekräfta registreringen: till adressen du angav, eller, "
            "om vi redan har dig i våra register, till den adress vi har sedan tidigare. Inga "
            "uppgifter hos oss ändras och inga andra utskick görs innan du har öppnat länken."
        ),
        "confirm_title": "Bekräfta din registrering",
        "confirm_intro": "Bekräfta att det var du som registrerade dig hos {org}.",
        "confirm_changes": "De här uppgifterna sparas när du bekräftar:",
        "consent_given": "Samtycke (version)",
        "submit_confirm": "Bekräfta",
        "confirm_pending_title": "Din registrering behandlas fortfarande",
        "confirm_pending_text": "Öppna länken igen om några minuter.",
        "confirmed_title": "Tack, din registrering är bekräftad",
        "confirmed_text": "Dina uppgifter är sparade.",
        "email_subject_confirm": "{org}: bekräfta din registrering",
        "email_body_confirm": (
            "Någon, förhoppningsvis du, har registrerat sig hos {org} med dina uppgifter. "
            "Öppna länken för att bekräfta; inget ändras innan du gör det:"
        ),
        "request_update_title": "Uppdatera dina uppgifter",
        "request_update_intro": (
            "Skriv din e-postadress så skickar vi en länk där du kan ändra dina uppgifter."
        ),
        "request_unregister_title": "Avregistrera dig",
        "request_unregister_intro": (
            "Skriv din e-postadress så skickar vi en länk där du kan avregistrera dig."
        ),
        "submit_request_link": "Skicka länken",
        "link_sent_title": "Kolla din e-post",
        "link_sent_text": (
            "Om adressen finns hos oss har vi skickat en länk till den. Länken fungerar en "
            "gång och i {minutes} minuter."
        ),
        "update_title": "Dina uppgifter",
        "update_intro": "Ändra det som inte stämmer och spara.",
        "national_id_keep_hint": "Lämna tomt för att behålla det vi redan har.",
        "submit_update": "Spara ändringarna",
        "updated_title": "Tack, dina ändringar är mottagna",
        "updated_text": "Vi uppdaterar dina uppgifter inom kort.",
        "unregister_title": "Avregistrering",
        "unregister_intro": (
            "{name}, när du avregistrerar dig skickar vi inga fler utskick till dig."
        ),
        "terminate_label": "Avsluta mitt medlemskap",
        "terminate_hint": "Kryssa i om du också vill lämna alumnnätverket helt.",
        "submit_unregister": "Avregistrera mig",
        "unregistered_title": "Du är avregistrerad",
        "unregistered_terminate": "Vi avslutar ditt medlemskap. Tack för den här tiden!",
        "unregistered_keep": "Du får inga fler utskick, men är kvar som medlem.",
        "link_expired_title": "Länken har gått ut",
        "link_expired_text": "Länkar fungerar en begränsad tid. Be om en ny länk.",
        "link_used_title": "Länken är redan använd",
        "link_used_text": "Varje länk fungerar en gång. Be om en ny länk.",
        "link_invalid_title": "Länken fungerar inte",
        "link_invalid_text": "Länken är ofullständig eller felaktig. Be om en ny länk.",
        "request_new_link": "Be om en ny länk",
        "too_many_title": "För många försök",
        "too_many_text": "Vänta en stund och försök igen.",
        "unavailable_title": "Tjänsten är inte tillgänglig just nu",
        "unavailable_text": "Försök igen om en liten stund.",
        "bad_request_title": "Begäran kunde inte läsas",
        "bad_request_text": "Gå tillbaka och försök igen.",
        "too_large_title": "Formuläret är för stort",
        "too_large_text": "Korta ner det du skrev och skicka igen.",
        "not_found_title": "Sidan finns inte",
        "not_found_text": "Gå till startsidan och välj vad du vill göra.",
        "signin_with": "Fyll i med {provider}",
        "signin_failed": "Inloggningen lyckades inte. Fyll i formuläret själv.",
        "email_subject_update": "{org}: din länk för att uppdatera dina uppgifter",
        "email_subject_unregister": "{org}: din länk för att avregistrera dig",
        "email_greeting": "Hej {name}!",
        "email_body_update": "Här är länken för att uppdatera dina uppgifter hos {org}:",
        "email_body_unregister": "Här är länken för att avregistrera dig hos {org}:",
        "email_expiry": "Länken fungerar en gång, till och med {time} (UTC).",
        "email_ignore": "Har du inte bett om länken kan du bortse från det här meddelandet.",
    },
    "nb": {
        "language_name": "Norsk",
        "language_switch": "Språk",
        "optional": "valgfritt",
        "home_title": "Min alumniside",
        "home_intro": "Hold kontakten med {org} på den måten du selv velger.",
        "nav_register": "Registrer deg",
        "nav_update": "Oppdater opplysningene dine",
        "nav_unregister": "Meld deg av",
        "register_title": "Registrer deg som alumn",
        "register_intro": "Fortell hvem du er og hvordan du vil holde kontakten med {org}.",
        "first_name": "Fornavn",
        "last_name": "Etternavn",
        "email": "E-postadresse",
        "national_id": "Fødselsnummer",
        "national_id_hint": "11 siffer. Hjelper oss å finne deg i registrene våre.",
        "phone": "Telefonnummer",
        "phone_hint": "Gjerne med landskode, for eksempel +47 912 34 567.",
        "self_declared": "Jeg har studert ved {org}",
        "topics_legend": "Hva vil du høre om?",
        "topic_newsletter": "Nyhetsbrev",
        "topic_events": "Arrangementer og gjensyn",
        "topic_mentoring": "Mentorordning",
        "topic_career": "Karriere",
        "topic_giving": "Støtte og gaver",
        "channels_legend": "Hvordan vil du at vi kontakter deg?",
        "channel_email": "E-post",
        "channel_sms": "SMS",
        "channel_post": "Brev",
        "consent_legend": "Samtykke",
        "consent_text": (
            "{org} lagrer opplysningene du gir her for å holde kontakten med deg som alumn, "
            "på de måtene du har valgt. Du kan når som helst endre valgene eller melde deg av."
        ),
        "consent_label": "Jeg samtykker (versjon {version})",
        "honeypot": "La dette feltet stå tomt",
        "submit_register": "Send registreringen",
        "errors_title": "Noe må rettes",
        "error_required": "Fyll ut dette feltet.",
        "error_too_long": "Høyst {max} tegn.",
        "error_invalid_name": "Bruk bokstaver, mellomrom, bindestrek eller apostrof.",
        "error_invalid_email": "Skriv en e-postadresse som navn@eksempel.no.",
        "error_invalid_phone": "Skriv et telefonnummer med 6 til 15 siffer, gjerne med +landskode.",
        "error_invalid_choice": "Velg blant alternativene.",
        "error_consent_required": "Kryss av i boksen for å samtykke.",
        "error_national_id": "Dette er ikke et gyldig fødselsnummer.",
        "error_national_id_checksum": "Kontrollsifrene stemmer ikke. Sjekk nummeret.",
        "error_national_id_date": "Fødselsdatoen i nummeret finnes ikke.",
        "error_national_id_length": "Nummeret har feil antall siffer.",
        "error_session": "Skjemaet var utløpt. Sjekk opplysningene og send på nytt.",
        "registered_title": "Takk, vi har mottatt registreringen din",
        "registered_next": (
            "Hva skjer nå? Vi sammenligner opplysningene dine med registrene våre, som regel "
            "i løpet av noen minutter. Kjenner vi deg igjen som alumn, blir du godkjent med "
            "en gang. Ellers går registreringen til alumnikontoret, som går gjennom den manuelt."
        ),
        "registered_confirm": (
            "Vi sender en lenke for å bekrefte registreringen: til adressen du oppga, eller, "
            "hvis vi allerede har deg i registrene våre, til adressen vi har fra før. Ingen "
            "opplysninger hos oss endres og ingen andre utsendelser skjer før du har åpnet lenken."
        ),
        "confirm_title": "Bekreft registreringen din",
        "confirm_intro": "Bekreft at det var du som registrerte deg hos {org}.",
        "confirm_changes": "Disse opplysningene lagres når du bekrefter:",
        "consent_given": "Samtykke (versjon)",
        "submit_confirm": "Bekreft",
        "confirm_pending_title": "Registreringen din behandles fortsatt",
        "confirm_pending_text": "Åpne lenken igjen om noen minutter.",
        "confirmed_title": "Takk, registreringen din er bekreftet",
        "confirmed_text": "Opplysningene dine er lagret.",
        "email_subject_confirm": "{org}: bekreft registreringen din",
        "email_body_confirm": (
            "Noen, forhåpentligvis du, har registrert seg hos {org} med opplysningene dine. "
            "Åpne lenken for å bekrefte; ingenting endres før du gjør det:"
        ),
        "request_update_title": "Oppdater opplysningene dine",
        "request_update_intro": (
            "Skriv e-postadressen din, så sender vi en lenke der du kan endre opplysningene."
        ),
        "request_unregister_title": "Meld deg av",
        "request_unregister_intro": (
            "Skriv e-postadressen din, så sender vi en lenke der du kan melde deg av."
        ),
        "submit_request_link": "Send lenken",
        "link_sent_title": "Sjekk e-posten din",
        "link_sent_text": (
            "Hvis adressen finnes hos oss, har vi sendt en lenke til den. Lenken virker én "
            "gang og i {minutes} minutter."
        ),
        "update_title": "Opplysningene dine",
        "update_intro": "Endre det som ikke stemmer, og lagre.",
        "national_id_keep_hint": "La stå tomt for å beholde det vi allerede har.",
        "submit_update": "Lagre endringene",
        "updated_title": "Takk, endringene er mottatt",
        "updated_text": "Vi oppdaterer opplysningene dine snart.",
        "unregister_title": "Avmelding",
        "unregister_intro": "{name}, når du melder deg av, sender vi deg ikke flere utsendelser.",
        "terminate_label": "Avslutt medlemskapet mitt",
        "terminate_hint": "Kryss av hvis du også vil forlate alumninettverket helt.",
        "submit_unregister": "Meld meg av",
        "unregistered_title": "Du er meldt av",
        "unregistered_terminate": "Vi avslutter medlemskapet ditt. Takk for tiden med oss!",
        "unregistered_keep": "Du får ikke flere utsendelser, men er fortsatt medlem.",
        "link_expired_title": "Lenken er utløpt",
        "link_expired_text": "Lenker virker en begrenset tid. Be om en ny lenke.",
        "link_used_title": "Lenken er allerede brukt",
        "link_used_text": "Hver lenke virker én gang. Be om en ny lenke.",
        "link_invalid_title": "Lenken virker ikke",
        "link_invalid_text": "Lenken er ufullstendig eller feil. Be om en ny lenke.",
        "request_new_link": "Be om en ny lenke",
        "too_many_title": "For mange forsøk",
        "too_many_text": "Vent litt og prøv igjen.",
        "unavailable_title": "Tjenesten er ikke tilgjengelig akkurat nå",
        "unavailable_text": "Prøv igjen om en liten stund.",
        "bad_request_title": "Forespørselen kunne ikke leses",
        "bad_request_text": "Gå tilbake og prøv igjen.",
        "too_large_title": "Skjemaet er for stort",
        "too_large_text": "Kort ned det du skrev, og send igjen.",
        "not_found_title": "Siden finnes ikke",
        "not_found_text": "Gå til startsiden og velg hva du vil gjøre.",
        "signin_with": "Fyll ut med {provider}",
        "signin_failed": "Innloggingen lyktes ikke. Fyll ut skjemaet selv.",
        "email_subject_update": "{org}: lenken din for å oppdatere opplysningene",
        "email_subject_unregister": "{org}: lenken din for å melde deg av",
        "email_greeting": "Hei {name}!",
        "email_body_update": "Her er lenken for å oppdatere opplysningene dine hos {org}:",
        "email_body_unregister": "Her er lenken for å melde deg av hos {org}:",
        "email_expiry": "Lenken virker én gang, til og med {time} (UTC).",
        "email_ignore": "Hvis du ikke har bedt om lenken, kan du se bort fra denne meldingen.",
    },
    "en": {
        "language_name": "English",
        "language_switch": "Language",
        "optional": "optional",
        "home_title": "My alumni page",
        "home_intro": "Keep in touch with {org} the way you choose.",
        "nav_register": "Register",
        "nav_update": "Update your details",
        "nav_unregister": "Unregister",
        "register_title": "Register as an alumna or alumnus",
        "register_intro": "Tell us who you are and how you would like to keep in touch with {org}.",
        "first_name": "First name",
        "last_name": "Last name",
        "email": "Email address",
        "national_id": "National identity number",
        "national_id_hint": "Swedish personnummer or Norwegian fødselsnummer. Helps us find you.",
        "phone": "Phone number",
        "phone_hint": "Preferably with the country code, for example +46 70 123 45 67.",
        "self_declared": "I have studied at {org}",
        "topics_legend": "What would you like to hear about?",
        "topic_newsletter": "Newsletter",
        "topic_events": "Events and reunions",
        "topic_mentoring": "Mentoring",
        "topic_career": "Career",
        "topic_giving": "Giving",
        "channels_legend": "How would you like us to contact you?",
        "channel_email": "Email",
        "channel_sms": "Text message",
        "channel_post": "Post",
        "consent_legend": "Consent",
        "consent_text": (
            "{org} keeps the details you give here to stay in touch with you as an alumna or "
            "alumnus, in the ways you have chosen. You can change your choices or unregister "
            "at any time."
        ),
        "consent_label": "I agree (version {version})",
        "honeypot": "Leave this field empty",
        "submit_register": "Send registration",
        "errors_title": "Something needs correcting",
        "error_required": "Fill in this field.",
        "error_too_long": "At most {max} characters.",
        "error_invalid_name": "Use letters, spaces, hyphens or apostrophes.",
        "error_invalid_email": "Enter an email address like name@example.com.",
        "error_invalid_phone": (
            "Enter a phone number of 6 to 15 digits, preferably with +country code."
        ),
        "error_invalid_choice": "Choose from the options.",
        "error_consent_required": "Tick the box to give your consent.",
        "error_national_id": "This is not a valid identity number.",
        "error_national_id_checksum": "The check digit does not match. Please check the number.",
        "error_national_id_date": "The date of birth in the number does not exist.",
        "error_national_id_length": "The number has the wrong number of digits.",
        "error_session": "The form had expired. Please check your details and send it again.",
        "registered_title": "Thank you, we have received your registration",
        "registered_next": (
            "What happens next? We compare your details with our records, usually within a "
            "few minutes. If we recognise you as an alumna or alumnus, you are approved at "
            "once. Otherwise the alumni office reviews your registration by hand."
        ),
        "registered_confirm": (
            "We are sending a link to confirm your registration: to the address you gave or, "
            "if we already have you in our records, to the address we already have. Nothing in "
            "our records changes and nothing else is sent until you have opened the link."
        ),
        "confirm_title": "Confirm your registration",
        "confirm_intro": "Confirm that it was you who registered with {org}.",
        "confirm_changes": "These details are saved when you confirm:",
        "consent_given": "Consent (version)",
        "submit_confirm": "Confirm",
        "confirm_pending_title": "Your registration is still being processed",
        "confirm_pending_text": "Please open the link again in a few minutes.",
        "confirmed_title": "Thank you, your registration is confirmed",
        "confirmed_text": "Your details are saved.",
        "email_subject_confirm": "{org}: please confirm your registration",
        "email_body_confirm": (
            "Someone, hopefully you, registered with {org} using your details. Open the link "
            "to confirm; nothing changes until you do:"
        ),
        "request_update_title": "Update your details",
        "request_update_intro": (
            "Enter your email address and we will send you a link to change your details."
        ),
        "request_unregister_title": "Unregister",
        "request_unregister_intro": (
            "Enter your email address and we will send you a link to unregister."
        ),
        "submit_request_link": "Send the link",
        "link_sent_title": "Check your email",
        "link_sent_text": (
            "If the address is in our records, we have sent a link to it. The link works once "
            "and for {minutes} minutes."
        ),
        "update_title": "Your details",
        "update_intro": "Change what is not right and save.",
        "national_id_keep_hint": "Leave empty to keep what we already have.",
        "submit_update": "Save changes",
        "updated_title": "Thank you, we have received your changes",
        "updated_text": "We will update your details shortly.",
        "unregister_title": "Unregistering",
        "unregister_intro": "{name}, once you unregister we will send you no more mailings.",
        "terminate_label": "Terminate my membership",
        "terminate_hint": "Tick this if you also want to leave the alumni network altogether.",
        "submit_unregister": "Unregister me",
        "unregistered_title": "You are unregistered",
        "unregistered_terminate": "We are ending your membership. Thank you for your time with us!",
        "unregistered_keep": "You will get no more mailings, but you remain a member.",
        "link_expired_title": "The link has expired",
        "link_expired_text": "Links work for a limited time. Ask for a new link.",
        "link_used_title": "The link has already been used",
        "link_used_text": "Each link works once. Ask for a new link.",
        "link_invalid_title": "The link does not work",
        "link_invalid_text": "The link is incomplete or wrong. Ask for a new link.",
        "request_new_link": "Ask for a new link",
        "too_many_title": "Too many attempts",
        "too_many_text": "Please wait a while and try again.",
        "unavailable_title": "The service is not available right now",
        "unavailable_text": "Please try again in a little while.",
        "bad_request_title": "The request could not be read",
        "bad_request_text": "Please go back and try again.",
        "too_large_title": "The form is too large",
        "too_large_text": "Please shorten what you entered and send it again.",
        "not_found_title": "There is no such page",
        "not_found_text": "Go to the start page and choose what you would like to do.",
        "signin_with": "Fill in with {provider}",
        "signin_failed": "Signing in did not work. Please fill in the form yourself.",
        "email_subject_update": "{org}: your link to update your details",
        "email_subject_unregister": "{org}: your link to unregister",
        "email_greeting": "Hello {name},",
        "email_body_update": "Here is the link to update your details with {org}:",
        "email_body_unregister": "Here is the link to unregister from {org}:",
        "email_expiry": "The link works once, until {time} (UTC).",
        "email_ignore": "If you did not ask for this link, you can ignore this message.",
    },
}


def text(language: Language, key: str, **values: object) -> str:
    """The text ``key`` in ``language`` with ``{placeholders}`` filled in."""
    template = TEXTS[language][key]
    return template.format(**values) if values else template


def as_language(value: str | None) -> Language | None:
    """The language a tag such as ``sv-FI``, ``no`` or ``en`` stands for, if supported."""
    if not value:
        return None
    primary = value.strip().lower().replace("_", "-").split("-", 1)[0]
    return _ALIASES.get(primary)


def negotiate(
    chosen: str | None,
    accept_language: str | None,
    available: Sequence[Language],
    default: Language,
) -> Language:
    """The language to answer in: the explicit choice, else the browser's best, else default."""
    explicit = as_language(chosen)
    if explicit in available:
        return explicit  # type: ignore[return-value]
    best: tuple[float, int, Language] | None = None
    for position, item in enumerate((accept_language or "").split(",")):
        tag, _, params = item.partition(";")
        language = as_language(tag)
        if language not in available:
            continue
        weight = _quality(params)
        if weight <= 0:
            continue
        candidate = (weight, -position, language)
        if best is None or candidate[:2] > best[:2]:
            best = candidate  # type: ignore[assignment]
    return best[2] if best is not None else default


def _quality(params: str) -> float:
    for param in params.split(";"):
        name, _, value = param.strip().partition("=")
        if name.strip().lower() == "q":
            try:
                return min(1.0, max(0.0, float(value)))
            except ValueError:
                return 0.0
    return 1.0
