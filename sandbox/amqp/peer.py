"""An AMQP 1.0 endpoint over the sandbox's Service Bus queues, for the azure-servicebus SDK.

It serves the queues of a :class:`sandbox.servicebus.Namespace` (the same objects the REST
API and the local Functions host use), so a message the host dead-letters is the message the
SDK peeks and replays here. Connection string::

    Endpoint=sb://127.0.0.1:<port>;SharedAccessKeyName=sandbox;SharedAccessKey=sandbox;
    UseDevelopmentEmulator=true

With ``UseDevelopmentEmulator`` the SDK speaks plain AMQP without SASL. What it gets:

- ``$cbs``: every ``put-token`` is accepted (202); the sandbox does not check SAS tokens.
- sending to ``<queue>`` (single messages and batches); sending to a dead-letter queue is
  refused, as Service Bus refuses it;
- receiving from ``<queue>`` or ``<queue>/$DeadLetterQueue`` in peek-lock (the delivery tag
  is the lock token) or receive-and-delete; settling on the link: ``accepted`` completes,
  ``released`` / ``modified`` abandons, ``rejected`` dead-letters with the
  ``DeadLetterReason`` / ``DeadLetterErrorDescription`` the SDK sends (also when the
  receiver settles first, as the SDK does with what it buffered when it closes); a receiver
  that drains its credit gets it back;
- ``<entity>/$management``: see :mod:`sandbox.amqp.management`.

Not served, and refused at once with an AMQP error rather than left to time out: sessions
(a session filter on attach), deferral (``modified`` with ``undeliverable-here``),
subscriptions (``<topic>/Subscriptions/<name>``; a topic name is served as a queue), and the
management operations listed in :mod:`.management`.

The peer runs python-qpid-proton's reactor on one background thread; every queue call it
makes is non-blocking, and a timer hands newly arrived messages to receivers with credit.
"""

from __future__ import annotations

import functools
import logging
import socket
import threading
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from proton import Condition, Delivery, Endpoint, Handler, Link, Message
from proton.reactor import ApplicationEvent, Container, EventInjector

from ..servicebus.queue import LockLostError, Queue
from . import management
from .addresses import Node, NodeKind, UnsupportedAddress, parse_address
from .messages import UndecodableMessage, decode_transfer, to_amqp

if TYPE_CHECKING:
    from ..servicebus import Namespace

log = logging.getLogger(__name__)

POLL_SECONDS = 0.05
SEND_CREDIT = 100
START_TIMEOUT_SECONDS = 10.0
STOP_GRACE_SECONDS = 1.0
SESSION_FILTER = "com.microsoft:session-filter"
DEAD_LETTER_REASON = "DeadLetterReason"
DEAD_LETTER_DESCRIPTION = "DeadLetterErrorDescription"
_STOP = "sandbox_stop"


class AmqpPeer:
    """The namespace's queues over AMQP 1.0 on a loopback port, in a background thread."""

    def __init__(self, namespace: Namespace, host: str = "127.0.0.1", port: int = 0) -> None:
        self.namespace = namespace
        self.host = host
        self.port = port
        self._injector: EventInjector | None = None
        self._thread: threading.Thread | None = None

    @property
    def connection_string(self) -> str:
        """What the SDK (``ServiceBusClient.from_connection_string``) needs to reach us."""
        return (
            f"Endpoint=sb://{self.host}:{self.port};SharedAccessKeyName=sandbox;"
            "SharedAccessKey=sandbox;UseDevelopmentEmulator=true"
        )

    def start(self) -> AmqpPeer:
        """Listen (port 0 = a free one) and serve until :meth:`stop`."""
        if self.port == 0:
            self.port = _free_port(self.host)
        listening = threading.Event()
        failures: list[BaseException] = []
        self._injector = EventInjector()
        broker = _Broker(self, listening, self._injector)
        container = Container(broker)
        container.selectable(self._injector)

        def run() -> None:
            try:
                container.run()
            except BaseException as exc:  # the reactor re-raises handler errors here
                failures.append(exc)
                listening.set()
                log.exception("sandbox AMQP peer stopped on an error")

        self._thread = threading.Thread(target=run, name="sandbox-amqp", daemon=True)
        self._thread.start()
        if not listening.wait(START_TIMEOUT_SECONDS) or failures:
            self.stop()
            raise RuntimeError(f"the AMQP peer could not listen on {self.host}:{self.port}")
        return self

    def stop(self) -> None:
        """Close every connection and the listener, and end the reactor thread."""
        if self._injector is not None:
            self._injector.trigger(ApplicationEvent(_STOP))
        if self._thread is not None:
            self._thread.join(START_TIMEOUT_SECONDS)
            self._thread = None
        self._injector = None

    def __enter__(self) -> AmqpPeer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _guarded(method: Callable[[_Broker, Any], None]) -> Callable[[_Broker, Any], None]:
    """Keep the reactor alive when one event fails: close that connection with an error."""

    @functools.wraps(method)
    def run(broker: _Broker, event: Any) -> None:
        try:
            method(broker, event)
        except Exception:
            log.exception("sandbox AMQP peer: %s failed", method.__name__)
            connection = event.connection
            if connection is not None and not connection.state & Endpoint.LOCAL_CLOSED:
                connection.condition = Condition(
                    "amqp:internal-error", "the sandbox's AMQP peer failed; see its log"
                )
                connection.close()

    return run


def _free_port(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


class _Broker(Handler):  # type: ignore[misc]
    """The reactor's handler: connections, links, deliveries and settlement.

    A plain handler rather than proton's MessagingHandler: credit, acceptance and settlement
    follow Service Bus here, not proton's client-side defaults.
    """

    def __init__(
        self, peer: AmqpPeer, listening: threading.Event, injector: EventInjector
    ) -> None:
        self.peer = peer
        self.listening = listening
        self.injector = injector
        self.container: Any = None
        self.halt: Any = None
        self.acceptor: Any = None
        self.timer: Any = None
        self.senders: list[Link] = []
        self.connections: list[Any] = []
        self.locks: dict[str, tuple[Queue, int]] = {}

    # ---------------------------------------------------------------- lifecycle

    def on_reactor_init(self, event: Any) -> None:
        self.container = event.container
        self.acceptor = event.container.listen(f"{self.peer.host}:{self.peer.port}")
        self.timer = event.container.schedule(POLL_SECONDS, self)
        self.listening.set()

    def on_timer_task(self, event: Any) -> None:
        self.timer = event.container.schedule(POLL_SECONDS, self)
        for link in list(self.senders):
            self._pump_guarded(link)

    def _pump_guarded(self, link: Link) -> None:
        try:
            self._pump(link)
        except Exception:
            log.exception("sandbox AMQP peer: delivering to a receiver failed")
            self.senders.remove(link)
            link.condition = Condition("amqp:internal-error", "the sandbox's AMQP peer failed")
            link.close()

    def on_sandbox_stop(self, event: Any) -> None:
        if self.timer is not None:
            self.timer.cancel()
        if self.acceptor is not None:
            self.acceptor.close()
        for connection in self.connections:
            if not connection.state & Endpoint.LOCAL_CLOSED:
                connection.close()
        self.injector.close()
        if self.connections:
            # A client that never answers the close must not keep the reactor running.
            self.halt = self.container.schedule(STOP_GRACE_SECONDS, _Halt())

    def on_connection_remote_open(self, event: Any) -> None:
        connection = event.connection
        if connection.state & Endpoint.LOCAL_UNINIT:
            connection.container = "sandbox-servicebus"
            connection.open()
            self.connections.append(connection)

    def on_session_remote_open(self, event: Any) -> None:
        if event.session.state & Endpoint.LOCAL_UNINIT:
            event.session.open()

    def on_session_remote_close(self, event: Any) -> None:
        if not event.session.state & Endpoint.LOCAL_CLOSED:
            event.session.close()

    def on_connection_remote_close(self, event: Any) -> None:
        connection = event.connection
        if not connection.state & Endpoint.LOCAL_CLOSED:
            connection.close()
        self._forget_connection(connection)

    def on_transport_closed(self, event: Any) -> None:
        if event.connection is not None:
            self._forget_connection(event.connection)

    def _forget_connection(self, connection: Any) -> None:
        if connection in self.connections:
            self.connections.remove(connection)
        self.senders = [link for link in self.senders if link.connection != connection]
        if self.halt is not None and not self.connections:
            self.halt.cancel()

    # -------------------------------------------------------------------- links

    @_guarded
    def on_link_remote_open(self, event: Any) -> None:
        link: Link = event.link
        if not link.state & Endpoint.LOCAL_UNINIT:
            return
        remote = link.remote_source if link.is_sender else link.remote_target
        try:
            node = parse_address(remote.address)
            self._check_link(link, node)
        except UnsupportedAddress as exc:
            self._refuse(link, "amqp:not-found", str(exc))
            return
        except _Refused as exc:
            self._refuse(link, exc.condition, str(exc))
            return
        link.source.copy(link.remote_source)
        link.target.copy(link.remote_target)
        link.snd_settle_mode = link.remote_snd_settle_mode
        link.rcv_settle_mode = link.remote_rcv_settle_mode
        link.sandbox_node = node
        link.open()
        if link.is_receiver:
            link.flow(SEND_CREDIT)
        elif node.kind in (NodeKind.QUEUE, NodeKind.DEAD_LETTERS):
            self.senders.append(link)

    def _check_link(self, link: Link, node: Node) -> None:
        if node.kind is NodeKind.DEAD_LETTERS and link.is_receiver:
            raise _Refused(
                "amqp:not-allowed", f"cannot send to the dead-letter queue '{node.entity}'"
            )
        if link.is_sender and SESSION_FILTER in _filter_keys(link.remote_source):
            raise _Refused(
                "amqp:not-implemented", "sessions are not supported by the sandbox's AMQP peer"
            )
        if node.kind is not NodeKind.CBS:
            try:
                self.peer.namespace.queue(node.queue)
            except ValueError as exc:
                raise _Refused("amqp:not-found", str(exc)) from exc

    @staticmethod
    def _refuse(link: Link, condition: str, description: str) -> None:
        log.info("sandbox AMQP peer refused a link: %s", description)
        link.condition = Condition(condition, description)
        link.open()
        link.close()

    @_guarded
    def on_link_remote_close(self, event: Any) -> None:
        link: Link = event.link
        if link in self.senders:
            self.senders.remove(link)
        if not link.state & Endpoint.LOCAL_CLOSED:
            link.close()

    @_guarded
    def on_link_flow(self, event: Any) -> None:
        if event.link.is_sender and event.link in self.senders:
            self._pump(event.link)

    # --------------------------------------------------------------- deliveries

    @_guarded
    def on_delivery(self, event: Any) -> None:
        delivery: Delivery = event.delivery
        link: Link = delivery.link
        if getattr(link, "sandbox_node", None) is None:
            # A transfer on a link this peer refused (the sender did not wait for the detach).
            delivery.settle()
        elif link.is_receiver:
            if delivery.readable and not delivery.partial:
                self._take(link, delivery)
        elif delivery.updated:
            self._settle(delivery)

    def _take(self, link: Link, delivery: Delivery) -> None:
        raw = link.recv(delivery.pending) or b""
        link.advance()
        node: Node = link.sandbox_node
        try:
            if node.kind is NodeKind.CBS:
                self._reply(link, _cbs_answer(_decoded(raw)), node)
            elif node.kind is NodeKind.MANAGEMENT:
                queue = self._queue(node)
                self._reply(link, management.answer(_decoded(raw), queue, self.locks), node)
            else:
                self._enqueue(node, raw)
        except UndecodableMessage as exc:
            delivery.local.condition = Condition("amqp:decode-error", str(exc))
            delivery.update(Delivery.REJECTED)
        else:
            delivery.update(Delivery.ACCEPTED)
        delivery.settle()
        link.flow(1)

    def _enqueue(self, node: Node, raw: bytes) -> None:
        queue = self._queue(node)
        for message in decode_transfer(raw):
            queue.send(
                message.body,
                content_type=message.content_type,
                application_properties=message.application_properties,
                message_id=message.message_id,
                correlation_id=message.correlation_id,
                label=message.subject,
                time_to_live=message.time_to_live,
            )

    def _reply(self, request_link: Link, response: Message, node: Node) -> None:
        """Send a CBS or management response on the caller's reply link for ``node``."""
        link = request_link.connection.link_head(Endpoint.LOCAL_ACTIVE)
        while link is not None:
            if link.is_sender and getattr(link, "sandbox_node", None) == node:
                link.send(response)
                return
            link = link.next(Endpoint.LOCAL_ACTIVE)
        log.info("sandbox AMQP peer: no reply link for %s", node.entity or node.kind.value)

    def _queue(self, node: Node) -> Queue:
        queue = self.peer.namespace.queue(node.queue)
        if node.dead_letters:
            assert queue.dead_letter_queue is not None  # every namespace queue has one
            return queue.dead_letter_queue
        return queue

    def _pump(self, link: Link) -> None:
        """Hand available messages to a receiver, as far as its credit goes."""
        if not (link.state & Endpoint.LOCAL_ACTIVE and link.state & Endpoint.REMOTE_ACTIVE):
            return
        queue = self._queue(link.sandbox_node)
        presettled = link.snd_settle_mode == Link.SND_SETTLED
        while link.credit > 0:
            message = queue.receive(0)
            if message is None or message.lock_token is None:
                break
            token = message.lock_token
            delivery = link.send(to_amqp(message), tag=uuid.UUID(token).bytes_le)
            if presettled:
                queue.complete(message.sequence_number, token)
                delivery.settle()
            else:
                delivery.sandbox_lock = (queue, message.sequence_number, token)
                self.locks[token] = (queue, message.sequence_number)
        if link.drain_mode:
            # A receiver about to close asks for its unused credit back (the SDK does).
            link.drained()

    def _settle(self, delivery: Delivery) -> None:
        """Apply a receiver's outcome, then settle with it (Service Bus's settle mode 2).

        A receiver may also settle first (the SDK releases what it buffered when it closes);
        the outcome applies all the same.
        """
        held = getattr(delivery, "sandbox_lock", None)
        if held is None:
            delivery.settle()
            return
        queue, sequence, token = held
        state = delivery.remote_state
        outcome = state
        try:
            if state == Delivery.ACCEPTED:
                queue.complete(sequence, token)
            elif state == Delivery.MODIFIED and delivery.remote.undeliverable:
                raise _Refused("amqp:not-implemented", "deferral is not supported by the sandbox")
            elif state in (Delivery.MODIFIED, Delivery.RELEASED):
                queue.abandon(sequence, token)
            elif state == Delivery.REJECTED:
                self._dead_letter(queue, sequence, token, delivery.remote.condition)
            else:
                return
        except LockLostError as exc:
            outcome = _reject(delivery, "com.microsoft:message-lock-lost", str(exc))
        except _Refused as exc:
            outcome = _reject(delivery, exc.condition, str(exc))
        delivery.sandbox_lock = None
        self.locks.pop(token, None)
        delivery.update(outcome)
        delivery.settle()

    @staticmethod
    def _dead_letter(queue: Queue, sequence: int, token: str, condition: Any) -> None:
        if queue.max_delivery_count is None:
            raise _Refused("amqp:not-allowed", "a dead-lettered message cannot be dead-lettered")
        info = dict(condition.info or {}) if condition is not None else {}
        queue.dead_letter(
            sequence,
            token,
            str(info.get(DEAD_LETTER_REASON) or ""),
            str(info.get(DEAD_LETTER_DESCRIPTION) or ""),
        )


class _Halt(Handler):  # type: ignore[misc]
    """Ends the reactor, open connections or not."""

    def on_timer_task(self, event: Any) -> None:
        event.container.stop()


class _Refused(Exception):
    """A link or an outcome the peer refuses, with the AMQP error condition to send."""

    def __init__(self, condition: str, description: str) -> None:
        super().__init__(description)
        self.condition = condition


def _reject(delivery: Delivery, condition: str, description: str) -> int:
    delivery.local.condition = Condition(condition, description)
    return int(Delivery.REJECTED)


def _decoded(raw: bytes) -> Message:
    message = Message()
    try:
        message.decode(raw)
    except Exception as exc:  # proton's MessageException
        raise UndecodableMessage(str(exc)) from exc
    return message


def _cbs_answer(request: Message) -> Message:
    """``put-token`` is always accepted: the sandbox trusts every SAS token."""
    response = Message(correlation_id=request.id)
    response.properties = {"status-code": 202, "status-description": "Accepted"}
    return response


def _filter_keys(terminus: Any) -> set[str]:
    described = terminus.filter
    described.rewind()
    if not described.next():
        return set()
    value = described.get_object()
    return {str(k) for k in value} if isinstance(value, dict) else set()
