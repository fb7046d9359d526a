"""local.settings.json, host.json, app settings and app loading for the local host."""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path

import pytest

from sandbox.host.config import (
    EnvironmentOverlay,
    HostConfig,
    UnresolvedSetting,
    app_configuration,
    read_local_http_port,
    read_local_settings,
    resolve_setting_expression,
)
from sandbox.host.errors import HostError
from sandbox.host.loader import load_app


def write(path: Path, document: object) -> Path:
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def test_local_settings_values(tmp_path: Path) -> None:
    path = write(tmp_path / "local.settings.json", {
        "IsEncrypted": False,
        "Values": {"FUNCTIONS_WORKER_RUNTIME": "python", "Retries": 3, "Empty": None},
        "Host": {"LocalHttpPort": 7071},
    })
    assert read_local_settings(path) == {
        "FUNCTIONS_WORKER_RUNTIME": "python", "Retries": "3", "Empty": ""
    }


@pytest.mark.parametrize(
    "document", [{"IsEncrypted": True, "Values": {}}, {"Values": ["a"]}, ["not", "an", "object"]]
)
def test_local_settings_refused(tmp_path: Path, document: object) -> None:
    with pytest.raises(HostError):
        read_local_settings(write(tmp_path / "local.settings.json", document))


def test_local_http_port_as_core_tools_reads_it(tmp_path: Path) -> None:
    path = write(tmp_path / "local.settings.json", {"Values": {}, "Host": {"LocalHttpPort": 7072}})
    assert read_local_http_port(path) == 7072
    assert read_local_http_port(write(tmp_path / "none.json", {"Values": {}})) is None
    for bad in ("7071", 0, 70000, True):
        with pytest.raises(HostError, match="LocalHttpPort"):
            read_local_http_port(write(tmp_path / "bad.json", {"Host": {"LocalHttpPort": bad}}))


def test_host_json_defaults_without_a_file(tmp_path: Path) -> None:
    assert HostConfig.from_folder(tmp_path) == HostConfig("api", 16, auto_complete_messages=True)


def test_host_json_extension_5_and_route_prefix(tmp_path: Path) -> None:
    write(tmp_path / "host.json", {"version": "2.0", "extensions": {
        "http": {"routePrefix": "/fn/"}, "serviceBus": {"maxConcurrentCalls": 4}}})
    assert HostConfig.from_folder(tmp_path) == HostConfig("fn", 4)


def test_host_json_legacy_message_handler_options_and_empty_prefix(tmp_path: Path) -> None:
    write(tmp_path / "host.json", {"extensions": {
        "http": {"routePrefix": ""},
        "serviceBus": {"messageHandlerOptions": {"maxConcurrentCalls": 3, "autoComplete": False}}}})
    assert HostConfig.from_folder(tmp_path) == HostConfig("", 3, auto_complete_messages=False)


def test_host_json_zero_concurrency_refused(tmp_path: Path) -> None:
    write(tmp_path / "host.json", {"extensions": {"serviceBus": {"maxConcurrentCalls": 0}}})
    with pytest.raises(HostError):
        HostConfig.from_folder(tmp_path)


def test_overlay_adds_and_removes_but_keeps_existing_variables(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HOST_CFG_EXISTING", "from-shell")
    monkeypatch.delenv("HOST_CFG_NEW", raising=False)
    overlay = EnvironmentOverlay({"HOST_CFG_EXISTING": "from-file", "HOST_CFG_NEW": "new"})
    overlay.apply()
    assert os.environ["HOST_CFG_EXISTING"] == "from-shell"
    assert os.environ["HOST_CFG_NEW"] == "new"
    overlay.restore()
    assert os.environ["HOST_CFG_EXISTING"] == "from-shell"
    assert "HOST_CFG_NEW" not in os.environ


def test_setting_expressions(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOST_CFG_QUEUE", "orders")
    assert resolve_setting_expression("%HOST_CFG_QUEUE%") == "orders"
    assert resolve_setting_expression("plain-%HOST_CFG_QUEUE%-x") == "plain-orders-x"
    assert resolve_setting_expression("no setting") == "no setting"
    with pytest.raises(UnresolvedSetting, match="HOST_CFG_MISSING"):
        resolve_setting_expression("%HOST_CFG_MISSING%")


def test_setting_expressions_resolve_like_net_configuration() -> None:
    # An app setting A__B is the configuration key A:B; keys compare without case.
    configuration = app_configuration({"Orders__Queue": "orders", "Plain": "p"})
    assert resolve_setting_expression("%Orders:Queue%", configuration) == "orders"
    assert resolve_setting_expression("%ORDERS:QUEUE%", configuration) == "orders"
    assert resolve_setting_expression("%plain%", configuration) == "p"
    with pytest.raises(UnresolvedSetting) as raised:
        resolve_setting_expression("%Orders__Queue%", configuration)
    assert str(raised.value).startswith("'%Orders__Queue%' does not resolve to a value")
    assert "'Orders:Queue'" in str(raised.value)


def app_file(tmp_path: Path, body: str) -> str:
    path = tmp_path / f"app_{uuid.uuid4().hex}.py"
    path.write_text("import azure.functions as func\n" + body, encoding="utf-8")
    return str(path)


def test_load_app_indexes_functions_by_name_and_trigger(tmp_path: Path) -> None:
    loaded = load_app(app_file(tmp_path, """
app = func.FunctionApp()

@app.route(route="r", auth_level=func.AuthLevel.ANONYMOUS)
def web(req, context):
    return "ok"

@app.timer_trigger(arg_name="t", schedule="0 0 * * * *")
def Tick(t):
    pass
"""))
    assert {name: e.trigger for name, e in loaded.functions.items()} == {
        "web": "httpTrigger", "Tick": "timerTrigger"
    }
    assert loaded.functions["web"].wants_context and not loaded.functions["Tick"].wants_context
    assert loaded.find("tick") is loaded.functions["Tick"]
    assert loaded.folder == tmp_path


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("app = func.FunctionApp()\n"
         "@app.blob_trigger(arg_name='b', path='c/{n}', connection='S')\n"
         "def blob(b): pass\n", "blobTrigger"),
        ("app = func.FunctionApp()\n"
         "@app.route(route='r')\n"
         "@app.queue_output(arg_name='out', queue_name='q', connection='S')\n"
         "def web(req, out): pass\n", "out"),
        ("a = func.FunctionApp()\nb = func.FunctionApp()\n", "exactly one"),
        ("x = 1\n", "exactly one"),
    ],
)
def test_apps_the_host_cannot_run_are_refused(tmp_path: Path, body: str, message: str) -> None:
    with pytest.raises(HostError, match=message):
        load_app(app_file(tmp_path, body))


def test_app_settings_override_host_json_as_the_host_applies_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "host.json").write_text(json.dumps({
        "version": "2.0",
        "extensions": {"serviceBus": {"maxConcurrentCalls": 4, "maxMessageBatchSize": 100}},
    }))
    monkeypatch.setenv("AzureFunctionsJobHost__extensions__serviceBus__maxMessageBatchSize", "1")
    monkeypatch.setenv("AZUREFUNCTIONSJOBHOST__EXTENSIONS__SERVICEBUS__MAXCONCURRENTCALLS", "2")
    monkeypatch.setenv("AzureFunctionsJobHost__extensions__http__routePrefix", "fn")

    config = HostConfig.from_folder(tmp_path)

    assert (config.max_message_batch_size, config.max_concurrent_calls) == (1, 2)
    assert config.route_prefix == "fn"
