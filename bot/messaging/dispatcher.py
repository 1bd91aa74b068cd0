"""The dispatcher drains the outbox: claims due notifications, renders each in its
recipient's language, sends it on the right channel under that channel's limits, and
records what happened (sent, later, elsewhere, or given up).

Delivery is at least once: a batch is claimed ('sending') in one transaction and its
outcomes are written before the next batch's first send, so a crash in between sends that
batch again, and nothing else. The next batch is claimed, rendered and prepared while this
one sends (its statements need not hold the sends up), but none of it goes out before this
one's outcomes are written. On PostgreSQL every running dispatcher holds a shared advisory
lock, so one that starts alone knows the 'sending' rows are a dead worker's and sends them
again at once. A chat that may not receive yet never holds up the
others: its rows go back to the queue for the moment its limit allows."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    func,
    insert,
    or_,
    select,
    text,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.i18n import Translator
from bot.messaging import outbox
from bot.messaging.channel import (
    Address,
    Channel,
    Moved,
    Notice,
    Outcome,
    Preparing,
    Rejected,
    RetryLater,
    Sent,
    Transient,
    Unreachable,
)
from bot.messaging.delivery import (
    Job,
    Recipient,
    Route,
    describe,
    follow_migration,
    link_group_copies,
    load_recipients,
    posted_row,
)
from bot.messaging.message import Message
from bot.messaging.ratelimit import RateLimiter, Ticket
from bot.runtime import Renfort
from bot.services import person_store
from storage import schema

log = logging.getLogger(__name__)
OUTBOX, P = schema.outbox, schema.people

MAX_ATTEMPTS = 5
BACKOFF_SECONDS = (5, 30, 120, 600)  # after the first, second… failed attempt
# A claimed row whose outcome is not written by then belongs to a worker that died.
LEASE = timedelta(minutes=2)
LEASE_SWEEP_SECONDS = 30.0
# On PostgreSQL a dead worker's rows are found by its missing presence session: soon.
DEAD_WORKER_SWEEP_SECONDS = 5.0
# PostgreSQL advisory lock key ("Renfort" in ASCII): held shared by each running dispatcher
# on a connection of its own, released by the server the moment that process dies.
PRESENCE_LOCK = 0x52656E666F7274
IDLE_WAIT_SECONDS = 1.0
# drain() waits for rate-limited rows at most this long (a group's window is a minute).
DRAIN_MAX_WAIT_SECONDS = 75.0
READY_IDS_PER_CLAIM = 500
# A batch claimed ahead that waited longer than this (the sends before it stalled) goes back
# to the queue instead of out: its lease must not run out while it is being sent.
AHEAD_MAX_AGE_SECONDS = LEASE.total_seconds() / 4

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True)
class Deferred:
    """Not sent: the chat may not receive for `seconds` yet."""

    seconds: float


Result = tuple[Job, Route | None, Outcome | Deferred]
# Outcome labels in the metrics (retry_later is the provider's 429).
OUTCOME_NAMES: dict[type, str] = {
    Sent: "sent",
    Deferred: "deferred",
    RetryLater: "retry_later",
    Moved: "moved",
    Unreachable: "unreachable",
    Transient: "transient",
    Rejected: "rejected",
}
Unsent = Deferred | RetryLater | Moved | Unreachable | Transient | Rejected


Planned = tuple[Job, Route, Channel, Message, Notice]


@dataclass(frozen=True)
class _Claimed:
    """A claimed batch ready to go: each job routed, rendered and prepared, or its outcome
    already known (nowhere to send it, cannot be rendered)."""

    jobs: list[Job]
    planned: list[Planned]
    known: list[Result]
    claimed_at: float  # on the dispatcher's clock


@dataclass
class _Batch:
    """Outcomes of one claimed batch not yet written, and the sends still under way."""

    clock: Clock
    done: list[Result] = field(default_factory=list)
    in_flight: list[tuple[Job, Route, asyncio.Task[Outcome | Deferred]]] = field(
        default_factory=list
    )
    sent: int = 0
    # Chats whose message went back to the queue, and until when (on `clock`).
    held: dict[Route, float] = field(default_factory=dict)

    def take_done(self) -> list[Result]:
        """The outcomes known now (finished sends included), each handed out once."""
        finished = [(j, r, t) for j, r, t in self.in_flight if t.done()]
        self.in_flight = [(j, r, t) for j, r, t in self.in_flight if not t.done()]
        taken = self.done + [(job, route, task.result()) for job, route, task in finished]
        self.done = []
        now = self.clock()
        for _job, route, outcome in taken:
            if route is None or isinstance(outcome, Sent | Transient | Rejected):
                continue
            wait = outcome.seconds if isinstance(outcome, Deferred | RetryLater) else 0.0
            self.held[route] = max(self.held.get(route, now), now + wait)
        return taken


class Dispatcher:
    """Sends due notifications through the registered channels ("telegram", "sms")."""

    def __init__(
        self,
        renfort: Renfort,
        channels: Mapping[str, Channel],
        *,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.renfort = renfort
        self.channels = channels
        self._clock = clock
        self._sleep = sleep
        self._lock = asyncio.Lock()  # run() and drain() never work on two batches at once
        # The last batch's outcomes, written by the transaction that claims the next batch:
        # one write transaction per batch, not two.
        self._unrecorded: list[Result] = []
        self._last_claim_full = False
        self._stopping = False
        # Rows this process put back because of a rate limit, and when they may go (on
        # `clock`): claimable then even if the service clock is a test's frozen one.
        self._deferred: dict[int, float] = {}
        self._presence: AsyncConnection | None = None
        self._presence_pid: int | None = None  # that session's server process id
        # The next batch, claimed while the current one sends, and the chats whose message
        # in the current one went back to the queue after that claim (see _send_all).
        self._ahead: asyncio.Task[_Claimed] | None = None
        self._held: dict[Route, float] = {}

    # ---- loops ---------------------------------------------------------------------------

    async def run(self) -> None:
        """Send due notifications until stopped."""
        try:
            await self._run()
        finally:
            with contextlib.suppress(Exception):
                await self._recorded()
            with contextlib.suppress(Exception):
                await self._give_back_ahead()
            if self._presence is not None:
                await _close_for_real(self._presence)
                self._presence = None

    async def _run(self) -> None:
        recovered = False
        swept = self._clock()
        while not self._stopping:
            self.renfort.outbox_ready.clear()
            try:
                if not recovered:
                    await self._start_up()
                    recovered = True
                while (await self._batch())[0] and not self._stopping:
                    pass
                every = LEASE_SWEEP_SECONDS if self._presence is None else DEAD_WORKER_SWEEP_SECONDS
                if self._clock() - swept >= every:
                    await self._recover(everything=False)
                    swept = self._clock()
                timeout = await self._idle_timeout()
            except Exception:
                log.exception("the dispatcher failed a round; trying again shortly")
                self.renfort.metrics.count(
                    "outbox_loop_errors_total", help_text="Dispatcher errors"
                )
                timeout = IDLE_WAIT_SECONDS
            if self._stopping:
                break
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.renfort.outbox_ready.wait(), timeout)

    async def drain(self) -> int:
        """Send everything due now, rate-limited rows included (bounded); returns the count."""
        sent = 0
        deadline = self._clock() + DRAIN_MAX_WAIT_SECONDS
        while self._clock() < deadline:
            claimed, done = await self._batch()
            sent += done
            if claimed:
                continue
            wake = min(self._deferred.values(), default=None)
            if wake is None or wake > deadline:
                break
            await self._sleep(max(0.0, wake - self._clock()))
        async with self._lock:
            await self._recorded()
            await self._give_back_ahead()
        return sent

    def stop(self) -> None:
        """Ask `run` to return."""
        self._stopping = True
        self.renfort.outbox_ready.set()

    async def _idle_timeout(self) -> float:
        """Until the next row may be due, at most a second (new rows also wake us)."""
        timeout = IDLE_WAIT_SECONDS
        wake = min(self._deferred.values(), default=None)
        if wake is not None:
            timeout = min(timeout, wake - self._clock())
        async with self.renfort.db.reading("outbox_next_due") as conn:
            due = await conn.scalar(
                select(func.min(OUTBOX.c.not_before)).where(OUTBOX.c.status == "pending")
            )
        if due is not None:
            timeout = min(timeout, (due - self.renfort.now()).total_seconds())
        return max(0.01, timeout)

    # ---- one batch -----------------------------------------------------------------------

    async def _batch(self) -> tuple[int, int]:
        """Send one batch while the next is claimed; returns (rows claimed, rows sent)."""
        async with self._lock:
            batch, held = None, self._held
            if self._ahead is not None:
                # The batch before is written first: a crash must never find two batches
                # sent and not recorded.
                await self._recorded()
                batch = await self._take_ahead()
            if batch is None:  # nothing claimed ahead, or nothing was due back then
                batch, held = await self._claim_batch(record=True), {}
            if not batch.jobs:
                return 0, 0
            self._ahead = asyncio.create_task(
                self._claim_batch(record=False), name="outbox-claim-ahead"
            )
            sent = await self._send_all(batch, held)
        return len(batch.jobs), sent

    async def _take_ahead(self) -> _Claimed | None:
        """The batch claimed ahead, if it has rows and is fresh (else back to the queue)."""
        ahead, self._ahead = self._ahead, None
        if ahead is None:
            return None
        batch = await ahead
        if not batch.jobs:
            return None
        age = self._clock() - batch.claimed_at
        if age > AHEAD_MAX_AGE_SECONDS:
            log.warning("a batch claimed %.0f s ago goes back to the queue unsent", age)
            await self._give_back(batch.jobs)
            return None
        return batch

    async def _give_back_ahead(self) -> None:
        """The batch claimed ahead goes back to the queue unsent (a drain's end, a stop)."""
        ahead, self._ahead = self._ahead, None
        if ahead is None:
            return
        await asyncio.wait([ahead])
        if ahead.cancelled() or ahead.exception() is not None:
            return  # its transaction rolled back: nothing was claimed
        if ahead.result().jobs:
            await self._give_back(ahead.result().jobs)

    async def _give_back(self, jobs: list[Job]) -> None:
        """Rows this dispatcher claimed and did not send go back to the queue, due now."""
        async with self.renfort.db.transaction("give_back_outbox") as conn:
            await outbox.give_back(
                conn,
                [job.id for job in jobs],
                now=self.renfort.now(),
                claimed_by=self._presence_pid,
            )

    async def _claim_batch(self, *, record: bool) -> _Claimed:
        """Claim the next batch (writing the last one's outcomes with it if `record`), then
        route, render and prepare it."""
        jobs = await self._claim(record=record)
        claimed_at = self._clock()
        known: list[Result] = []
        planned: list[Planned] = []
        for job in jobs:
            route = self.route(job.recipient, job.payload.get("channels"))
            if route is None:
                known.append((job, None, Unreachable("unreachable")))
                continue
            channel = self.channels[route.channel]
            t = self._translator(job.recipient)
            try:
                message = channel.render(job.kind, job.payload, t)
            except Exception as error:
                log.exception("outbox %s (%s) cannot be rendered", job.id, job.kind)
                known.append((job, route, Rejected(f"cannot render: {error!r}")))
                continue
            planned.append((job, route, channel, message, Notice(job.kind, t.locale)))
        return _Claimed(jobs, await self._prepare(planned), known, claimed_at)

    async def _claim(self, *, record: bool) -> list[Job]:
        """Claim the next batch, in one transaction with the last batch's outcomes if
        `record` (never while a batch is being sent: those are written before the next)."""
        outcomes = self._unrecorded if record else []
        # A wake-up with nothing to record or send costs no write transaction; after a full
        # batch there is most likely more, so the look is skipped.
        if not outcomes and not self._last_claim_full and not await self._anything_due():
            return []
        people: dict[int, Recipient] = {}
        async with self.renfort.db.transaction("claim_outbox") as conn:
            if outcomes:
                await self._write_outcomes(conn, outcomes)
            now = self.renfort.now()
            ready = self._ready()
            rows = (await conn.execute(self._claim_query(now, ready))).all()
            if rows:
                await outbox.mark_sending(
                    conn,
                    [r.id for r in rows],
                    lease_until=now + LEASE,
                    claimed_by=self._presence_pid,
                )
                people = await load_recipients(conn, {r.person_id for r in rows} - {None})
        self._unrecorded = self._unrecorded[len(outcomes) :]
        self._count_outcomes(outcomes)
        claimed = {r.id for r in rows}
        full = len(rows) == self.renfort.settings.outbox_batch_size
        self._last_claim_full = full
        for row_id in ready:
            # A ready row we did not get was sent by another worker or cancelled.
            if row_id in claimed or not full:
                self._deferred.pop(row_id, None)
        return [
            Job(
                r.id,
                r.kind,
                dict(r.payload or {}),
                r.attempts,
                people.get(r.person_id, Recipient(r.person_id, None))
                if r.person_id is not None
                else Recipient(None, r.chat_id),
            )
            for r in rows
        ]

    def _ready(self) -> list[int]:
        """Rows this process put back for a rate limit whose moment has come."""
        ready = sorted(i for i, at in self._deferred.items() if at <= self._clock())
        return ready[:READY_IDS_PER_CLAIM]

    def _due(self, now: datetime, ready: list[int]) -> ColumnElement[bool]:
        due = OUTBOX.c.not_before <= now
        return or_(due, OUTBOX.c.id.in_(ready)) if ready else due

    def _claim_query(self, now: datetime, ready: list[int]) -> Select[Any]:
        query = (
            select(
                OUTBOX.c.id,
                OUTBOX.c.kind,
                OUTBOX.c.payload,
                OUTBOX.c.attempts,
                OUTBOX.c.person_id,
                OUTBOX.c.chat_id,
            )
            .where(OUTBOX.c.status == "pending", self._due(now, ready))
            .order_by(OUTBOX.c.priority, OUTBOX.c.id)
            .limit(self.renfort.settings.outbox_batch_size)
        )
        if not self.renfort.db.is_sqlite:
            query = query.with_for_update(skip_locked=True)
        return query

    async def _anything_due(self) -> bool:
        condition = self._due(self.renfort.now(), self._ready())
        async with self.renfort.db.reading("outbox_due") as conn:
            found = await conn.scalar(
                select(OUTBOX.c.id).where(OUTBOX.c.status == "pending", condition).limit(1)
            )
        return found is not None

    async def _send_all(self, claimed: _Claimed, held: dict[Route, float]) -> int:
        """Send each job on its route (chats in parallel, one chat's messages in order) and
        keep the outcomes for the next write; returns how many were sent. `held`: chats
        whose message in the batch before went back to the queue after this batch was
        claimed."""
        batch = _Batch(self._clock, done=list(claimed.known))
        last_to: dict[Route, asyncio.Task[Outcome | Deferred]] = {}
        try:
            for job, route, channel, message, notice in claimed.planned:
                if route in held:
                    # That earlier message comes back when the chat may receive again; this
                    # one waits as long, so it cannot overtake it.
                    wait = max(
                        held[route] - self._clock(), channel.limiter.chat_delay(route.address)
                    )
                    batch.done.append((job, route, Deferred(max(0.0, wait))))
                    continue
                wait = await self._wait_turn(channel.limiter, route.address, batch)
                if wait <= 0:  # and then every worker's common budget, if shared
                    wait = await channel.limiter.admit(route.address)
                if wait > 0:
                    batch.done.append((job, route, Deferred(wait)))
                    continue
                ticket = channel.limiter.consume(route.address)
                task = asyncio.create_task(
                    self._send_one(route, message, notice, ticket, last_to.get(route)),
                    name=f"outbox-{job.id}",
                )
                last_to[route] = task
                batch.in_flight.append((job, route, task))
            await asyncio.gather(*(task for _job, _route, task in batch.in_flight))
            results = batch.take_done()
            batch.sent += _count_sent(results)
            self._unrecorded += results
        except BaseException:
            # Unrecorded rows stay 'sending' and go again after recovery; stop their sends.
            for _job, _route, task in batch.in_flight:
                task.cancel()
            raise
        finally:
            self._held = batch.held
        return batch.sent

    async def _prepare(self, planned: list[Planned]) -> list[Planned]:
        """Let each channel do its per-batch work at once (Telegram stores the batch's
        buttons in one transaction, not one per message); returns the messages to send."""
        ready = list(planned)
        for name, channel in self.channels.items():
            if not isinstance(channel, Preparing):
                continue
            mine = [i for i, (_job, route, *_rest) in enumerate(ready) if route.channel == name]
            if not mine:
                continue
            try:
                prepared = await channel.prepare([ready[i][3] for i in mine])
            except Exception:  # each send then does its own work, as without a batch
                log.exception("preparing a batch on %s failed", name)
                continue
            for i, message in zip(mine, prepared, strict=True):
                job, route, chosen, _message, notice = ready[i]
                ready[i] = (job, route, chosen, message, notice)
        return ready

    async def _wait_turn(self, limiter: RateLimiter, address: Address, batch: _Batch) -> float:
        """0 once a message may go to `address`, else how long that chat must wait."""
        # Only the overall rate is waited for here: every chat shares it, so skipping to
        # another chat would not help. The pause records what is done meanwhile, so that a
        # provider's id is in the database soon after the send (SMS delivery reports).
        while True:
            chat_wait = limiter.chat_delay(address)
            if chat_wait > 0:
                return chat_wait
            if limiter.overall_delay() <= 0:
                return 0.0
            await self._record(batch)
            await self._sleep(limiter.overall_delay())

    async def _send_one(
        self,
        route: Route,
        message: Message,
        notice: Notice,
        ticket: Ticket,
        previous: asyncio.Task[Outcome | Deferred] | None,
    ) -> Outcome | Deferred:
        channel = self.channels[route.channel]
        try:
            if previous is not None and not isinstance(await previous, Sent | Transient | Rejected):
                # The chat refused the message before this one: do not knock again now.
                return Deferred(channel.limiter.chat_delay(route.address))
            outcome = await channel.send(route.address, message, notice)
        except Exception as error:  # a bug or the database: retry like a network error
            log.exception("sending on %s failed unexpectedly", route.channel)
            outcome = Transient(f"{type(error).__name__}: {error}")
        finally:
            ticket.finish()
        if isinstance(outcome, RetryLater):
            await channel.limiter.block_everywhere(route.address, outcome.seconds)
        return outcome

    # ---- routing and language ------------------------------------------------------------

    def route(self, recipient: Recipient, allowed: Sequence[str] | None = None) -> Route | None:
        """Telegram when the person can get it there, else their phone (WhatsApp if that is
        where they write from, else SMS), else nobody; a person who chose their phone gets it
        there first. A notification may restrict the channels (a callout sent "by SMS only",
        which WhatsApp, the same phone, honours too)."""
        if allowed and "sms" in allowed:
            allowed = [*allowed, "whatsapp"]
        usable = set(self.channels) if not allowed else set(self.channels) & set(allowed)
        telegram = "telegram" in usable
        if recipient.group_chat_id is not None:
            return Route("telegram", recipient.group_chat_id) if telegram else None
        phone = None
        if recipient.sms_phone is not None:
            if "whatsapp" in usable and recipient.phone_channel == "whatsapp":
                phone = Route("whatsapp", recipient.sms_phone)
            elif "sms" in usable:
                phone = Route("sms", recipient.sms_phone)
        if phone is not None and recipient.preferred_channel in ("sms", "whatsapp"):
            return phone
        if telegram and recipient.telegram_chat_id is not None and recipient.telegram_reachable:
            return Route("telegram", recipient.telegram_chat_id)
        return phone

    def _translator(self, recipient: Recipient) -> Translator:
        if recipient.person_id is None:
            return self.renfort.translator(None)
        return self.renfort.translator(recipient.locale, recipient.telegram_language)

    # ---- outcomes ------------------------------------------------------------------------

    async def _recorded(self) -> None:
        """Write the outcomes not written yet, in one transaction."""
        outcomes = self._unrecorded
        if not outcomes:
            return
        async with self.renfort.db.transaction("record_outbox") as conn:
            await self._write_outcomes(conn, outcomes)
        self._unrecorded = self._unrecorded[len(outcomes) :]
        self._count_outcomes(outcomes)

    async def _record(self, batch: _Batch) -> None:
        """Write the outcomes known so far (this batch's and any before) in one transaction."""
        results = batch.take_done()
        batch.sent += _count_sent(results)
        self._unrecorded += results
        await self._recorded()

    def _count_outcomes(self, results: list[Result]) -> None:
        for _job, route, outcome in results:
            self.renfort.metrics.count(
                "messages_out_total",
                help_text="Send attempts by channel and outcome",
                channel=route.channel if route is not None else "none",
                outcome=OUTCOME_NAMES.get(type(outcome), type(outcome).__name__.lower()),
            )

    async def _write_outcomes(self, conn: AsyncConnection, results: list[Result]) -> None:
        sent = [
            (job, route, outcome)
            for job, route, outcome in results
            if isinstance(outcome, Sent) and route is not None
        ]
        if sent:
            await self._record_sent(conn, sent)
        for job, route, outcome in results:
            if not isinstance(outcome, Sent):
                await self._record_one(conn, job, route, outcome)

    async def _record_sent(
        self, conn: AsyncConnection, sent: list[tuple[Job, Route, Sent]]
    ) -> None:
        """The common case, in one statement for the whole batch."""
        await outbox.mark_sent(
            conn,
            [
                outbox.SentRow(job.id, o.via or route.channel, o.provider_id)
                for job, route, o in sent
            ],
            sent_at=self.renfort.now(),
        )
        posts = [posted_row(job, route, o) for job, route, o in sent]
        if any(posts):
            await conn.execute(insert(schema.posted_messages), [p for p in posts if p])
            await link_group_copies(conn, sent)
        for _job, route, o in sent:
            self.renfort.metrics.count(
                "outbox_sent_total", help_text="Notifications sent", channel=o.via or route.channel
            )

    async def _record_one(
        self, conn: AsyncConnection, job: Job, route: Route | None, outcome: Unsent
    ) -> None:
        now = self.renfort.now()
        metrics = self.renfort.metrics
        if isinstance(outcome, Deferred | RetryLater):
            assert route is not None  # only a message on its way can be told to wait
            await self._later(conn, job, outcome.seconds)
            if isinstance(outcome, RetryLater):
                log.info(
                    "%s asked to wait %.0f s before writing to %s again",
                    route.channel,
                    outcome.seconds,
                    describe(job, route),
                )
                metrics.count(
                    f"{route.channel}_retry_after_total", help_text="Flood-control answers"
                )
        elif isinstance(outcome, Moved):
            await follow_migration(conn, job, outcome.new_chat_id)
            await self._later(conn, job, 0.0)
        elif isinstance(outcome, Unreachable):
            await self._unreachable(conn, job, route, outcome)
        elif isinstance(outcome, Transient):
            attempts = job.attempts + 1
            if attempts >= MAX_ATTEMPTS:
                await self._fail(conn, job, route, f"gave up: {outcome.error}", attempts)
                return
            delay = BACKOFF_SECONDS[min(attempts, len(BACKOFF_SECONDS)) - 1]
            await outbox.retry_at(
                conn,
                job.id,
                attempts=attempts,
                error=outcome.error,
                not_before=now + timedelta(seconds=delay),
            )
            log.warning(
                "outbox %s (%s to %s) failed, attempt %d, retrying in %d s: %s",
                job.id,
                job.kind,
                describe(job, route),
                attempts,
                delay,
                outcome.error,
            )
            metrics.count("outbox_retry_total", help_text="Sends to try again after an error")
        else:
            await self._fail(conn, job, route, outcome.error, job.attempts + 1)

    async def _later(self, conn: AsyncConnection, job: Job, seconds: float) -> None:
        """Back to the queue for when the chat may receive again."""
        await outbox.due_again(
            conn, job.id, not_before=self.renfort.now() + timedelta(seconds=seconds)
        )
        self._deferred[job.id] = self._clock() + seconds

    async def _unreachable(
        self, conn: AsyncConnection, job: Job, route: Route | None, outcome: Unreachable
    ) -> None:
        recipient = job.recipient
        if route is not None and route.channel == "telegram" and recipient.person_id is not None:
            # Blocked the bot: no more Telegram for them until they write to us again.
            await person_store.telegram_unreachable(conn, recipient.person_id, self.renfort.now())
            log.info("person %s blocked the bot: %s", recipient.person_id, outcome.reason)
            fallback = replace(recipient, telegram_reachable=False)
            if self.route(fallback, job.payload.get("channels")) is not None:
                await self._later(conn, job, 0.0)
                return
        await self._fail(conn, job, route, "unreachable", job.attempts)

    async def _fail(
        self, conn: AsyncConnection, job: Job, route: Route | None, error: str, attempts: int
    ) -> None:
        await outbox.mark_failed(conn, job.id, attempts=attempts, error=error)
        log.warning(
            "outbox %s (%s to %s) failed: %s", job.id, job.kind, describe(job, route), error
        )
        self.renfort.metrics.count("outbox_failed_total", help_text="Notifications given up")

    # ---- crash recovery ------------------------------------------------------------------

    async def _start_up(self) -> None:
        """Put back what dead dispatchers were sending, then announce this one."""
        if self.renfort.db.is_sqlite:  # one worker by design: no one else can be sending
            await self._recover(everything=True)
            return
        # Without the presence lock a restarted worker could not tell a dead worker's rows
        # from a live one's, and a crash would delay its batch by the whole lease.
        presence = await self.renfort.db.engine.connect()
        try:
            alone = bool(await presence.scalar(select(func.pg_try_advisory_lock(PRESENCE_LOCK))))
            # Exclusive while recovering, so no worker starting meanwhile claims a row yet.
            await self._recover(everything=alone)
            await presence.execute(select(func.pg_advisory_lock_shared(PRESENCE_LOCK)))
            self._presence_pid = int(await presence.scalar(select(func.pg_backend_pid())) or 0)
            if alone:
                await presence.execute(select(func.pg_advisory_unlock(PRESENCE_LOCK)))
            await presence.commit()  # session locks outlive it; no transaction left open
        except BaseException:
            await _close_for_real(presence)
            raise
        self._presence = presence

    async def _recover(self, *, everything: bool) -> None:
        """Put rows a dead dispatcher was sending back in the queue: every 'sending' row
        when no other dispatcher runs, else only expired leases (others may be sending
        theirs right now)."""
        async with self.renfort.db.transaction("recover_outbox") as conn:
            requeued = await outbox.requeue_unfinished(
                conn,
                now=self.renfort.now(),
                expired_only=not everything,
                live_claimers=None if self._presence is None else _LIVE_DISPATCHERS,
            )
        if requeued:
            log.warning("%d notifications were left mid-send; sending them again", requeued)


# Server processes of the sessions holding the presence lock: the dispatchers alive now
# (a bigint advisory key shows as classid = high 32 bits, objid = low 32 bits).
_LIVE_DISPATCHERS = text(
    "SELECT pid FROM pg_locks WHERE locktype = 'advisory'"
    f" AND classid::bigint = {PRESENCE_LOCK >> 32}"
    f" AND objid::bigint = {PRESENCE_LOCK & 0xFFFFFFFF} AND objsubid = 1"
).columns(pid=Integer)


async def _close_for_real(conn: AsyncConnection) -> None:
    """Close a connection instead of returning it to the pool: session locks end only with
    the session, and a pooled one would keep announcing a dispatcher that has stopped."""
    await conn.invalidate()
    await conn.close()


def _count_sent(results: list[Result]) -> int:
    return sum(1 for _job, route, outcome in results if isinstance(outcome, Sent) and route)
