"""Settings read one group at a time: a bad value is named as the app setting it was set as."""

from __future__ import annotations

import logging
import os

import pytest

from plugins.core.settings_groups import GROUPS, SettingsError, load_group, load_plugin

LONG = "k" * 40


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No product setting of the machine running the tests leaks in."""
    prefixes = tuple(group.upper() for group in GROUPS)
    for name in list(os.environ):
        if name.upper().startswith(prefixes):
            monkeypatch.delenv(name)


@pytest.mark.parametrize(
    ("values", "group", "setting", "problem", "allowed"),
    [
        ({"REGISTRATION__ALUMNI_RULE": '{"any_of": [{"kind": "nope"}]}'}, "registration",
         "REGISTRATION__ALUMNI_RULE", "any_of.0.kind: 'nope' is not one of the allowed values",
         "'degree_awarded', 'about_to_graduate', 'completed_study', 'min_credits' or "
         "'self_declared'"),
        ({"REGISTRATION__ALUMNI_RULE": '{"any_of": [{"kind": "min_credits"}]}'}, "registration",
         "REGISTRATION__ALUMNI_RULE", "any_of.0: min_credits needs a positive 'credits'", ""),
        ({"REGISTRATION__ALUMNI_RULE": '{"any_of": ['}, "registration",
         "REGISTRATION__ALUMNI_RULE",
         "is not valid JSON (Expecting value: line 1 column 13 (char 12))", "a JSON value"),
        ({"REGISTRATION__STUDENT_REGISTRY": "x"}, "registration",
         "REGISTRATION__STUDENT_REGISTRY", "'x' is not one of the allowed values",
         "'ladok', 'fs' or 'none'"),
        ({"REGISTRATION__QUEUE": "q"}, "registration", "REGISTRATION__QUEUE",
         "is no longer read: rename it REGISTRATION_QUEUE (a binding's %NAME% cannot resolve "
         "an app setting whose name has __)", ""),
        ({"SELFSERVICE__LINK_KEYS": '{"k1": "short"}', "SELFSERVICE__LINK_KEY_ID": "k1"},
         "selfservice", "SELFSERVICE__LINK_KEYS", "every link key needs at least 32 characters",
         ""),
        ({"SELFSERVICE__LINK_KEYS": f'{{"k1": "{LONG}"}}', "SELFSERVICE__LINK_KEY_ID": "k2"},
         "selfservice", "SELFSERVICE__LINK_KEY_ID", "must name one of the link_keys", ""),
        ({"SELFSERVICE__OIDC": '{"issuer": "https://id.example"}'}, "selfservice",
         "SELFSERVICE__OIDC", "client_id: Field required", ""),
        ({"REGISTRIES__LADOK__CLIENT_CERT__CERT_FILE": "c.pem"}, "registries",
         "REGISTRIES__LADOK__CLIENT_CERT__KEY_FILE", "Field required", ""),
        ({"SYNC__TOMBSTONE_KEY": "short"}, "sync", "SYNC__TOMBSTONE_KEY",
         "needs at least 32 characters", ""),
        ({"DATAVERSE__MAX_ATTEMPTS": "0"}, "dataverse", "DATAVERSE__MAX_ATTEMPTS",
         "Input should be greater than or equal to 1", ""),
    ],
)
def test_a_bad_value_is_named_by_its_app_setting(
    monkeypatch: pytest.MonkeyPatch, values: dict[str, str], group: str, setting: str,
    problem: str, allowed: str,
) -> None:
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as raised:
        load_group(group)
    assert (raised.value.setting, raised.value.problem, raised.value.allowed) == (
        setting, problem, allowed
    )


def test_binding_settings_are_read_by_their_own_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("registration_queue", "events")
    monkeypatch.setenv("REGISTRATION_SWEEP_SCHEDULE", "0 0 * * * *")
    registration = load_group("registration")
    assert (registration.queue, registration.sweep_schedule) == ("events", "0 0 * * * *")


def test_one_bad_group_leaves_the_other_plugins_loading(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("SYNC__LIFECYCLE__TIMEZONE", "Europe/Stockholm")
    monkeypatch.setenv("SYNC__UPKEEP__BATCH_SIZE", "0")
    caplog.set_level(logging.ERROR, logger="plugins.core.settings_groups")
    for _ in range(3):
        with pytest.raises(SettingsError, match="SYNC__UPKEEP__BATCH_SIZE"):
            load_plugin("sync")
    assert len(caplog.records) == 1
    assert load_plugin("registration").registration.queue == "mp-registration-events"
    assert load_plugin("selfservice").selfservice.organisation_name == "Alumni"


def test_a_fixed_value_is_read_again(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REGISTRATION__TASK_DUE_DAYS", "-1")
    with pytest.raises(SettingsError):
        load_group("registration")
    monkeypatch.setenv("REGISTRATION__TASK_DUE_DAYS", "7")
    assert load_group("registration").task_due_days == 7
