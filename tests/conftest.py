"""Shared fixtures: a sandbox on a free loopback port and an authorised Web API session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from sandbox.app import Sandbox
from sandbox.config import SandboxConfig
from sandbox.webapi.context import API_PATH


class WebApiSession:
    """A ``requests`` session against one sandbox with a valid bearer token."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        self.http = requests.Session()
        self.http.headers.update(
            {
                "Authorization": f"Bearer {sandbox.auth.issue_token()}",
                "Accept": "application/json",
                "OData-MaxVersion": "4.0",
                "OData-Version": "4.0",
            }
        )
        if sandbox.ca_file:
            # REQUESTS_CA_BUNDLE in the environment would override a session's ``verify``.
            self.http.trust_env = False
            self.http.verify = sandbox.ca_file

    def url(self, resource: str) -> str:
        return f"{self.sandbox.base_url}{API_PATH}{resource.lstrip('/')}"

    def request(self, method: str, resource: str, **kwargs: object) -> requests.Response:
        return self.http.request(method, self.url(resource), timeout=30, **kwargs)  # type: ignore[arg-type]

    def get(self, resource: str, **kwargs: object) -> requests.Response:
        return self.request("GET", resource, **kwargs)

    def post(self, resource: str, **kwargs: object) -> requests.Response:
        return self.request("POST", resource, **kwargs)

    def patch(self, resource: str, **kwargs: object) -> requests.Response:
        return self.request("PATCH", resource, **kwargs)

    def put(self, resource: str, **kwargs: object) -> requests.Response:
        return self.request("PUT", resource, **kwargs)

    def delete(self, resource: str, **kwargs: object) -> requests.Response:
        return self.request("DELETE", resource, **kwargs)

    def close(self) -> None:
        self.http.close()


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    """A fresh sandbox (plain HTTP) for one test, stopped afterwards."""
    instance = Sandbox(SandboxConfig()).start()
    try:
        yield instance
    finally:
        instance.stop()


@pytest.fixture
def https_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    """A fresh sandbox serving TLS with a certificate it generated."""
    state = tmp_path_factory.mktemp("sandbox-tls")
    instance = Sandbox(SandboxConfig(https=True, state_dir=str(state))).start()
    try:
        yield instance
    finally:
        instance.stop()


@pytest.fixture
def dv(sandbox: Sandbox) -> Iterator[WebApiSession]:
    """An authorised Web API session against ``sandbox``."""
    session = WebApiSession(sandbox)
    try:
        yield session
    finally:
        session.close()
