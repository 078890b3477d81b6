"""`wirewatch notify`: start (Redis, notify.yaml, a runner per destination) -> deliver and follow
edits of notify.yaml -> drain -> close, always in `finally`.

A first SIGTERM/SIGINT lets each runner finish the message it is sending (within
`shutdown_grace_s`) and leaves the rest pending for the next start; a second one stops at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
import uuid

from ingest.delivery.store import Store, describe_url
from ingest.errors import ConfigError, StoreError
from ingest.notify.config import Destination, NotifyConfig, load_notify_file
from ingest.notify.runner import Runner
from ingest.notify.secrets import Redactor
from ingest.service.filewatch import watch_file
from ingest.service.metrics import Metrics
from ingest.service.stopping import cancel_all
from ingest.settings import Settings

log = logging.getLogger("ingest.notify")
CANCEL_WITHIN_S = 2.0  # tasks told to stop end within this (see ingest/service/stopping.py)


class Notifier:
    def __init__(self, settings: Settings, redact: Redactor) -> None:
        self.settings = settings
        self.redact = redact
        self.consumer = settings.notify_consumer or socket.gethostname()
        self.owner = f"{self.consumer}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.metrics = Metrics()
        self.stopping = asyncio.Event()
        self.runners: dict[str, tuple[Runner, asyncio.Task[None]]] = {}
        self._retiring: set[asyncio.Task[None]] = set()  # runners of removed or changed entries
        self._signals = 0
        self._store: Store | None = None

    def load(self) -> NotifyConfig:
        return load_notify_file(self.settings.notify_file, self.redact)

    async def run_forever(self, config: NotifyConfig) -> None:
        """Deliver to the destinations of `config` (a good load) until a signal."""
        store = Store.from_settings(self.settings)
        self._store = store
        try:
            self._install_signals()
            await store.wait_until_answering(self.stopping)
            if self.stopping.is_set():
                return
            if self.settings.notify_lock_ttl_s <= self.settings.notify_send_timeout_s:
                log.warning("WIREWATCH_NOTIFY_LOCK_TTL_S (%g) is not above "
                            "WIREWATCH_NOTIFY_SEND_TIMEOUT_S (%g): a slow send may be doubled",
                            self.settings.notify_lock_ttl_s,
                            self.settings.notify_send_timeout_s)  # fmt: skip
            if self.settings.notify_metrics_port:
                self.metrics.serve(self.settings.notify_metrics_port)
            await self._apply(config.destinations)
            log.info("wirewatch notify %s running: %d destinations, Redis %s", self.owner,
                     len(self.runners), describe_url(self.settings.redis_url))  # fmt: skip
            watcher = asyncio.create_task(
                watch_file(self.settings.notify_file, self.reload, self.stopping,
                           self.settings.rules_reload_debounce_ms)
            )  # fmt: skip
            beat = asyncio.create_task(self._heartbeat())
            await self.stopping.wait()
            await cancel_all([watcher, beat], CANCEL_WITHIN_S)
            await self._drain()
        finally:
            await store.close()

    async def reload(self) -> None:
        """Re-read notify.yaml; a broken edit is reported and the running version kept."""
        config = await asyncio.to_thread(self.load)
        for error in config.errors:
            log.error("%s", error)
        if config.errors:
            log.error("%s: keeping the last good version (%d destinations)",
                      self.settings.notify_file, len(self.runners))  # fmt: skip
            return
        await self._apply(config.destinations)
        log.info("%s: %d destinations", self.settings.notify_file, len(self.runners))

    async def _apply(self, destinations: tuple[Destination, ...]) -> None:
        """Start runners for new or changed destinations; stop those removed or changed."""
        wanted = {d.id: d for d in destinations}
        for ident, (runner, _task) in list(self.runners.items()):
            if wanted.get(ident) != runner.dest:
                runner.stop.set()  # it finishes its current send and exits on its own
                self._retiring.add(_task)
                _task.add_done_callback(self._retiring.discard)
                del self.runners[ident]
        assert self._store is not None
        for ident, destination in wanted.items():
            if ident not in self.runners:
                runner = Runner(destination, self._store, self.settings, self.metrics,
                                self.redact, self.consumer, self.owner)  # fmt: skip
                with contextlib.suppress(StoreError):  # else the runner retries by itself
                    await runner.prepare()
                self.runners[ident] = (runner, asyncio.create_task(runner.run()))

    async def _heartbeat(self) -> None:
        while True:
            self.metrics.heartbeat()
            await asyncio.sleep(1.0)

    def _install_signals(self) -> None:
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, self._on_signal, signum)

    def _on_signal(self, signum: int) -> None:
        self._signals += 1
        if self._signals == 1:
            log.info("%s: finishing messages being sent (up to %.0f s); again to stop now",
                     signal.Signals(signum).name, self.settings.shutdown_grace_s)  # fmt: skip
            for runner, _task in self.runners.values():
                runner.stop.set()
            self.stopping.set()
        else:
            log.warning("second signal: stopping now")
            for _runner, task in self.runners.values():
                task.cancel()

    async def _drain(self) -> None:
        tasks = [task for _runner, task in self.runners.values()] + list(self._retiring)
        for runner, _task in self.runners.values():
            runner.stop.set()
        if not tasks:
            return
        _done, pending = await asyncio.wait(tasks, timeout=self.settings.shutdown_grace_s)
        # Cancelled until they end, within a bound: one cancel is lost when it lands in a
        # Redis call's write (see ingest/service/stopping.py), and the drain then never ended.
        left = await cancel_all(pending, CANCEL_WITHIN_S)
        if left:
            log.warning("still running after the grace period: %s", ", ".join(sorted(left)))


def first_load(settings: Settings, redact: Redactor) -> NotifyConfig:
    """notify.yaml at start: without a good version there is nothing to keep running."""
    if not settings.notify_file.is_file():
        raise ConfigError(
            f"{settings.notify_file}: not found; copy notify.example.yaml there (or set "
            "WIREWATCH_NOTIFY_FILE) and list your destinations"
        )
    config = load_notify_file(settings.notify_file, redact)
    if config.errors:
        raise ConfigError("\n".join(config.errors))
    return config
