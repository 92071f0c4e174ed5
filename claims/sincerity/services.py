"""Writes of sincerity: a response's similarity, an insincerity challenge, the association's verdict.

``response_fingerprint_record`` and ``response_challenge`` run inside the respond and dispute
transitions (``claims.services.transitions``), with the case row locked; ``response_adjudicate``
is a service of its own that locks the case the same way.

The similarity is computed in the respond transaction rather than by a task after commit: it
costs one indexed query and a few milliseconds of hashing, and doing it in the same
transaction means a response is never seen, notified or sent by webhook without its flag,
and the flag never changes after the fact.
"""

from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _

from claims.models import (
    ADJUDICATED,
    ASSOCIATION_ROLES,
    INSINCERITY_REASONS,
    Case,
    Response,
    ResponseItem,
    Sincerity,
)
from claims.sincerity.models import ResponseBand
from claims.sincerity.similarity import band_keys, jaccard, minhash, response_text, shingles
from claims.sla.models import Clock, ClockKind, ClockStatus
from members.errors import ApplicationError
from notifications.services import notify_on_commit

# The clocks a substantive response meets and a verdict of insincerity un-counts.
RESPONSE_CLOCKS = (ClockKind.RESPONSE, ClockKind.RE_RESPONSE)
# How many candidates (those sharing the most band keys) get an exact comparison.
CANDIDATE_LIMIT = 50
NOTE_MAX_LENGTH = 20000
ADJUDICATED_ACTION = "response_adjudicated"


@dataclass(frozen=True)
class SimilarityMatch:
    similarity: float | None
    similar_to_id: int | None
    keys: list[int]


def templated_threshold() -> float:
    return float(settings.SINCERITY_TEMPLATED_THRESHOLD)


def _texts_of(response_ids) -> dict[int, str]:
    """Return the normalised text of each response, read in two queries."""
    summaries = dict(Response.objects.filter(pk__in=response_ids).values_list("pk", "summary"))
    items: dict[int, list[tuple[str, str]]] = {pk: [] for pk in summaries}
    rows = (
        ResponseItem.objects.filter(response_id__in=response_ids)
        .order_by("response_id", "output__position")
        .values_list("response_id", "rationale", "measures")
    )
    for response_id, rationale, measures in rows:
        items[response_id].append((rationale, measures))
    return {pk: response_text(summary, items[pk]) for pk, summary in summaries.items()}


def similarity_find(
    *, provider_id: int, case_id: int, text: str, before_id: int | None = None
) -> SimilarityMatch:
    """Find the provider's earlier response to another case that reads most like ``text``.

    One indexed query on the band keys finds the candidates, ranked by how many bands they
    share; the best ``CANDIDATE_LIMIT`` are compared exactly. ``before_id`` limits the search
    to responses written before that one (for recomputing an existing response).
    """
    shingle_set = shingles(text)
    keys = band_keys(minhash(shingle_set))
    candidates = ResponseBand.objects.filter(provider_id=provider_id, key__in=keys).exclude(case_id=case_id)
    if before_id is not None:
        candidates = candidates.filter(response_id__lt=before_id)
    candidate_ids = list(
        candidates.values("response_id")
        .annotate(shared=Count("id"))
        .order_by("-shared", "response_id")
        .values_list("response_id", flat=True)[:CANDIDATE_LIMIT]
    )
    if not candidate_ids:
        return SimilarityMatch(None, None, keys)
    scored = [(jaccard(shingle_set, shingles(other)), pk) for pk, other in _texts_of(candidate_ids).items()]
    # The most similar; between equals the earliest, which is the template the others copy.
    similarity, similar_to_id = max(scored, key=lambda pair: (pair[0], -pair[1]))
    return SimilarityMatch(round(similarity, 4), similar_to_id, keys)


def response_fingerprint_record(*, response: Response, case: Case, items: list[tuple[str, str]]) -> Response:
    """Score a new response against the provider's earlier ones and index it for later ones.

    Also remembers which response clock the response meets (the live response or
    re-response clock), so that a verdict of insincerity finds it. Call inside the respond
    transition, before the clocks are updated; ``items`` are (rationale, measures) per output.
    """
    match = similarity_find(
        provider_id=case.respondent_id, case_id=case.pk, text=response_text(response.summary, items)
    )
    response.similarity = match.similarity
    response.similar_to_id = match.similar_to_id
    response.templated = match.similarity is not None and match.similarity >= templated_threshold()
    response.met_clock_id = (
        Clock.objects.filter(
            case_id=case.pk, kind__in=RESPONSE_CLOCKS, status__in=[ClockStatus.RUNNING, ClockStatus.PAUSED]
        )
        .values_list("pk", flat=True)
        .first()
    )
    response.save(update_fields=["similarity", "similar_to", "templated", "met_clock"])
    ResponseBand.objects.bulk_create(
        ResponseBand(provider_id=case.respondent_id, case_id=case.pk, response=response, key=key)
        for key in sorted(set(match.keys))
    )
    return response


def responses_unindexed() -> list[int]:
    """Return the ids of the responses with no band keys (written before sincerity existed), oldest first."""
    indexed = ResponseBand.objects.filter(response=OuterRef("pk"))
    return list(Response.objects.filter(~Exists(indexed)).order_by("pk").values_list("pk", flat=True))


def responses_fingerprint_backfill(*, response_ids: list[int]) -> int:
    """Score and index these responses as the respond transition would have; return how many.

    Each is compared only with the provider's responses written before it, so the flags are
    those it would have had when written, whatever was answered since; run them oldest first,
    so that each finds the earlier ones indexed. One transaction: all of them or none. Which
    clock a response met is not reconstructed (a verdict of insincerity then changes no clock).
    """
    texts = _texts_of(response_ids)
    with transaction.atomic():
        responses = Response.objects.filter(pk__in=response_ids).select_related("case").order_by("pk")
        for response in responses:
            match = similarity_find(
                provider_id=response.case.respondent_id,
                case_id=response.case_id,
                text=texts[response.pk],
                before_id=response.pk,
            )
            response.similarity = match.similarity
            response.similar_to_id = match.similar_to_id
            response.templated = match.similarity is not None and match.similarity >= templated_threshold()
            response.save(update_fields=["similarity", "similar_to", "templated"])
            ResponseBand.objects.bulk_create(
                ResponseBand(
                    provider_id=response.case.respondent_id,
                    case_id=response.case_id,
                    response=response,
                    key=key,
                )
                for key in sorted(set(match.keys))
            )
    return len(texts)


def response_challenge(*, case: Case, reasons, note: str) -> Response | None:
    """Record on the case's latest response that the claimant disputes it; return that response.

    Every dispute is recorded (when, which reasons, the explanation); one naming any
    insincerity reason (not only ``disagree``) also marks the response ``challenged``, for the
    association to adjudicate. Call inside the dispute transition, with the case locked.
    """
    response = case.responses.select_for_update().order_by("-created_at", "-id").first()
    if response is None:
        return None
    response.dispute_reasons = sorted(set(reasons))
    response.dispute_note = note
    response.disputed_at = timezone.now()
    if set(reasons) & set(INSINCERITY_REASONS) and response.sincerity == Sincerity.UNREVIEWED:
        response.sincerity = Sincerity.CHALLENGED
    response.save(update_fields=["sincerity", "dispute_reasons", "dispute_note", "disputed_at"])
    return response


def _clean_note(note) -> str:
    if note is None:
        return ""
    if not isinstance(note, str):
        raise ApplicationError(_("The note must be text."), fields={"note": [_("Enter text.")]})
    note = note.replace("\x00", "").strip()
    if len(note) > NOTE_MAX_LENGTH:
        raise ApplicationError(
            _("The note is too long."),
            fields={"note": [_("At most %(n)d characters.") % {"n": NOTE_MAX_LENGTH}]},
        )
    return note


def response_adjudicate(*, response: Response | int, actor, verdict: str, note: str = "") -> Response:
    """Record the association's verdict on a challenged response, in one transaction.

    A response judged insincere does not count as met: the response clock it met is marked
    ``judged_insincere``. The verdict is an event on the case's timeline. The case's state
    does not change: the dispute already asked the provider to respond again, and the
    association escalates separately when it takes the case over.

    Raises ApplicationError: 403 ``not_permitted`` for anyone but the association's staff,
    400 for a missing verdict or (for ``insincere``) a missing note, 400 ``not_challenged``
    for a response nobody challenged, 409 ``already_adjudicated`` for a second verdict.
    """
    if actor is None or actor.role not in ASSOCIATION_ROLES:
        raise ApplicationError(
            _("Only the association adjudicates responses."), code="not_permitted", status_code=403
        )
    if verdict not in ADJUDICATED:
        raise ApplicationError(
            _("Choose a verdict."), fields={"verdict": [_("Choose sincere or insincere.")]}
        )
    note = _clean_note(note)
    if verdict == Sincerity.INSINCERE and not note:
        raise ApplicationError(
            _("Say why the response is insincere."),
            fields={"note": [_("A verdict of insincerity needs a note.")]},
        )
    # Imported here: the transition service imports this module, and claims.services imports it.
    from claims.services.timeline import event_record

    response_id = response.pk if isinstance(response, Response) else response
    with transaction.atomic():
        # The case first, then the response: the order the transitions lock in.
        case_id = Response.objects.values_list("case_id", flat=True).get(pk=response_id)
        case = Case.objects.select_for_update().get(pk=case_id)
        locked = Response.objects.select_for_update().get(pk=response_id)
        if locked.sincerity in ADJUDICATED:
            raise ApplicationError(
                _("This response has already been adjudicated."),
                code="already_adjudicated",
                status_code=409,
            )
        if locked.sincerity != Sincerity.CHALLENGED:
            raise ApplicationError(
                _("Only a response the claimant challenged as insincere can be adjudicated."),
                code="not_challenged",
            )
        locked.sincerity = verdict
        locked.adjudicated_by = actor
        locked.adjudicated_at = timezone.now()
        locked.adjudication_note = note
        locked.save(update_fields=["sincerity", "adjudicated_by", "adjudicated_at", "adjudication_note"])
        if verdict == Sincerity.INSINCERE and locked.met_clock_id:
            Clock.objects.filter(pk=locked.met_clock_id, kind__in=RESPONSE_CLOCKS).update(
                judged_insincere=True
            )
        data = {"response": locked.pk, "verdict": verdict}
        if note:
            data["note"] = note
        event = event_record(case=case, actor=actor, action=ADJUDICATED_ACTION, data=data)
        notify_on_commit(event=event)
    return locked
