"""What an admin registered, read into plain values: endpoints, steps and their images."""

from __future__ import annotations

from dataclasses import dataclass

STAGE_PRE_VALIDATION = 10
STAGE_PRE_OPERATION = 20
STAGE_MAIN_OPERATION = 30
STAGE_POST_OPERATION = 40
MODE_SYNCHRONOUS = 0
MODE_ASYNCHRONOUS = 1

IMAGE_PRE = 0
IMAGE_POST = 1
IMAGE_BOTH = 2

CONTRACT_QUEUE = 2
CONTRACT_TOPIC = 5
CONTRACT_PERSISTENT_QUEUE = 6
CONTRACT_WEBHOOK = 8
SERVICE_BUS_CONTRACTS = frozenset({CONTRACT_QUEUE, CONTRACT_TOPIC, CONTRACT_PERSISTENT_QUEUE})

AUTH_WEBHOOK_KEY = 4
AUTH_HTTP_HEADER = 5
AUTH_HTTP_QUERY_STRING = 6

MESSAGE_FORMAT_BINARY_XML = 1
MESSAGE_FORMAT_JSON = 2
MESSAGE_FORMAT_TEXT_XML = 3


@dataclass(frozen=True)
class Endpoint:
    """A ``serviceendpoint`` row: a webhook (contract 8) or a Service Bus entity."""

    id: str
    name: str
    contract: int
    url: str | None = None
    authtype: int | None = None
    authvalue: str | None = None
    path: str | None = None
    messageformat: int | None = None


@dataclass(frozen=True)
class Image:
    """An ``sdkmessageprocessingstepimage``: which row state goes into the context."""

    alias: str
    image_type: int
    attributes: tuple[str, ...] = ()

    @property
    def wants_pre(self) -> bool:
        return self.image_type in (IMAGE_PRE, IMAGE_BOTH)

    @property
    def wants_post(self) -> bool:
        return self.image_type in (IMAGE_POST, IMAGE_BOTH)


@dataclass(frozen=True)
class Step:
    """An enabled ``sdkmessageprocessingstep`` with its endpoint and images."""

    id: str
    name: str | None
    stage: int
    mode: int
    rank: int
    endpoint: Endpoint
    images: tuple[Image, ...] = ()
    filtering_attributes: tuple[str, ...] = ()
    async_auto_delete: bool = False

    @property
    def is_async(self) -> bool:
        return self.mode == MODE_ASYNCHRONOUS


def column_list(text: str | None) -> tuple[str, ...]:
    """``"a, b,c"`` (a filtering-attributes or image-attributes value) as names."""
    return tuple(part.strip().lower() for part in (text or "").split(",") if part.strip())
