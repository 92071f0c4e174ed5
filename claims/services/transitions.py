"""The one door through which a case changes state."""

from collections.abc import Callable
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_fsm import can_proceed, has_transition_perm

from claims.models import (
    Case,
    CaseState,
    CloseOutcome,
    DisputeReason,
    Message,
    Outcome,
    Response,
    ResponseItem,
)
from claims.sincerity.services import response_challenge, response_fingerprint_record
from claims.sla.clocks import (
    clocks_apply_transition,
    clocks_build_for_new_case,
    clocks_schedule_on_commit,
)
from members.errors import ApplicationError, TransitionNotAllowed
from notifications.services import notify_many_on_commit, notify_on_commit

from .timeline import event_record


@dataclass(frozen=True)
class Action:
    name: str
    label: str
    method: str
    apply: Callable  # (case, actor, payload, from_state) -> event data; the state has already changed


def _text(payload, key, *, required, label, max_length=20000):
    value = payload.get(key) or ""
    if not isinstance(value, str):
        raise ApplicationError(
            _("%(label)s must be text.") % {"label": label}, fields={key: [_("Enter text.")]}
        )
    # PostgreSQL text cannot hold NUL; it never belongs in a message anyway.
    value = value.replace("\x00", "").strip()
    if required and not value:
        raise ApplicationError(
            _("%(label)s is required.") % {"label": label}, fields={key: [_("This field is required.")]}
        )
    if len(value) > max_length:
        raise ApplicationError(
            _("%(label)s is too long.") % {"label": label},
            fields={key: [_("At most %(n)d characters.") % {"n": max_length}]},
        )
    return value


def _post_message(case, actor, body):
    if body:
        Message.objects.create(case=case, author=actor, body=body)


def _check_submittable(case, *, has_outputs: bool) -> None:
    if not has_outputs and case.kind == "claim":
        raise ApplicationError(
            _("A claim needs at least one output before it is submitted."),
            fields={"outputs": [_("Add at least one output.")]},
        )


def _apply_submit(case, actor, payload, from_state):
    _check_submittable(case, has_outputs=case.outputs.exists())
    case.submitted_at = timezone.now()
    return {}


def _apply_acknowledge(case, actor, payload, from_state):
    note = _text(payload, "note", required=False, label=_("Note"))
    _post_message(case, actor, note)
    return {"note": note} if note else {}


def _apply_request_info(case, actor, payload, from_state):
    question = _text(payload, "question", required=True, label=_("Question"))
    # Answering returns the case to where it was: acknowledged (a question straight after filing
    # acknowledged it first) or disputed.
    case.resume_state = from_state
    _post_message(case, actor, question)
    return {"question": question}


def _apply_provide_info(case, actor, payload, from_state):
    answer = _text(payload, "answer", required=True, label=_("Answer"))
    case.resume_state = ""
    _post_message(case, actor, answer)
    return {"answer": answer}


def _apply_respond(case, actor, payload, from_state):
    summary = _text(payload, "summary", required=True, label=_("Summary"))
    contact_name = _text(payload, "contact_name", required=True, label=_("Contact name"), max_length=200)
    contact_email = _text(payload, "contact_email", required=True, label=_("Contact email"), max_length=254)
    try:
        validate_email(contact_email)
    except ValidationError:
        raise ApplicationError(
            _("Enter a valid contact email."), fields={"contact_email": [_("Enter a valid email address.")]}
        ) from None

    outputs = {o.pk: o for o in case.outputs.all()}
    items = payload.get("items") or []
    errors: dict[str, list[str]] = {}
    seen = set()
    rows = []
    if not isinstance(items, list | tuple):
        items = []
    for index, item in enumerate(items):
        prefix = f"items.{index}"
        if not isinstance(item, dict):
            errors[f"{prefix}.output"] = [_("Choose an output of this case.")]
            continue
        try:
            output_id = int(item.get("output"))
        except (TypeError, ValueError):
            output_id = None
        if output_id not in outputs:
            errors[f"{prefix}.output"] = [_("This output does not belong to the case.")]
            continue
        if output_id in seen:
            errors[f"{prefix}.output"] = [_("Each output may have only one outcome.")]
            continue
        seen.add(output_id)
        outcome = item.get("outcome")
        if outcome not in Outcome.values:
            errors[f"{prefix}.outcome"] = [_("Choose an outcome.")]
        rationale = _item_text(item, "rationale")
        if not rationale:
            errors[f"{prefix}.rationale"] = [_("Give the rationale for this outcome.")]
        rows.append((outputs[output_id], outcome, rationale, _item_text(item, "measures")))
    missing = [o for pk, o in outputs.items() if pk not in seen]
    if missing:
        errors["items"] = [
            _("A substantive response gives an outcome for every output; missing: %(list)s.")
            % {"list": ", ".join(f"#{o.position}" for o in sorted(missing, key=lambda o: o.position))}
        ]
    if errors:
        raise ApplicationError(_("The response is not complete."), code="response_incomplete", fields=errors)

    response = Response.objects.create(
        case=case, author=actor, summary=summary, contact_name=contact_name, contact_email=contact_email
    )
    ResponseItem.objects.bulk_create(
        ResponseItem(
            response=response, output=output, outcome=outcome, rationale=rationale, measures=measures
        )
        for output, outcome, rationale, measures in rows
    )
    # Sincerity: how closely it copies the provider's answers to other cases, and the clock it meets.
    response_fingerprint_record(
        response=response,
        case=case,
        items=[(r[2], r[3]) for r in sorted(rows, key=lambda row: row[0].position)],
    )
    return {
        "response": response.pk,
        "outcomes": {str(output.position): outcome for output, outcome, _r, _m in rows},
        "contact": contact_name,
    }


def _item_text(item, key):
    value = item.get(key) or ""
    return value.replace("\x00", "").strip() if isinstance(value, str) else ""


def _apply_accept(case, actor, payload, from_state):
    note = _text(payload, "note", required=False, label=_("Note"))
    _post_message(case, actor, note)
    case.closed_at = timezone.now()
    return {"note": note} if note else {}


def _apply_dispute(case, actor, payload, from_state):
    reasons = payload.get("reasons") or []
    if isinstance(reasons, str):
        reasons = [reasons]
    invalid = (
        [r for r in reasons if r not in DisputeReason.values] if isinstance(reasons, list | tuple) else []
    )
    if not isinstance(reasons, list | tuple) or not reasons or invalid:
        raise ApplicationError(
            _("Name at least one reason for the dispute."),
            fields={"reasons": [_("Choose one or more reasons.")]},
        )
    note = _text(payload, "note", required=True, label=_("Explanation"))
    case.dispute_count += 1
    _post_message(case, actor, note)
    # The latest response is the one disputed; insincerity reasons put it before the association.
    response_challenge(case=case, reasons=reasons, note=note)
    return {"reasons": sorted(set(reasons)), "note": note, "dispute_number": case.dispute_count}


def _apply_withdraw(case, actor, payload, from_state):
    reason = _text(payload, "reason", required=False, label=_("Reason"))
    case.closed_at = timezone.now()
    return {"reason": reason} if reason else {}


def _apply_escalate(case, actor, payload, from_state):
    reason = _text(payload, "reason", required=actor is not None, label=_("Reason"))
    return {"reason": reason}


def _apply_close(case, actor, payload, from_state):
    outcome = payload.get("outcome")
    if outcome not in CloseOutcome.values:
        raise ApplicationError(_("Choose the outcome."), fields={"outcome": [_("Choose the outcome.")]})
    note = _text(payload, "note", required=True, label=_("Closing note"))
    case.close_outcome = outcome
    case.close_note = note
    case.closed_at = timezone.now()
    return {"outcome": outcome, "note": note}


def _apply_accept_by_default(case, actor, payload, from_state):
    case.closed_at = timezone.now()
    return {"reason": payload.get("reason", "claimant review period ended")}


ACTIONS = {
    a.name: a
    for a in [
        Action("submit", gettext_lazy("Submit"), "submit", _apply_submit),
        Action("acknowledge", gettext_lazy("Acknowledge"), "acknowledge", _apply_acknowledge),
        Action("request_info", gettext_lazy("Request information"), "request_info", _apply_request_info),
        Action("provide_info", gettext_lazy("Provide information"), "provide_info", _apply_provide_info),
        Action("respond", gettext_lazy("Respond"), "respond", _apply_respond),
        Action("accept", gettext_lazy("Accept"), "accept", _apply_accept),
        Action("dispute", gettext_lazy("Dispute"), "dispute", _apply_dispute),
        Action("withdraw", gettext_lazy("Withdraw"), "withdraw", _apply_withdraw),
        Action("escalate", gettext_lazy("Escalate"), "escalate", _apply_escalate),
        Action("close", gettext_lazy("Close"), "close", _apply_close),
        Action(
            "accept_by_default",
            gettext_lazy("Accept by default"),
            "accept_by_default",
            _apply_accept_by_default,
        ),
    ]
}
USER_ACTIONS = [name for name in ACTIONS if name != "accept_by_default"]
SECOND_DISPUTE = 2
ACKNOWLEDGING_ACTIONS = ("respond", "request_info")
SECOND_DISPUTE_REASON = "second dispute"


def actions_available(*, case: Case, user) -> list[Action]:
    """Return the actions this user may take on the case now (for showing buttons)."""
    return [
        ACTIONS[name]
        for name in USER_ACTIONS
        if has_transition_perm(getattr(case, ACTIONS[name].method), user)
    ]


def _check_allowed(case: Case, action: Action, actor) -> None:
    """Raise TransitionNotAllowed unless the case's state and the actor both allow the action."""
    method = getattr(case, action.method)
    if not can_proceed(method):
        raise TransitionNotAllowed(
            _("“%(action)s” is not possible while the case is “%(state)s”.")
            % {"action": action.label, "state": case.get_state_display()},
            code="invalid_state",
        )
    if not has_transition_perm(method, actor):
        raise TransitionNotAllowed(
            _("Your organisation or role does not allow “%(action)s” on this case.")
            % {"action": action.label},
            code="not_permitted",
            status_code=403,
        )


def _apply(case: Case, action: Action, actor, payload) -> None:
    _check_allowed(case, action, actor)
    from_state = case.state
    getattr(case, action.method)()
    data = action.apply(case, actor, payload, from_state)
    case.save()
    # Clocks first: a breach that fell due before this step is recorded before it in the timeline.
    clocks_apply_transition(case=case, action=action.name, now=timezone.now())
    event = event_record(
        case=case, actor=actor, action=action.name, from_state=from_state, to_state=case.state, data=data
    )
    notify_on_commit(event=event)


@dataclass(frozen=True)
class FilingSubmission:
    """What submitting a case at filing changed in memory, for the filing service to write."""

    event: dict  # event_record's keyword arguments
    clocks: list  # unsaved clocks


def case_submit_while_filing(*, case: Case, actor, has_outputs: bool) -> FilingSubmission:
    """Submit a case that is being filed in the caller's transaction, before its row is written.

    The same checks and state change as ``case_transition(action="submit")``, applied to the
    unsaved case: nobody else can see it yet, so there is no row to lock. The filing service
    writes the case, its events and these clocks in a few inserts, then calls
    ``cases_submitted_while_filing`` with the written event.
    """
    action = ACTIONS["submit"]
    _check_allowed(case, action, actor)
    _check_submittable(case, has_outputs=has_outputs)
    from_state = case.state
    case.submit()
    now = timezone.now()
    case.submitted_at = now
    return FilingSubmission(
        event={"actor": actor, "action": action.name, "from_state": from_state, "to_state": case.state},
        clocks=clocks_build_for_new_case(case=case, action=action.name, now=now),
    )


def cases_submitted_while_filing(*, submitted: list[tuple[FilingSubmission, object]]) -> None:
    """Queue what submissions set off once the filing commits: clock checks and notifications.

    ``submitted`` pairs each submission with the submit event written for it.
    """
    clocks_schedule_on_commit([clock for submission, _event in submitted for clock in submission.clocks])
    notify_many_on_commit(events=[event for _submission, event in submitted])


def case_transition(*, case: Case | int, action: str, actor, payload: dict | None = None) -> Case:
    """Apply one action to a case, with the row locked, in one transaction.

    ``actor`` is a user, or None for the system (SLA breaches, default acceptance).
    Raises TransitionNotAllowed when the actor, role or state does not allow it and
    ApplicationError when the payload is incomplete; nothing is written then.
    """
    if action not in ACTIONS:
        raise ApplicationError(_("Unknown action."), code="unknown_action", status_code=400)
    payload = payload or {}
    if not isinstance(payload, dict):
        raise ApplicationError(_("The request is malformed."), code="invalid_payload")
    case_id = case.pk if isinstance(case, Case) else case
    with transaction.atomic():
        locked = Case.objects.select_for_update().get(pk=case_id)
        if action in ACKNOWLEDGING_ACTIONS and locked.state == CaseState.SUBMITTED:
            # Responding, or asking a question, shows the case was read: it is acknowledged in
            # the same step, with its own event, so the timeline and the clocks say so.
            _check_allowed(locked, ACTIONS[action], actor)
            _apply(locked, ACTIONS["acknowledge"], actor, {})
        _apply(locked, ACTIONS[action], actor, payload)
        if action == "dispute" and locked.dispute_count >= SECOND_DISPUTE:
            # The parties could not settle it between them twice: the association takes over.
            _apply(locked, ACTIONS["escalate"], None, {"reason": SECOND_DISPUTE_REASON})
    return locked
