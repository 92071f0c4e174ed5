"""The case timeline: append-only events, each chained to the previous one by its SHA-256."""

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC
from itertools import groupby

from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import F, Window
from django.db.models.functions import RowNumber
from django.utils import timezone

from claims.bulk import any_of, insert_rows, objects_insert
from claims.models import Case, CaseEvent, event_hash

GENESIS_HASH = "0" * 64


def _json_safe(data):
    # Store exactly what the hash will be computed over when the row is read back.
    return json.loads(json.dumps(data or {}, cls=DjangoJSONEncoder))


def event_record(*, case: Case, actor, action: str, from_state="", to_state="", data=None) -> CaseEvent:
    """Append an event to the case's chain; call inside the transaction that locked the case row.

    Give ``from_state`` and ``to_state`` only for an event that changes the case's state: the
    verifier checks that those events, in order, lead to the state the case is in.
    """
    last_seq, last_hash = CaseEvent.objects.filter(case_id=case.pk).order_by("-seq").values_list(
        "seq", "hash"
    ).first() or (0, GENESIS_HASH)
    event = CaseEvent(
        case=case,
        seq=last_seq + 1,
        actor=actor,
        action=action,
        from_state=from_state,
        to_state=to_state,
        data=_json_safe(data),
        created_at=timezone.now(),
        prev_hash=last_hash,
    )
    event.hash = event.compute_hash()
    event.save()
    return event


def events_record_new_cases(*, cases: list[Case], entries: list[list[dict]]) -> list[list[CaseEvent]]:
    """Write the first events of cases filed in this transaction, each chain from the genesis hash.

    ``entries[i]`` are the events of ``cases[i]`` in the order they happened, each given as
    ``event_record``'s keyword arguments (``actor``, ``action``, ``from_state``, ``to_state``,
    ``data``). Nobody else can see the new cases yet, so there is no head to read and no lock
    to take: the chains are built in memory and written in one insert.
    """
    created_at = timezone.now()
    chains = []
    for case, case_entries in zip(cases, entries, strict=True):
        prev_hash = GENESIS_HASH
        chain = []
        for seq, entry in enumerate(case_entries, start=1):
            event = CaseEvent(
                case=case,
                seq=seq,
                actor=entry.get("actor"),
                action=entry["action"],
                from_state=entry.get("from_state", ""),
                to_state=entry.get("to_state", ""),
                data=_json_safe(entry.get("data")),
                created_at=created_at,
                prev_hash=prev_hash,
            )
            event.hash = event.compute_hash()
            prev_hash = event.hash
            chain.append(event)
        chains.append(chain)
    objects_insert([event for chain in chains for event in chain])
    return chains


@dataclass(frozen=True)
class ChainProblem:
    case_reference: str
    seq: int | None
    problem: str

    def __str__(self):
        if self.seq is None:
            return f"{self.case_reference}: {self.problem}"
        return f"{self.case_reference} event #{self.seq}: {self.problem}"


def chain_problems(*, reference: str, state: str, events: Iterable[CaseEvent]) -> list[ChainProblem]:
    """Return every break in one case's events, given in ``seq`` order.

    Checks that the sequence has no gaps, that each event links to the hash of the one
    before, that each event's content still matches its own hash, that each state change
    starts where the previous one ended, and that the last one ends in the case's state
    (which catches a trailing event deleted, and a state written behind the timeline's back).
    """
    problems = []
    expected_prev = GENESIS_HASH
    expected_seq = 1
    current_state = None
    for event in events:
        if event.seq != expected_seq:
            problems.append(ChainProblem(reference, event.seq, f"expected event #{expected_seq}"))
        if event.prev_hash != expected_prev:
            problems.append(ChainProblem(reference, event.seq, "does not link to the previous event"))
        if event.compute_hash() != event.hash:
            problems.append(ChainProblem(reference, event.seq, "content does not match its hash"))
        if event.to_state:
            if current_state is not None and event.from_state != current_state:
                problems.append(
                    ChainProblem(
                        reference,
                        event.seq,
                        f"starts from “{event.from_state}” but the case was “{current_state}”",
                    )
                )
            current_state = event.to_state
        expected_prev = event.hash
        expected_seq = event.seq + 1
    if expected_seq == 1:
        problems.append(ChainProblem(reference, None, "has no events"))
    elif current_state != state:
        problems.append(
            ChainProblem(reference, None, f"the case is “{state}” but its timeline ends in “{current_state}”")
        )
    return problems


def timeline_verify(*, case: Case) -> list[ChainProblem]:
    """Return every break in the case's hash chain (empty when the timeline is intact)."""
    current = Case.objects.values_list("reference", "state").get(pk=case.pk)
    return chain_problems(reference=current[0], state=current[1], events=case.events.order_by("seq"))


def timelines_verify(*, cases, batch_size: int = 500) -> Iterator[tuple[str, list[ChainProblem]]]:
    """Yield ``(reference, problems)`` for every case of the queryset, reading in batches.

    Each batch reads its events together with their case's state in one statement, so a
    transition committed while the check runs cannot make an intact case look broken.
    """
    last_pk = 0
    while True:
        batch = list(cases.filter(pk__gt=last_pk).order_by("pk").values_list("pk", flat=True)[:batch_size])
        if not batch:
            return
        last_pk = batch[-1]
        events = (
            CaseEvent.objects.filter(case_id__in=batch)
            .select_related("case")
            .only(*_EVENT_FIELDS, "case__reference", "case__state")
            .order_by("case_id", "seq")
        )
        seen = set()
        for case_id, case_events in groupby(events.iterator(chunk_size=2000), key=lambda e: e.case_id):
            case_events = list(case_events)
            seen.add(case_id)
            case = case_events[0].case
            yield (
                case.reference,
                chain_problems(reference=case.reference, state=case.state, events=case_events),
            )
        without_events = Case.objects.filter(pk__in=[pk for pk in batch if pk not in seen])
        for reference, state in without_events.order_by("pk").values_list("reference", "state"):
            yield reference, chain_problems(reference=reference, state=state, events=[])


_EVENT_FIELDS = (
    "case",
    "seq",
    "actor",
    "action",
    "from_state",
    "to_state",
    "data",
    "created_at",
    "prev_hash",
    "hash",
)


@dataclass(frozen=True)
class RecordedEvent:
    """What the caller of ``events_record_bulk`` needs of each event it wrote."""

    pk: int
    case_id: int
    action: str


def events_record_bulk(*, entries: list[tuple[int, str, dict]], now) -> list[RecordedEvent]:
    """Append system events (no actor, no state change) to many cases in one insert.

    ``entries`` are ``(case_id, action, data)`` in the order they happened; ``data`` must be
    JSON-ready already (strings for datetimes), as it is hashed as given. Call inside the
    transaction that locked all those cases, as ``event_record`` requires for one.
    """
    if not entries:
        return []
    case_ids = {case_id for case_id, _action, _data in entries}
    heads = {
        case_id: (seq, digest)
        for case_id, seq, digest in CaseEvent.objects.filter(case_id__in=any_of(case_ids))
        .annotate(rank=Window(RowNumber(), partition_by=[F("case_id")], order_by=F("seq").desc()))
        .filter(rank=1)
        .values_list("case_id", "seq", "hash")
    }
    created_at = now.astimezone(UTC)  # hashed as text: store and hash the same zone
    rows = []
    for case_id, action, data in entries:
        seq, prev_hash = heads.get(case_id, (0, GENESIS_HASH))
        digest = event_hash(
            case_id=case_id,
            seq=seq + 1,
            actor_id=None,
            action=action,
            from_state="",
            to_state="",
            data=data,
            created_at=created_at,
            prev_hash=prev_hash,
        )
        heads[case_id] = (seq + 1, digest)
        rows.append((case_id, seq + 1, None, action, "", "", data, created_at, prev_hash, digest))
    ids = insert_rows(CaseEvent, list(_EVENT_FIELDS), rows, with_ids=True)
    return [RecordedEvent(pk, row[0], row[3]) for pk, row in zip(ids, rows, strict=True)]
