"""The sandbox's generated TLS certificate, as clients see it."""

from __future__ import annotations

import ipaddress
import ssl
import tempfile
from pathlib import Path

import pytest
import requests
from cryptography import x509

from sandbox import tls
from sandbox.app import Sandbox
from sandbox.config import SandboxConfig


def test_clients_trusting_the_sandbox_ca_connect(https_sandbox: Sandbox) -> None:
    assert https_sandbox.base_url.startswith("https://127.0.0.1:")
    assert https_sandbox.ca_file is not None

    response = requests.get(
        f"{https_sandbox.base_url}/_sandbox/health", verify=https_sandbox.ca_file, timeout=10
    )

    assert response.status_code == 200


def test_localhost_name_is_covered_too(https_sandbox: Sandbox) -> None:
    port = https_sandbox.base_url.rsplit(":", 1)[1]

    response = requests.get(
        f"https://localhost:{port}/_sandbox/health", verify=https_sandbox.ca_file, timeout=10
    )

    assert response.status_code == 200


def test_clients_not_trusting_the_ca_refuse_the_connection(https_sandbox: Sandbox) -> None:
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(f"{https_sandbox.base_url}/_sandbox/health", timeout=10)


def test_certificates_are_written_to_the_state_dir(https_sandbox: Sandbox) -> None:
    assert https_sandbox.config.state_dir is not None
    state = Path(https_sandbox.config.state_dir)
    assert https_sandbox.ca_file == str(state / "ca.pem")
    server = x509.load_pem_x509_certificate((state / "server.pem").read_bytes())
    names = server.extensions.get_extension_for_class(x509.SubjectAlternativeName).value

    assert ipaddress.ip_address("127.0.0.1") in names.get_values_for_type(x509.IPAddress)
    assert "localhost" in names.get_values_for_type(x509.DNSName)
    assert (state / "server-key.pem").stat().st_mode & 0o077 == 0


def test_without_state_dir_a_fresh_directory_is_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    sandbox = Sandbox(SandboxConfig(https=True))
    try:
        context = tls.server_context(sandbox)
    finally:
        sandbox.stop()

    assert isinstance(context, ssl.SSLContext)
    assert sandbox.ca_file is not None
    assert Path(sandbox.ca_file).parent.parent == tmp_path
    assert Path(sandbox.ca_file).is_file()
