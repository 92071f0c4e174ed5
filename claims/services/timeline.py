import json
from dataclasses import dataclass

from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone

from claims.models import Case, CaseEvent

GENESIS_HASH = "0" * 64


def _json_safe(data):
    return json.loads(json.dumps(data or {}, cls=DjangoJSONEncoder))


def event_record(*, case: Case, actor, action: str, from_state="", to_state="", data=None) -> CaseEvent:
    """Append an event to the case's chain. Call with the case row locked (inside the transaction)."""
    last = case.events.order_by("-seq").only("seq", "hash").first()
    created = timezone.now()
    event = CaseEvent(
        case=case,
        seq=(last.seq + 1) if last else 1,
        actor=actor,
        action=action,
        from_state=from_state,
        to_state=to_state,
        data=_json_safe(data),
        created_at=created,
        prev_hash=last.hash if last else GENESIS_HASH,
    )
    event.hash = event.compute_hash()
    event.save()
    return event


@dataclass(frozen=True)
class ChainProblem:
    case_reference: str
    seq: int
    problem: str

    def __str__(self):
        return f"{self.case_reference} event #{self.seq}: {self.problem}"


def timeline_verify(*, case: Case) -> list[ChainProblem]:
    """Return every break in the case's hash chain (empty when the timeline is intact)."""
    problems = []
    expected_prev = GENESIS_HASH
    expected_seq = 1
    for event in case.events.order_by("seq").iterator():
        if event.seq != expected_seq:
            problems.append(ChainProblem(case.reference, event.seq, f"expected event #{expected_seq}"))
        if event.prev_hash != expected_prev:
            problems.append(ChainProblem(case.reference, event.seq, "does not link to the previous event"))
        if event.compute_hash() != event.hash:
            problems.append(ChainProblem(case.reference, event.seq, "content does not match its hash"))
        expected_prev = event.hash
        expected_seq = event.seq + 1
    return problems
