"""Identity numbers and e-mail addresses: validation, normalisation and masking (pure).

- :func:`parse_national_id` validates a Swedish personnummer / samordningsnummer, Norwegian
  fødselsnummer / D-number / H-number, Finnish HETU or Danish CPR number and returns its
  canonical key, birth date and kind, or an invalid result with the reason. It never raises
  for bad input.
- :func:`normalise_email` gives the key people are matched on by e-mail;
  :func:`is_valid_email` checks the syntax.
- :func:`mask_national_id` and :func:`mask_email` keep personal data out of logs.
"""

from .email import is_valid_email, normalise_email
from .masking import mask_email, mask_national_id
from .model import Country, IdKind, IdResult, InvalidNationalId, InvalidReason, NationalId
from .national_id import parse_national_id

__all__ = [
    "Country",
    "IdKind",
    "IdResult",
    "InvalidNationalId",
    "InvalidReason",
    "NationalId",
    "is_valid_email",
    "mask_email",
    "mask_national_id",
    "normalise_email",
    "parse_national_id",
]
