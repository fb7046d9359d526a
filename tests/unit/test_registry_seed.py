"""The registries' seed: what an emulator does not serve is an error, never ignored."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from sandbox.registries.seed import RegistriesSeed

SWEDE = "197010632391"
NORWEGIAN = "09052400284"


def test_each_emulator_takes_what_it_serves() -> None:
    seed = RegistriesSeed.model_validate({
        "ladok": {SWEDE: {"first_name": "Test", "degrees": [
            {"code": "K1", "title": "Kandidatexamen", "credits": "180"}]}},
        "navet": {SWEDE: {"emigrated_on": "2019-05-01", "protection": "protected"}},
        "fs": {NORWEGIAN: {"degrees": [{"code": "MAMN", "title": "Master", "level": "MASTER"}]}},
    })
    assert seed.ladok[SWEDE].degrees[0].credits == 180


@pytest.mark.parametrize(
    ("section", "person", "named"),
    [
        ("navet", {"degrees": [{"code": "K1", "title": "Kandidatexamen"}]}, "navet: degrees"),
        ("ladok", {"emigrated_on": "2019-05-01"}, "ladok: emigrated_on"),
        ("ladok", {"degrees": [{"code": "K1", "title": "K", "level": "1"}]},
         "ladok: degrees.level"),
        ("fs", {"protection": "protected"}, "fs: protection"),
        ("spar", {"courses": [{"code": "DD1337"}]}, "spar: courses"),
    ],
)
def test_a_field_an_emulator_does_not_serve_is_an_error(
    section: str, person: dict, named: str
) -> None:
    number = NORWEGIAN if section == "fs" else SWEDE
    with pytest.raises(ValidationError, match=named):
        RegistriesSeed.model_validate({section: {number: person}})
