"""Each registry adapter against its emulator over real HTTP on the sandbox."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from plugins.core.settings import RegistrySettings
from plugins.registries import (
    AddressKind,
    MalformedResponse,
    ProtectionLevel,
    RegistryName,
    RegistryRejected,
    RegistryUnavailable,
)
from plugins.registries.factory import build_adapters
from plugins.registries.protocol import RegistryAdapter
from sandbox.app import Sandbox

SE_ORDINARY = "197010632391"  # a samordningsnummer
SE_PROTECTED = "198112289874"
SE_CONFIDENTIAL = "198901023286"
SE_DECEASED = "191212121212"
SE_EMIGRATED = "196501011230"
SE_UNSTATED = "197505051230"
SE_UNKNOWN = "200001011238"
NO_ORDINARY = "09052400284"
NO_PROTECTED = "41018036736"  # a D-number
NO_DECEASED = "01018036742"
NO_UNKNOWN = "15050551242"

HOME = {"kind": "registered", "lines": ["Exempelgatan 1"], "postal_code": "12345", "city": "STADEN"}
BOX = {
    "kind": "postal",
    "care_of": "Berg",
    "lines": ["Box 12"],
    "postal_code": "11122",
    "city": "STOCKHOLM",
}
TEST = {"first_name": "Test", "last_name": "Testsson", "addresses": [HOME, BOX]}
STUDIES = {
    "email": "test@student.example.se",
    "phone": "+46 70 123 45 67",
    "programmes": [
        {
            "code": "TCOMK",
            "name": "Datateknik",
            "start": "2015-08-31",
            "end": "2020-06-07",
            "status": "AKTIV",
        }
    ],
    "courses": [
        {
            "code": "DD1337",
            "name": "Programmering",
            "credits": "7.5",
            "start": "2015-08-31",
            "end": "2015-10-27",
            "passed_on": "2015-10-20",
        },
        {
            "code": "SF1624",
            "name": "Algebra",
            "credits": "7.5",
            "start": "2015-10-28",
            "end": "2016-01-15",
            "passed_on": "2016-01-12",
        },
        {
            "code": "DD2350",
            "name": "Algoritmer",
            "credits": "9",
            "start": "2016-08-29",
            "end": "2016-10-25",
        },
    ],
    "degrees": [
        {
            "code": "MAMN",
            "title": "Master i matematikk",
            "awarded_on": "2020-06-20",
            "programme": "MAMN-MAT",
            "level": "MASTER",
        }
    ],
}
SWEDES = {
    SE_ORDINARY: TEST,
    SE_PROTECTED: {**TEST, "first_name": "Hemlig", "protection": "protected"},
    SE_CONFIDENTIAL: {**TEST, "first_name": "Diskret", "protection": "confidential"},
    SE_DECEASED: {**TEST, "first_name": "Gammal", "deceased_on": "2020-01-01"},
    SE_EMIGRATED: {**TEST, "first_name": "Borta", "emigrated_on": "2019-05-01"},
    SE_UNSTATED: {**TEST, "first_name": "Osagd", "protection": "unstated"},
}
NORWEGIANS = {
    NO_ORDINARY: {**TEST, "first_name": "Kari", "last_name": "Nordmann"},
    NO_PROTECTED: {**TEST, "first_name": "Skjult", "protection": "protected"},
    NO_DECEASED: {**TEST, "first_name": "Død", "deceased_on": "2021-03-04"},
}


def without(person: dict[str, Any], *fields: str) -> dict[str, Any]:
    """``person`` without what one emulator does not serve (giving it would be an error)."""
    return {k: v for k, v in person.items() if k not in fields}


# Ladok has no emigration, no programme status and no programme or level on a degree; FS no
# protection flag, no addresses and no course periods.
LADOK_STUDIES = {
    **STUDIES,
    "programmes": [without(p, "status") for p in STUDIES["programmes"]],
    "degrees": [without(d, "programme", "level") for d in STUDIES["degrees"]],
}
FS_STUDIES = {
    **STUDIES,
    "courses": [without(c, "start", "end") for c in STUDIES["courses"]],
    "degrees": [{**d, "credits": "120"} for d in STUDIES["degrees"]],
}
SEED = {
    "ladok": {
        **{n: without(p, "emigrated_on") for n, p in SWEDES.items()},
        SE_ORDINARY: {**TEST, **LADOK_STUDIES},
    },
    "navet": SWEDES,
    "spar": SWEDES,
    "fs": {
        **{n: without(p, "protection", "addresses") for n, p in NORWEGIANS.items()},
        NO_ORDINARY: {**without(NORWEGIANS[NO_ORDINARY], "addresses"), **FS_STUDIES},
    },
    "folkeregisteret": NORWEGIANS,
}
FAST = RegistrySettings.Http(
    timeout_seconds=2.0, max_attempts=3, backoff_seconds=0.01, max_backoff_seconds=0.5
)
# registry -> (ordinary person, protected person, unknown number)
PEOPLE = {
    RegistryName.LADOK: (SE_ORDINARY, SE_PROTECTED, SE_UNKNOWN),
    RegistryName.NAVET: (SE_ORDINARY, SE_PROTECTED, SE_UNKNOWN),
    RegistryName.SPAR: (SE_ORDINARY, SE_PROTECTED, SE_UNKNOWN),
    RegistryName.FS: (NO_ORDINARY, NO_PROTECTED, NO_UNKNOWN),
    RegistryName.FOLKEREGISTERET: (NO_ORDINARY, NO_PROTECTED, NO_UNKNOWN),
}
ALL = list(PEOPLE)


@pytest.fixture
def settings(sandbox: Sandbox, tmp_path: Path) -> RegistrySettings:
    sandbox.registries.load_seed(SEED)
    return sandbox.registries.client_settings(tmp_path / "maskinporten.pem", http=FAST)


@pytest.fixture
def adapters(settings: RegistrySettings) -> Iterator[dict[RegistryName, RegistryAdapter]]:
    built = build_adapters(settings)
    try:
        yield built
    finally:
        for adapter in built.values():
            adapter.close()


def emulator(sandbox: Sandbox, name: RegistryName) -> Any:
    return getattr(sandbox.registries, name.value)


# ------------------------------------------------------------------ every registry


def test_every_registry_has_an_adapter_behind_the_protocol(adapters: dict) -> None:
    assert set(adapters) == set(RegistryName)
    assert all(isinstance(a, RegistryAdapter) for a in adapters.values())


@pytest.mark.parametrize("registry", ALL)
def test_found(adapters: dict, registry: RegistryName) -> None:
    ordinary, _, _ = PEOPLE[registry]
    person = adapters[registry].lookup(ordinary)
    assert person is not None
    assert person.source is registry
    assert person.national_id == ordinary
    assert person.last_name in ("Testsson", "Nordmann")
    assert person.birth_date is not None


@pytest.mark.parametrize("registry", ALL)
def test_not_found_is_none(adapters: dict, registry: RegistryName) -> None:
    _, _, unknown = PEOPLE[registry]
    assert adapters[registry].lookup(unknown) is None


@pytest.mark.parametrize("registry", ALL)
def test_protected_person_has_no_address(adapters: dict, registry: RegistryName) -> None:
    _, protected, _ = PEOPLE[registry]
    person = adapters[registry].lookup(protected)
    assert person is not None
    assert person.protection is not ProtectionLevel.NONE
    assert person.addresses == ()


@pytest.mark.parametrize("registry", ALL)
def test_batch_lookup(adapters: dict, registry: RegistryName) -> None:
    ordinary, protected, unknown = PEOPLE[registry]
    found = adapters[registry].lookup_many([ordinary, protected, unknown, ordinary])
    assert list(found) == [ordinary, protected, unknown]
    assert found[ordinary] is not None and found[ordinary].national_id == ordinary
    assert found[protected] is not None
    assert found[unknown] is None


@pytest.mark.parametrize("registry", ALL)
@pytest.mark.parametrize("kind", ["503", "500", "drop"])
def test_transient_fault_is_retried(
    adapters: dict, sandbox: Sandbox, registry: RegistryName, kind: str
) -> None:
    ordinary, _, _ = PEOPLE[registry]
    emulator(sandbox, registry).script(kind)
    assert adapters[registry].lookup(ordinary) is not None
    assert emulator(sandbox, registry).stats()["faults"] == {kind: 1}


@pytest.mark.parametrize("registry", ALL)
def test_malformed_response_names_the_registry(
    adapters: dict, sandbox: Sandbox, registry: RegistryName
) -> None:
    ordinary, _, _ = PEOPLE[registry]
    emulator(sandbox, registry).script("malformed")
    with pytest.raises(MalformedResponse) as caught:
        adapters[registry].lookup(ordinary)
    assert caught.value.registry == registry.value
    assert str(caught.value).startswith(f"{registry.value}: ")


@pytest.mark.parametrize("registry", ALL)
def test_persistent_failure_is_unavailable_after_every_attempt(
    adapters: dict, sandbox: Sandbox, registry: RegistryName
) -> None:
    ordinary, _, _ = PEOPLE[registry]
    emulator(sandbox, registry).script("503", "503", "503")
    with pytest.raises(RegistryUnavailable, match=registry.value):
        adapters[registry].lookup(ordinary)
    assert emulator(sandbox, registry).stats()["faults"] == {"503": FAST.max_attempts}


@pytest.mark.parametrize("registry", ALL)
def test_an_invalid_number_is_a_caller_error(adapters: dict, registry: RegistryName) -> None:
    with pytest.raises(ValueError, match="not a valid"):
        adapters[registry].lookup("12345")


def test_timeout_is_transient(settings: RegistrySettings, sandbox: Sandbox) -> None:
    impatient = settings.model_copy(
        update={"http": FAST.model_copy(update={"timeout_seconds": 0.3})}
    )
    sandbox.registries.navet.slow_seconds = 0.6
    sandbox.registries.navet.script("slow")
    adapter = build_adapters(impatient)[RegistryName.NAVET]
    try:
        assert adapter.lookup(SE_ORDINARY) is not None
    finally:
        adapter.close()
    assert sandbox.registries.navet.stats()["faults"] == {"slow": 1}


# ------------------------------------------------------------------ Ladok


def test_ladok_student_with_contact_details_and_studies(adapters: dict, sandbox: Sandbox) -> None:
    person = adapters[RegistryName.LADOK].lookup("701063-2391")
    assert person is not None
    assert person.registry_ref == sandbox.registries.ladok.ref_of(SE_ORDINARY)
    assert (person.first_name, person.birth_date) == ("Test", date(1970, 10, 3))
    assert person.protection is ProtectionLevel.NONE
    assert person.deceased is False
    assert [a.kind for a in person.addresses] == [AddressKind.REGISTERED, AddressKind.POSTAL]
    assert person.addresses[1].lines == ("c/o Berg", "Box 12")
    assert person.emails == ("test@student.example.se",)
    assert person.study is not None
    assert [p.code for p in person.study.programmes] == ["TCOMK"]
    assert person.study.programmes[0].start == date(2015, 8, 31)
    assert [(e.code, e.credits) for e in person.study.enrolments] == [
        ("DD1337", Decimal("7.5")),
        ("SF1624", Decimal("7.5")),
        ("DD2350", Decimal("9")),
    ]
    assert person.study.credits == Decimal("15.0")
    assert person.study.degrees == ()
    routes = sandbox.registries.ladok.stats()["by_route"]
    assert routes["GET studentinformation/student/filtrera"] == 1
    assert sum(routes.values()) == 5


def test_ladok_unstated_protection_is_unknown(adapters: dict) -> None:
    person = adapters[RegistryName.LADOK].lookup(SE_UNSTATED)
    assert person is not None
    assert person.protection is ProtectionLevel.UNKNOWN
    assert person.addresses == ()


def test_ladok_deceased(adapters: dict) -> None:
    person = adapters[RegistryName.LADOK].lookup(SE_DECEASED)
    assert person is not None and person.deceased is True


def test_ladok_without_client_certificate_is_refused(
    settings: RegistrySettings, sandbox: Sandbox
) -> None:
    anonymous = settings.model_copy(
        update={"ladok": settings.ladok.model_copy(update={"extra_headers": {}})}
    )
    adapter = build_adapters(anonymous)[RegistryName.LADOK]
    try:
        with pytest.raises(RegistryRejected) as caught:
            adapter.lookup(SE_ORDINARY)
    finally:
        adapter.close()
    assert caught.value.status == 403
    assert sandbox.registries.ladok.stats()["refused"] == 1


# ------------------------------------------------------------------ FS


def test_fs_person_with_qualifications_programmes_and_credits(
    adapters: dict, sandbox: Sandbox
) -> None:
    person = adapters[RegistryName.FS].lookup("090524 00284")
    assert person is not None
    assert person.registry_ref == sandbox.registries.fs.ref_of(NO_ORDINARY)
    assert (person.first_name, person.birth_date) == ("Kari", date(1924, 5, 9))
    assert person.protection is ProtectionLevel.UNKNOWN
    assert person.addresses == ()
    assert person.study is not None
    degree = person.study.degrees[0]
    assert (degree.title, degree.awarded_on, degree.level, degree.credits) == (
        "Master i matematikk",
        date(2020, 6, 20),
        "MASTER",
        120,
    )
    assert [(p.code, p.status, p.end) for p in person.study.programmes] == [
        ("TCOMK", "AKTIV", date(2020, 6, 7))
    ]
    assert person.study.credits == Decimal("15.0")


def test_fs_wrong_password_is_refused(settings: RegistrySettings) -> None:
    wrong = settings.model_copy(
        update={"fs": settings.fs.model_copy(update={"password": SecretStr("guess")})}
    )
    adapter = build_adapters(wrong)[RegistryName.FS]
    try:
        with pytest.raises(RegistryRejected) as caught:
            adapter.lookup(NO_ORDINARY)
    finally:
        adapter.close()
    assert caught.value.status == 401


# ------------------------------------------------------------------ Navet and SPAR


@pytest.mark.parametrize("registry", [RegistryName.NAVET, RegistryName.SPAR])
def test_population_register_record(adapters: dict, registry: RegistryName) -> None:
    person = adapters[registry].lookup(SE_ORDINARY)
    assert person is not None
    assert (person.first_name, person.last_name) == ("Test", "Testsson")
    assert person.birth_date == date(1970, 10, 3)
    assert person.protection is ProtectionLevel.NONE
    assert (person.deceased, person.emigrated) == (False, False)
    postal = next(a for a in person.addresses if a.kind is AddressKind.POSTAL)
    assert (postal.care_of, postal.lines, postal.city) == ("Berg", ("Box 12",), "STOCKHOLM")
    home = next(a for a in person.addresses if a.kind is AddressKind.REGISTERED)
    assert (home.lines, home.postal_code) == (("Exempelgatan 1",), "12345")


@pytest.mark.parametrize("registry", [RegistryName.NAVET, RegistryName.SPAR])
@pytest.mark.parametrize(
    ("national_id", "level"),
    [
        (SE_PROTECTED, ProtectionLevel.PROTECTED),
        (SE_CONFIDENTIAL, ProtectionLevel.CONFIDENTIAL),
        (SE_UNSTATED, ProtectionLevel.UNKNOWN),
    ],
)
def test_population_register_protection(
    adapters: dict, registry: RegistryName, national_id: str, level: ProtectionLevel
) -> None:
    person = adapters[registry].lookup(national_id)
    assert person is not None
    assert person.protection is level
    assert person.addresses == ()


@pytest.mark.parametrize("registry", [RegistryName.NAVET, RegistryName.SPAR])
def test_population_register_deregistrations(adapters: dict, registry: RegistryName) -> None:
    dead = adapters[registry].lookup(SE_DECEASED)
    gone = adapters[registry].lookup(SE_EMIGRATED)
    assert dead is not None and (dead.deceased, dead.deceased_on) == (True, date(2020, 1, 1))
    assert gone is not None and (gone.emigrated, gone.emigrated_on) == (True, date(2019, 5, 1))


def test_spar_withholds_the_name_of_a_protected_person(adapters: dict) -> None:
    person = adapters[RegistryName.SPAR].lookup(SE_PROTECTED)
    assert person is not None
    assert (person.first_name, person.last_name) == (None, None)


@pytest.mark.parametrize(
    ("registry", "field", "value"),
    [
        (RegistryName.NAVET, "order_id", "00000000-FO01-0000"),
        (RegistryName.SPAR, "assignment_id", "1"),
    ],
)
def test_soap_fault_is_rejected_without_retrying(
    settings: RegistrySettings, sandbox: Sandbox, registry: RegistryName, field: str, value: str
) -> None:
    section = getattr(settings, registry.value)
    wrong = settings.model_copy(update={registry.value: section.model_copy(update={field: value})})
    adapter = build_adapters(wrong)[registry]
    try:
        with pytest.raises(RegistryRejected, match="SOAP fault"):
            adapter.lookup(SE_ORDINARY)
    finally:
        adapter.close()
    assert emulator(sandbox, registry).stats()["requests"] == 1


# ------------------------------------------------------------------ Folkeregisteret


def test_folkeregisteret_person_and_data_minimisation(adapters: dict, sandbox: Sandbox) -> None:
    person = adapters[RegistryName.FOLKEREGISTERET].lookup(NO_ORDINARY)
    assert person is not None
    assert (person.first_name, person.birth_date) == ("Kari", date(1924, 5, 9))
    assert person.protection is ProtectionLevel.NONE
    assert (person.deceased, person.emigrated) == (False, False)
    assert {a.kind for a in person.addresses} == {AddressKind.POSTAL, AddressKind.REGISTERED}
    assert sandbox.registries.maskinporten.stats()["by_route"] == {"POST token": 1}


def test_folkeregisteret_deceased_and_d_number(adapters: dict) -> None:
    dead = adapters[RegistryName.FOLKEREGISTERET].lookup(NO_DECEASED)
    hidden = adapters[RegistryName.FOLKEREGISTERET].lookup(NO_PROTECTED)
    assert dead is not None and (dead.deceased, dead.deceased_on) == (True, date(2021, 3, 4))
    assert hidden is not None and hidden.protection is ProtectionLevel.PROTECTED


def test_folkeregisteret_batch_is_one_bulk_request(adapters: dict, sandbox: Sandbox) -> None:
    adapter = adapters[RegistryName.FOLKEREGISTERET]
    assert adapter.supports_batch
    found = adapter.lookup_many([NO_ORDINARY, NO_PROTECTED, NO_DECEASED, NO_UNKNOWN])
    assert [p is not None for p in found.values()] == [True, True, True, False]
    routes = sandbox.registries.folkeregisteret.stats()["by_route"]
    assert routes == {"POST folkeregisteret/offentlig-med-hjemmel/api/v1/personer/bulkoppslag/": 1}


def test_folkeregisteret_without_bulk_rights_asks_one_by_one(
    settings: RegistrySettings, sandbox: Sandbox
) -> None:
    package = "offentlig-uten-hjemmel"
    section = settings.folkeregisteret.model_copy(
        update={"rights_package": package, "scope": "folkeregister:deling/offentligutenhjemmel"}
    )
    adapter = build_adapters(settings.model_copy(update={"folkeregisteret": section}))[
        RegistryName.FOLKEREGISTERET
    ]
    try:
        assert not adapter.supports_batch
        found = adapter.lookup_many([NO_ORDINARY, NO_UNKNOWN])
    finally:
        adapter.close()
    assert found[NO_ORDINARY] is not None and found[NO_UNKNOWN] is None
    routes = sandbox.registries.folkeregisteret.stats()["by_route"]
    assert routes == {f"GET folkeregisteret/{package}/api/v1/personer/{{id}}": 2}


def test_folkeregisteret_throttling_waits_retry_after_milliseconds(
    adapters: dict, sandbox: Sandbox
) -> None:
    sandbox.registries.folkeregisteret.script("429")
    assert adapters[RegistryName.FOLKEREGISTERET].lookup(NO_ORDINARY) is not None
    assert sandbox.registries.folkeregisteret.stats()["faults"] == {"429": 1}


def test_folkeregisteret_scope_is_required(settings: RegistrySettings) -> None:
    section = settings.folkeregisteret.model_copy(
        update={"scope": "folkeregister:deling/offentligutenhjemmel"}
    )
    adapter = build_adapters(settings.model_copy(update={"folkeregisteret": section}))[
        RegistryName.FOLKEREGISTERET
    ]
    try:
        with pytest.raises(RegistryRejected) as caught:
            adapter.lookup(NO_ORDINARY)
    finally:
        adapter.close()
    assert caught.value.status == 403


@pytest.mark.parametrize("registry", ALL)
def test_logs_never_carry_the_identity_number(
    adapters: dict, sandbox: Sandbox, registry: RegistryName, caplog: pytest.LogCaptureFixture
) -> None:
    ordinary, _, _ = PEOPLE[registry]
    emulator(sandbox, registry).script("503")
    with caplog.at_level(logging.DEBUG, logger="plugins"):
        adapters[registry].lookup(ordinary)
    assert "retrying" in caplog.text
    assert f"{registry.value}: " in caplog.text
    assert ordinary not in caplog.text
