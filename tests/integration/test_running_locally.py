"""docs/admin.md's "Try it on your machine", followed literally with the installed command line.

``member-plugins sandbox --https --seed ... --write-settings``, then ``member-plugins serve``
with that file, then ``member-plugins register`` with Service Bus delivery, then one
registration created in Dataverse reaches the local host over the queue and is decided. Each
command runs as its own process, as a person runs them in their shells; every one is stopped.
Also: the one-line refusals of ``serve`` and ``sandbox`` and ``status`` on an unprovisioned
environment.
"""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from plugins.core.schema_map import SchemaMap
from plugins.core.settings import DataverseSettings
from plugins.dataverse.client import DataverseClient
from plugins.registration.model import Status
from sandbox.host import read_local_settings

ROOT = Path(__file__).resolve().parents[2]
CLI = [sys.executable, "-m", "plugins.cli"]
REG = SchemaMap().registration


class Command:
    """One long-running command, its output read line by line until a marker shows."""

    def __init__(self, *argv: str, cwd: Path = ROOT) -> None:
        self.process = subprocess.Popen(
            [*CLI, *argv], cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
        self.lines: list[str] = []

    def until(self, marker: str, timeout: float = 60) -> str:
        """Read output until a line containing ``marker``; that line."""
        assert self.process.stdout is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            line = self.process.stdout.readline()
            if not line:
                break
            self.lines.append(line)
            if marker in line:
                return line
        raise AssertionError(f"no {marker!r} in:\n{''.join(self.lines)}")

    def stop(self) -> str:
        self.process.terminate()
        try:
            rest, _ = self.process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            rest, _ = self.process.communicate()
        return "".join(self.lines) + (rest or "")


@pytest.fixture
def commands() -> Iterator[list[Command]]:
    started: list[Command] = []
    try:
        yield started
    finally:
        for command in started:
            command.stop()


def run(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, *argv], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False
    )


ADMIN_GUIDE = ROOT / "docs" / "admin.md"


def documented_commands() -> list[str]:
    """The commands of the guide's first ``sh`` block, continuation lines joined, comments
    dropped."""
    text = ADMIN_GUIDE.read_text(encoding="utf-8")
    section = text[text.index("## 1. Try it on your machine"):]
    block = section[section.index("```sh\n") + 6:section.index("```", section.index("```sh") + 5)]
    joined = re.sub(r"\\\n\s*", " ", block)
    return [" ".join(line.split("#", 1)[0].split()) for line in joined.splitlines()
            if line.split("#", 1)[0].strip()]


def test_the_guide_shows_the_commands_this_test_runs() -> None:
    assert documented_commands() == [
        "make demo",
        ".venv/bin/member-plugins sandbox --https --seed sandbox/demo/seed.json "
        "--write-settings local.settings.json",
        ".venv/bin/member-plugins serve --settings local.settings.json",
        ".venv/bin/member-plugins register --settings local.settings.json "
        "--servicebus-namespace sb://127.0.0.1:<port>/servicebus/ --queue mp-registration-events "
        "--sas-key-name sandbox --sas-key sandbox",
    ]


def test_sandbox_serve_register_and_one_registration_over_the_queue(
    tmp_path: Path, commands: list[Command]
) -> None:
    settings_file = tmp_path / "local.settings.json"
    sandbox = Command(
        "sandbox", "--https", "--seed", "sandbox/demo/seed.json",
        "--write-settings", str(settings_file),
    )
    commands.append(sandbox)
    sandbox.until("settings:       wrote")
    namespace = re.search(r"Service Bus:\s+Endpoint=(sb://\S+?);", "".join(sandbox.lines))
    assert namespace is not None
    settings = read_local_settings(settings_file)
    assert "UseDevelopmentEmulator" not in settings["ServiceBusConnection"]

    host = Command("serve", "--settings", str(settings_file))
    commands.append(host)
    host.until("listening on")
    master_key = host.until("master key:").split()[-1]
    assert len(master_key) >= 40

    registered = run(
        "register", "--settings", str(settings_file),
        "--servicebus-namespace", namespace.group(1), "--queue", settings["REGISTRATION_QUEUE"],
        "--sas-key-name", "sandbox", "--sas-key", "sandbox",
    )
    assert registered.returncode == 0, registered.stderr
    assert "registered:" in registered.stdout
    status = run("status", "--settings", str(settings_file))
    assert "complete:" in status.stdout, status.stdout + status.stderr

    dataverse = DataverseSettings(
        url=settings["DATAVERSE__URL"], tenant_id=settings["DATAVERSE__TENANT_ID"],
        client_id=settings["DATAVERSE__CLIENT_ID"],
        client_secret=settings["DATAVERSE__CLIENT_SECRET"],
        authority_host=settings["DATAVERSE__AUTHORITY_HOST"],
        ca_bundle=settings["DATAVERSE__CA_BUNDLE"],
    )
    with DataverseClient(dataverse) as client:
        created = client.create(REG.entity_set, {
            REG.name: "Anna, already a registered alumna",
            REG.kind: next(iter(REG.kind_values.values())),
            REG.status: REG.status_values[Status.RECEIVED],
            "mp_firstname": "Anna", "mp_lastname": "Andersson",
            "mp_email": "anna.andersson@example.org", "mp_nationalid": "850312-2387",
        })
        host.until("Executed 'Functions.registration_queue' (Succeeded")
        row = client.get(REG.entity_set, created.id, select=[REG.status])
    assert row[REG.status] == REG.status_values[Status.APPROVED_REGISTERED_ALUMNUS]


def test_serve_refuses_a_missing_settings_file_in_one_line(tmp_path: Path) -> None:
    missing = tmp_path / "local.settings.json"
    result = run("serve", "--settings", str(missing))
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"error: no settings file {missing} (member-plugins sandbox --write-settings "
        f"{missing} writes one)"
    ]


def test_a_port_in_use_is_one_line(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        settings = tmp_path / "local.settings.json"
        settings.write_text(json.dumps({"Values": {}}), encoding="utf-8")
        for argv in (["sandbox", "--port", str(port)],
                     ["serve", "--settings", str(settings), "--port", str(port)]):
            result = run(*argv)
            assert result.returncode == 2
            # (serve logs the functions in error with these empty settings first)
            assert result.stderr.strip().splitlines()[-1] == (
                f"error: cannot listen on 127.0.0.1:{port}: the port is in use (choose "
                "another --port, or leave it out for a free port)"
            )
            assert "Traceback" not in result.stderr


def test_status_names_provision_on_an_unprovisioned_environment(
    tmp_path: Path, commands: list[Command]
) -> None:
    settings_file = tmp_path / "local.settings.json"
    sandbox = Command(
        "sandbox", "--https", "--unprovisioned", "--write-settings", str(settings_file)
    )
    commands.append(sandbox)
    sandbox.until("settings:       wrote")
    result = run("status", "--settings", str(settings_file))
    assert result.returncode == 0, result.stderr
    assert "run member-plugins provision, then register" in result.stdout
    lines = result.stdout.strip().splitlines()
    assert f"not provisioned: no table {REG.table}: run member-plugins provision" in lines


def test_the_admin_commands_name_a_bad_setting_as_it_was_set(tmp_path: Path) -> None:
    settings = tmp_path / "local.settings.json"
    settings.write_text(json.dumps({"Values": {
        "DATAVERSE__URL": "https://org.example", "REGISTRATION__ALUMNI_RULE":
        '{"any_of": [{"kind": "alumnus"}]}',
    }}), encoding="utf-8")
    result = run("status", "--settings", str(settings))
    assert result.returncode != 0
    [line] = result.stderr.strip().splitlines()
    assert line.startswith(
        "error: invalid settings: REGISTRATION__ALUMNI_RULE: any_of.0.kind: 'alumnus' is not "
        "one of the allowed values (allowed: 'degree_awarded',"
    )


def test_serve_trusts_one_ca_file_for_dataverse_registries_and_service_bus(
    tmp_path: Path, commands: list[Command]
) -> None:
    written = tmp_path / "sandbox.settings.json"
    sandbox = Command("sandbox", "--https", "--write-settings", str(written))
    commands.append(sandbox)
    sandbox.until("settings:       wrote")
    values = read_local_settings(written)
    ca_file = values["DATAVERSE__CA_BUNDLE"]
    without_ca = {name: value for name, value in values.items() if not name.endswith("CA_BUNDLE")}
    settings = tmp_path / "local.settings.json"
    settings.write_text(json.dumps({"Values": without_ca}), encoding="utf-8")

    host = Command("serve", "--settings", str(settings), "--ca-file", ca_file)
    commands.append(host)
    url = host.until("Functions host listening on").split("listening on ")[1].split()[0]
    master_key = host.until("master key:").split()[-1]
    health = requests.get(f"{url}health", params={"code": master_key}, timeout=30)
    assert health.status_code == 200, health.text
    time.sleep(1)  # a few polls of the queue over TLS
    output = host.stop()
    assert "receive from queue" not in output and "CERTIFICATE_VERIFY_FAILED" not in output
