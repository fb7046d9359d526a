"""How one sandbox is set up: address, identity, injected latency and faults, limits."""

from __future__ import annotations

from dataclasses import dataclass, field

DEFAULT_TENANT_ID = "00000000-0000-4000-8000-00000000a11e"
DEFAULT_CLIENT_ID = "00000000-0000-4000-8000-0000000c11e7"
DEFAULT_CLIENT_SECRET = "sandbox-secret"


@dataclass(frozen=True)
class Limits:
    """Dataverse's service-protection limits (per user, sliding window).

    Defaults are Dataverse's own: 6000 requests and 1,200,000 ms of execution time in 300 s,
    and 52 concurrent requests. Benchmarks scale the window down.
    """

    requests: int = 6000
    window_seconds: float = 300.0
    execution_ms: int = 1_200_000
    concurrency: int = 52

    @classmethod
    def parse(cls, text: str) -> Limits:
        """``requests=600,window=30,concurrency=10,execution-ms=120000`` (any subset)."""
        names = {
            "requests": "requests",
            "window": "window_seconds",
            "concurrency": "concurrency",
            "execution-ms": "execution_ms",
        }
        values: dict[str, float | int] = {}
        for item in filter(None, (p.strip() for p in text.split(","))):
            name, _, raw = item.partition("=")
            if name not in names or not raw:
                raise ValueError(f"unknown limit {item!r}; use {', '.join(names)}")
            values[names[name]] = float(raw) if name == "window" else int(raw)
        return cls(**values)  # type: ignore[arg-type]


@dataclass(frozen=True)
class SandboxConfig:
    host: str = "127.0.0.1"
    port: int = 0
    https: bool = False
    tenant_id: str = DEFAULT_TENANT_ID
    client_id: str = DEFAULT_CLIENT_ID
    client_secret: str = DEFAULT_CLIENT_SECRET
    client_certificates: tuple[str, ...] = ()  # PEM certificates registered on the app
    token_lifetime_seconds: int = 3600
    organization_name: str = "unqsandbox"
    latency_ms: int = 0
    fault_rate: float = 0.0
    fault_kinds: tuple[str, ...] = ("429", "503", "drop")
    fault_seed: int | None = None
    limits: Limits = field(default_factory=Limits)
    webhook_timeout_seconds: float = 60.0
    state_dir: str | None = None
    # False: start as a fresh environment (standard tables only) for `member-plugins provision`.
    provisioned: bool = True
