import csv
import io
from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.core.validators import URLValidator
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _

from claims.evidence import inspect_upload
from claims.models import (
    REFERENCE_PREFIX,
    Case,
    CaseKind,
    Evidence,
    LegalBasis,
    Message,
    Output,
    Priority,
    ReferenceCounter,
    Remedy,
    evidence_path,
)
from members.errors import ApplicationError
from members.models import Organisation, OrganisationKind, Role, Work

from .timeline import event_record

OUTPUT_FIELDS = ("product", "model_name", "url", "share_id", "generation_id", "seen_at", "prompt", "notes")
CSV_TEMPLATE_HEADER = list(OUTPUT_FIELDS)


def reference_next(*, kind: str, year: int) -> str:
    """Hand out the next reference for the kind and year; call inside a transaction.

    The counter row is created if missing (ignoring a concurrent creator) and then
    incremented with its row locked, so two filings at the same instant never share a number.
    """
    ReferenceCounter.objects.bulk_create(
        [ReferenceCounter(kind=kind, year=year, last_value=0)], ignore_conflicts=True
    )
    counter = ReferenceCounter.objects.select_for_update().get(kind=kind, year=year)
    counter.last_value = F("last_value") + 1
    counter.save(update_fields=["last_value"])
    counter.refresh_from_db(fields=["last_value"])
    return f"{REFERENCE_PREFIX[kind]}-{year}-{counter.last_value:06d}"


def output_clean(data: dict, *, prefix: str = "") -> dict:
    """Validate one output's fields; raise ApplicationError with field messages."""
    errors: dict[str, list[str]] = {}
    cleaned = {k: (data.get(k) or "") for k in OUTPUT_FIELDS}
    for key in OUTPUT_FIELDS:
        if isinstance(cleaned[key], str):
            cleaned[key] = cleaned[key].strip()
    if not cleaned["product"]:
        errors[prefix + "product"] = [_("Name the product the output came from.")]
    if not cleaned["url"] and not cleaned["share_id"]:
        errors[prefix + "url"] = [_("Give the output's URL or share id.")]
    if cleaned["url"]:
        try:
            URLValidator(schemes=["http", "https"])(cleaned["url"])
        except ValidationError:
            errors[prefix + "url"] = [_("Enter a valid http(s) URL.")]
    seen = cleaned["seen_at"]
    if isinstance(seen, str):
        parsed = parse_datetime(seen) if seen else None
        if parsed is None and seen:
            day = parse_date(seen)
            parsed = datetime(day.year, day.month, day.day) if day else None
        if parsed is not None and timezone.is_naive(parsed):
            parsed = timezone.make_aware(parsed)
        seen = parsed
    if seen is None:
        errors[prefix + "seen_at"] = [_("Give when the output was seen (YYYY-MM-DD or YYYY-MM-DD HH:MM).")]
    elif seen > timezone.now() + timezone.timedelta(minutes=5):
        errors[prefix + "seen_at"] = [_("This date is in the future.")]
    cleaned["seen_at"] = seen
    limits = {"product": 200, "model_name": 200, "url": 1000, "share_id": 200, "generation_id": 200}
    for key, limit in limits.items():
        if len(cleaned[key]) > limit and prefix + key not in errors:
            errors[prefix + key] = [_("At most %(n)d characters.") % {"n": limit}]
    if errors:
        raise ApplicationError(_("An output is incomplete."), fields=errors)
    return cleaned


@dataclass
class ParsedOutputs:
    rows: list[dict] = field(default_factory=list)
    errors: list[tuple[int, dict[str, list[str]]]] = field(default_factory=list)  # (line, field errors)


def parse_outputs_csv(data: bytes | str) -> ParsedOutputs:
    """Read outputs from a CSV (UTF-8, with or without BOM; the template's header row)."""
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ApplicationError(
                _("The CSV file is not UTF-8 text."), fields={"csv_file": [_("Save the file as UTF-8 CSV.")]}
            ) from None
    reader = csv.DictReader(io.StringIO(data))
    header = [h.strip() for h in (reader.fieldnames or [])]
    if "product" not in header or ("url" not in header and "share_id" not in header):
        raise ApplicationError(
            _("The CSV file does not have the template's header row."),
            fields={"csv_file": [_("The first row must name the columns: %(cols)s.") % {"cols": ", ".join(CSV_TEMPLATE_HEADER)}]},
        )
    reader.fieldnames = header
    result = ParsedOutputs()
    for line_no, row in enumerate(reader, start=2):
        if not any((v or "").strip() for v in row.values() if isinstance(v, str)):
            continue
        if len(result.rows) + len(result.errors) >= settings.BULK_FILING_MAX_ROWS:
            raise ApplicationError(
                _("The CSV file has more than %(n)d rows.") % {"n": settings.BULK_FILING_MAX_ROWS},
                fields={"csv_file": [_("Split the file into smaller files.")]},
            )
        try:
            result.rows.append(output_clean(row))
        except ApplicationError as exc:
            result.errors.append((line_no, exc.fields))
    return result


def outputs_import_csv(*, case: Case, actor, data: bytes | str) -> list[Output]:
    """Add every row of a CSV as an output of a draft case; all rows or none."""
    parsed = parse_outputs_csv(data)
    if parsed.errors:
        raise ApplicationError(
            _("%(n)d rows of the CSV file have errors; nothing was added.") % {"n": len(parsed.errors)},
            code="csv_rows_invalid",
            fields={f"row {line}.{name}": msgs for line, errs in parsed.errors for name, msgs in errs.items()},
        )
    with transaction.atomic():
        locked = Case.objects.select_for_update().get(pk=case.pk)
        if locked.state != "draft":
            raise ApplicationError(_("Outputs can only be added to a draft."), code="invalid_state", status_code=409)
        _check_claimant(locked, actor)
        outputs = _outputs_create(locked, parsed.rows)
        event_record(case=locked, actor=actor, action="outputs_added", data={"count": len(outputs)})
    return outputs


def _outputs_create(case: Case, rows: list[dict]) -> list[Output]:
    start = (case.outputs.order_by("-position").values_list("position", flat=True).first() or 0) + 1
    return Output.objects.bulk_create(
        Output(case=case, position=start + i, **row) for i, row in enumerate(rows)
    )


def _check_claimant(case: Case, actor) -> None:
    if actor.role not in (Role.MEMBER_ADMIN, Role.MEMBER_LEGAL) or actor.organisation_id != case.claimant_id:
        raise ApplicationError(_("Only the claimant's staff may change this case."), code="not_permitted", status_code=403)


def case_create(
    *,
    actor,
    kind: str,
    respondent: Organisation,
    title: str,
    description: str,
    legal_basis: str = LegalBasis.OTHER,
    remedies: list[str] | None = None,
    priority: str = Priority.NORMAL,
    works: list[Work] | None = None,
    outputs: list[dict] | None = None,
    evidence: list[tuple] | None = None,
    submit: bool = True,
) -> Case:
    """File a claim or inquiry with its outputs and evidence, as a draft or submitted at once.

    ``evidence`` is a list of ``(uploaded_file, output_index_or_None)``. Everything is
    written in one transaction: a bad output or file leaves nothing behind.
    """
    from .transitions import case_transition

    if actor.role not in (Role.MEMBER_ADMIN, Role.MEMBER_LEGAL):
        raise ApplicationError(_("Only a member's staff may file a case."), code="not_permitted", status_code=403)
    errors: dict[str, list[str]] = {}
    if kind not in CaseKind.values:
        errors["kind"] = [_("Choose claim or inquiry.")]
    if respondent is None or respondent.kind != OrganisationKind.PROVIDER or not respondent.is_active:
        errors["respondent"] = [_("Choose a provider.")]
    if not (title or "").strip():
        errors["title"] = [_("This field is required.")]
    if not (description or "").strip():
        errors["description"] = [_("This field is required.")]
    if legal_basis not in LegalBasis.values:
        errors["legal_basis"] = [_("Choose a legal basis.")]
    remedies = list(dict.fromkeys(remedies or []))
    if any(r not in Remedy.values for r in remedies):
        errors["remedies"] = [_("Unknown remedy.")]
    if priority not in Priority.values:
        errors["priority"] = [_("Choose a priority.")]
    works = list(works or [])
    if any(w.owner_id != actor.organisation_id for w in works):
        errors["works"] = [_("Only your organisation's works can be named.")]
    cleaned_outputs = []
    for index, data in enumerate(outputs or []):
        try:
            cleaned_outputs.append(output_clean(data, prefix=f"outputs.{index}."))
        except ApplicationError as exc:
            errors.update(exc.fields)
    if kind == CaseKind.CLAIM and submit and not outputs:
        errors["outputs"] = [_("A claim concerns at least one output.")]
    checked_evidence = []
    for index, (upload, output_index) in enumerate(evidence or []):
        if output_index is not None and not (0 <= output_index < len(outputs or [])):
            errors[f"evidence.{index}"] = [_("This file refers to an output that is not in the case.")]
            continue
        try:
            checked_evidence.append((upload, output_index, inspect_upload(upload)))
        except ApplicationError as exc:
            errors.setdefault(f"evidence.{index}", []).append(exc.message)
    if errors:
        raise ApplicationError(_("Please correct the errors below."), fields=errors)

    with transaction.atomic():
        now = timezone.localtime()
        case = Case.objects.create(
            reference=reference_next(kind=kind, year=now.year),
            kind=kind,
            claimant_id=actor.organisation_id,
            respondent=respondent,
            filed_by=actor,
            title=title.strip(),
            description=description.strip(),
            legal_basis=legal_basis,
            remedies=remedies,
            priority=priority,
        )
        if works:
            case.works.set(works)
        created_outputs = _outputs_create(case, cleaned_outputs)
        event_record(
            case=case,
            actor=actor,
            action="created",
            to_state=case.state,
            data={"outputs": len(created_outputs), "respondent": respondent.slug},
        )
        for upload, output_index, inspected in checked_evidence:
            output = created_outputs[output_index] if output_index is not None else None
            _evidence_store(case=case, actor=actor, upload=upload, output=output, inspected=inspected)
        if submit:
            case = case_transition(case=case, action="submit", actor=actor)
    return case


def _evidence_store(*, case, actor, upload, output, inspected, description="") -> Evidence:
    sha256, content_type, size = inspected
    evidence = Evidence(
        case=case,
        output=output,
        sha256=sha256,
        content_type=content_type,
        size=size,
        original_name=(getattr(upload, "name", "") or "file")[-255:],
        description=description,
        uploaded_by=actor,
    )
    path = evidence_path(evidence, "")
    # Content-addressed: identical bytes are stored once and the stored file is never rewritten.
    if not default_storage.exists(path):
        upload.seek(0)
        path = default_storage.save(path, upload)
    evidence.file.name = path
    evidence.save()
    event_record(
        case=case,
        actor=actor,
        action="evidence_added",
        data={"sha256": sha256, "name": evidence.original_name, "type": content_type, "size": size},
    )
    return evidence


def evidence_add(*, case: Case, actor, upload, output: Output | None = None, description: str = "") -> Evidence:
    """Attach one checked file to an open case, by either party."""
    inspected = inspect_upload(upload)
    if output is not None and output.case_id != case.pk:
        raise ApplicationError(_("This output is not part of the case."), fields={"output": [_("Choose an output of this case.")]})
    with transaction.atomic():
        locked = Case.objects.select_for_update().get(pk=case.pk)
        _check_party(locked, actor)
        return _evidence_store(
            case=locked, actor=actor, upload=upload, output=output, inspected=inspected, description=description
        )


def _check_party(case: Case, actor) -> None:
    from claims.models import CLOSED_STATES, CaseState

    party = actor.organisation_id in (case.claimant_id, case.respondent_id)
    if not party or (actor.organisation_id == case.respondent_id and case.state == CaseState.DRAFT):
        raise ApplicationError(_("Only the parties to a case may add to it."), code="not_permitted", status_code=403)
    if case.state in CLOSED_STATES:
        raise ApplicationError(_("This case is closed."), code="case_closed", status_code=409)


def message_post(*, case: Case, actor, body: str) -> Message:
    """Add a message to the thread of an open case."""
    body = (body or "").strip()
    if not body:
        raise ApplicationError(_("Write a message first."), fields={"body": [_("This field is required.")]})
    if len(body) > 20000:
        raise ApplicationError(_("The message is too long."), fields={"body": [_("At most 20000 characters.")]})
    with transaction.atomic():
        locked = Case.objects.select_for_update().get(pk=case.pk)
        _check_party(locked, actor)
        message = Message.objects.create(case=locked, author=actor, body=body)
        event_record(case=locked, actor=actor, action="message_posted", data={"message": message.pk})
    return message
