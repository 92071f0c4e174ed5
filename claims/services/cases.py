"""Filing cases, their outputs, evidence and messages."""

import csv
import io
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import PurePath

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import connection, transaction
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _

from claims.bulk import column_set_by_id, objects_insert
from claims.evidence import content_file_put, inspect_upload
from claims.integrity.queue import evidence_fingerprint_queue
from claims.models import (
    CLOSED_STATES,
    MEMBER_ROLES,
    PROVIDER_ROLES,
    REFERENCE_PREFIX,
    Case,
    CaseKind,
    CaseState,
    Evidence,
    LegalBasis,
    Message,
    Output,
    Priority,
    ReferenceCounter,
    Remedy,
    evidence_storage_name,
)
from members.errors import ApplicationError
from members.models import Organisation, OrganisationKind, Work

from .timeline import event_record, events_record_new_cases

OUTPUT_FIELDS = ("product", "model_name", "url", "share_id", "generation_id", "seen_at", "prompt", "notes")
CSV_TEMPLATE_HEADER = list(OUTPUT_FIELDS)
OUTPUT_TEXT_LIMITS = {"product": 200, "model_name": 200, "url": 1000, "share_id": 200, "generation_id": 200}
MESSAGE_MAX_LENGTH = 20000
# A clock a few minutes fast on the user's machine should not make "just now" a future date.
SEEN_AT_TOLERANCE = timedelta(minutes=5)


def references_next(*, kind: str, year: int, count: int = 1) -> list[str]:
    """Hand out the next ``count`` references of the kind and year; call in a transaction, late.

    One upsert creates the counter row if missing or advances it, and leaves it locked until
    the transaction ends, so two filings at the same instant never share a number, and a filing
    that rolls back gives its numbers back. Every filing of the kind and year waits for that
    lock: take the numbers last, when little but the commit remains.
    """
    table = ReferenceCounter._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (kind, year, last_value) VALUES (%s, %s, %s) "
            f"ON CONFLICT (kind, year) DO UPDATE SET last_value = {table}.last_value + %s "
            "RETURNING last_value",
            [kind, year, count, count],
        )
        (last,) = cursor.fetchone()
    return [f"{REFERENCE_PREFIX[kind]}-{year}-{number:06d}" for number in range(last - count + 1, last + 1)]


def reference_year(now: datetime) -> int:
    """Return the year a reference is numbered in: the association's (Tokyo) year, whoever files."""
    return timezone.localtime(now, timezone.get_default_timezone()).year


def _clean_text(value) -> str:
    # PostgreSQL text cannot hold NUL, and it never belongs in what a person typed.
    return str(value).replace("\x00", "").strip()


def _seen_at_parse(value) -> datetime | None:
    """Read a date and time given as text (ISO, or with slashes as spreadsheets write it) or a datetime."""
    if isinstance(value, str):
        text = value.strip().replace("/", "-")
        if not text:
            return None
        try:
            value = parse_datetime(text) or parse_date(text)
        except ValueError:  # well formed but impossible, e.g. 2026-02-30
            return None
    if isinstance(value, date) and not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day)
    if not isinstance(value, datetime):
        return None
    if timezone.is_naive(value):
        # Times without a zone are the association's (Tokyo) time, as the forms say.
        value = timezone.make_aware(value, timezone.get_default_timezone())
    return value


def output_clean(data: dict, *, prefix: str = "") -> dict:
    """Validate one output's fields; raise ApplicationError with field messages."""
    errors: dict[str, list[str]] = {}
    cleaned = {}
    for key in OUTPUT_FIELDS:
        value = data.get(key)
        if key == "seen_at":
            cleaned[key] = value
        else:
            cleaned[key] = "" if value is None else _clean_text(value)
    if not cleaned["product"]:
        errors[prefix + "product"] = [_("Name the product the output came from.")]
    if not cleaned["url"] and not cleaned["share_id"]:
        errors[prefix + "url"] = [_("Give the output's URL or share id.")]
    if cleaned["url"]:
        try:
            URLValidator(schemes=["http", "https"])(cleaned["url"])
        except ValidationError:
            errors[prefix + "url"] = [_("Enter a valid http(s) URL.")]
    seen = _seen_at_parse(cleaned["seen_at"])
    if seen is None:
        errors[prefix + "seen_at"] = [_("Give when the output was seen (YYYY-MM-DD or YYYY-MM-DD HH:MM).")]
    elif seen > timezone.now() + SEEN_AT_TOLERANCE:
        errors[prefix + "seen_at"] = [_("This date is in the future.")]
    cleaned["seen_at"] = seen
    for key, limit in OUTPUT_TEXT_LIMITS.items():
        if len(cleaned[key]) > limit and prefix + key not in errors:
            errors[prefix + key] = [_("At most %(n)d characters.") % {"n": limit}]
    if errors:
        raise ApplicationError(_("An output is incomplete."), fields=errors)
    return cleaned


@dataclass
class ParsedOutputs:
    rows: list[dict] = field(default_factory=list)
    errors: list[tuple[int, dict[str, list[str]]]] = field(default_factory=list)  # (line, field errors)


def _csv_error(message) -> ApplicationError:
    return ApplicationError(message, code="csv_invalid", fields={"csv_file": [message]})


def parse_outputs_csv(data: bytes | str) -> ParsedOutputs:
    """Read outputs from a CSV (UTF-8, with or without BOM; the template's header row).

    Every row is checked; a bad row is reported with the line it starts on in the file
    (counting the header as line 1, and a quoted value over several lines as all of them).
    A file that cannot be read as a whole raises ApplicationError.
    """
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ApplicationError(
                _("The CSV file is not UTF-8 text."),
                code="csv_not_utf8",
                fields={"csv_file": [_("Save the file as “CSV UTF-8”.")]},
            ) from None
    data = data.removeprefix("\ufeff")
    reader = csv.reader(io.StringIO(data, newline=""))
    try:
        header = [cell.strip().lower() for cell in next(reader, [])]
        if "product" not in header or "seen_at" not in header or not {"url", "share_id"} & set(header):
            raise ApplicationError(
                _("The CSV file does not have the template's header row."),
                code="csv_header_missing",
                fields={
                    "csv_file": [
                        _("The first row must name the columns: %(cols)s.")
                        % {"cols": ", ".join(CSV_TEMPLATE_HEADER)}
                    ]
                },
            )
        result = ParsedOutputs()
        row_start = reader.line_num + 1
        for values in reader:
            line_no, row_start = row_start, reader.line_num + 1
            if not any(value.strip() for value in values):
                continue
            if len(result.rows) + len(result.errors) >= settings.BULK_FILING_MAX_ROWS:
                raise _csv_error(
                    _("The CSV file has more than %(n)d rows; split it into smaller files.")
                    % {"n": settings.BULK_FILING_MAX_ROWS}
                )
            # Cells beyond the header are ignored; missing trailing cells are blank.
            row = dict(zip(header, values, strict=False))
            try:
                result.rows.append(output_clean(row))
            except ApplicationError as exc:
                result.errors.append((line_no, exc.fields))
    except csv.Error as exc:
        raise _csv_error(
            _("The CSV file cannot be read near line %(line)d: %(error)s")
            % {"line": reader.line_num, "error": exc}
        ) from None
    return result


def outputs_import_csv(*, case: Case, actor, data: bytes | str) -> list[Output]:
    """Add every row of a CSV as an output of a draft case; all rows or none."""
    _check_claimant(case, actor)
    parsed = parse_outputs_csv(data)
    if parsed.errors:
        raise ApplicationError(
            _("%(n)d rows of the CSV file have errors; nothing was added.") % {"n": len(parsed.errors)},
            code="csv_rows_invalid",
            fields={
                f"row {line}.{name}": msgs for line, errs in parsed.errors for name, msgs in errs.items()
            },
        )
    if not parsed.rows:
        raise _csv_error(_("The CSV file has no outputs below its header row."))
    with transaction.atomic():
        locked = Case.objects.select_for_update().get(pk=case.pk)
        if locked.state != CaseState.DRAFT:
            raise ApplicationError(
                _("Outputs can only be added to a draft."), code="invalid_state", status_code=409
            )
        outputs = _outputs_create(locked, parsed.rows)
        event_record(case=locked, actor=actor, action="outputs_added", data={"count": len(outputs)})
    return outputs


def _outputs_create(case: Case, rows: list[dict]) -> list[Output]:
    start = (case.outputs.order_by("-position").values_list("position", flat=True).first() or 0) + 1
    return Output.objects.bulk_create(
        Output(case=case, position=start + i, **row) for i, row in enumerate(rows)
    )


def _is_claimant_staff(case: Case, actor) -> bool:
    return actor.role in MEMBER_ROLES and actor.organisation_id == case.claimant_id


def _is_respondent_staff(case: Case, actor) -> bool:
    return actor.role in PROVIDER_ROLES and actor.organisation_id == case.respondent_id


def _check_claimant(case: Case, actor) -> None:
    if not _is_claimant_staff(case, actor):
        raise ApplicationError(
            _("Only the claimant's staff may change this case."), code="not_permitted", status_code=403
        )


def _check_party(case: Case, actor) -> None:
    """Refuse anyone but the two parties' staff, the provider before it has the case, and closed cases."""
    respondent_may = _is_respondent_staff(case, actor) and case.state != CaseState.DRAFT
    if not (_is_claimant_staff(case, actor) or respondent_may):
        raise ApplicationError(
            _("Only the parties to a case may add to it."), code="not_permitted", status_code=403
        )
    if case.state in CLOSED_STATES:
        raise ApplicationError(_("This case is closed."), code="case_closed", status_code=409)


@dataclass
class _Filing:
    """One checked filing, ready to write."""

    kind: str
    respondent: Organisation
    title: str
    description: str
    legal_basis: str
    remedies: list[str]
    priority: str
    works: list[Work]
    outputs: list[dict]
    evidence: list[tuple]  # (upload, output_index, inspected)
    submit: bool


def _filing_check(
    *,
    actor,
    kind: str,
    respondent: Organisation | None,
    title: str,
    description: str,
    legal_basis: str = LegalBasis.OTHER,
    remedies: list[str] | None = None,
    priority: str = Priority.NORMAL,
    works: list[Work] | None = None,
    outputs: list[dict] | None = None,
    evidence: list[tuple] | None = None,
    submit: bool = True,
    prefix: str = "",
) -> tuple[_Filing | None, dict[str, list[str]]]:
    """Check one filing; return it cleaned, or None and the field errors (keys start with ``prefix``)."""
    errors: dict[str, list[str]] = {}
    if kind not in CaseKind.values:
        errors["kind"] = [_("Choose claim or inquiry.")]
    if respondent is None or respondent.kind != OrganisationKind.PROVIDER or not respondent.is_active:
        errors["respondent"] = [_("Choose a provider.")]
    title = _clean_text(title or "")
    description = _clean_text(description or "")
    if not title:
        errors["title"] = [_("This field is required.")]
    elif len(title) > Case._meta.get_field("title").max_length:
        errors["title"] = [_("At most %(n)d characters.") % {"n": Case._meta.get_field("title").max_length}]
    if not description:
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
    outputs = list(outputs or [])
    cleaned_outputs = []
    for index, data in enumerate(outputs):
        try:
            cleaned_outputs.append(output_clean(data, prefix=f"outputs.{index}."))
        except ApplicationError as exc:
            errors.update(exc.fields)
    if kind == CaseKind.CLAIM and submit and not outputs:
        errors["outputs"] = [_("A claim concerns at least one output.")]
    checked_evidence = []
    for index, (upload, output_index) in enumerate(evidence or []):
        if output_index is not None and not (0 <= output_index < len(outputs)):
            errors[f"evidence.{index}"] = [_("This file refers to an output that is not in the case.")]
            continue
        try:
            checked_evidence.append((upload, output_index, inspect_upload(upload)))
        except ApplicationError as exc:
            errors.setdefault(f"evidence.{index}", []).append(exc.message)
    if errors:
        return None, {prefix + key: messages for key, messages in errors.items()}
    filing = _Filing(
        kind=kind,
        respondent=respondent,
        title=title,
        description=description,
        legal_basis=legal_basis,
        remedies=remedies,
        priority=priority,
        works=works,
        outputs=cleaned_outputs,
        evidence=checked_evidence,
        submit=submit,
    )
    return filing, {}


def _check_filer(actor) -> None:
    if actor.role not in MEMBER_ROLES or actor.organisation_id is None:
        raise ApplicationError(
            _("Only a member's staff may file a case."), code="not_permitted", status_code=403
        )


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
    checked before anything is written, and the rows are written in one transaction: a bad
    output or file leaves nothing behind.
    """
    _check_filer(actor)
    filing, errors = _filing_check(
        actor=actor,
        kind=kind,
        respondent=respondent,
        title=title,
        description=description,
        legal_basis=legal_basis,
        remedies=remedies,
        priority=priority,
        works=works,
        outputs=outputs,
        evidence=evidence,
        submit=submit,
    )
    if errors:
        raise ApplicationError(_("Please correct the errors below."), fields=errors)
    return _filings_write(actor=actor, filings=[filing])[0]


def cases_create_many(*, actor, filings: list[dict]) -> list[Case]:
    """File many claims or inquiries at once: all of them, or none and every error.

    Each filing takes ``case_create``'s arguments except ``evidence`` (files are added one by
    one afterwards). The field errors of the n-th filing are reported under ``cases.<n>.``.
    The rows of all filings are written together, a few statements for the whole batch.
    """
    _check_filer(actor)
    checked, errors = [], {}
    for index, arguments in enumerate(filings):
        filing, filing_errors = _filing_check(actor=actor, prefix=f"cases.{index}.", **arguments)
        checked.append(filing)
        errors.update(filing_errors)
    if errors:
        raise ApplicationError(_("Please correct the errors below."), fields=errors)
    return _filings_write(actor=actor, filings=checked)


def _filings_write(*, actor, filings: list[_Filing]) -> list[Case]:
    """Write checked filings, submitting those that ask for it, in one transaction."""
    from .transitions import case_submit_while_filing, cases_submitted_while_filing

    # Files go to storage before the transaction so that the reference counter is not held
    # locked while large files are written; a filing that then fails leaves only unreferenced
    # content-addressed files behind.
    stored = [
        [
            (upload, index, inspected, _evidence_file_put(upload, inspected))
            for upload, index, inspected in f.evidence
        ]
        for f in filings
    ]
    with transaction.atomic():
        cases = [
            Case(
                # Unique until the real number is taken, last (see references_next).
                reference=f"~{uuid.uuid4().hex[:19]}",
                kind=f.kind,
                claimant_id=actor.organisation_id,
                respondent=f.respondent,
                filed_by=actor,
                title=f.title,
                description=f.description,
                legal_basis=f.legal_basis,
                remedies=f.remedies,
                priority=f.priority,
            )
            for f in filings
        ]
        timelines = [
            [
                {
                    "actor": actor,
                    "action": "created",
                    "to_state": case.state,
                    "data": {"outputs": len(f.outputs), "respondent": f.respondent.slug},
                }
            ]
            for case, f in zip(cases, filings, strict=True)
        ]
        # Submitting in memory first lets each case row be written once, already submitted, and
        # the cases, outputs, events and clocks of the whole batch in one insert each.
        submissions = [
            case_submit_while_filing(case=case, actor=actor, has_outputs=bool(f.outputs))
            if f.submit
            else None
            for case, f in zip(cases, filings, strict=True)
        ]
        objects_insert(cases)
        work_links = [
            Case.works.through(case_id=case.pk, work_id=work.pk)
            for case, f in zip(cases, filings, strict=True)
            for work in f.works
        ]
        if work_links:
            Case.works.through.objects.bulk_create(work_links)
        outputs = [
            [Output(case=case, position=i, **row) for i, row in enumerate(f.outputs, start=1)]
            for case, f in zip(cases, filings, strict=True)
        ]
        objects_insert([output for case_outputs in outputs for output in case_outputs])
        for case, case_stored, case_outputs, timeline in zip(cases, stored, outputs, timelines, strict=True):
            for upload, output_index, inspected, path in case_stored:
                output = case_outputs[output_index] if output_index is not None else None
                evidence = _evidence_row_create(
                    case=case,
                    actor=actor,
                    upload=upload,
                    output=output,
                    inspected=inspected,
                    path=path,
                    record_event=False,
                )
                if evidence is not None:
                    timeline.append(evidence_event(evidence, actor=actor))
        for timeline, submission in zip(timelines, submissions, strict=True):
            if submission:
                timeline.append(submission.event)
        events = events_record_new_cases(cases=cases, entries=timelines)
        submitted = [(s, case_events[-1]) for s, case_events in zip(submissions, events, strict=True) if s]
        objects_insert([clock for submission, _event in submitted for clock in submission.clocks])
        cases_submitted_while_filing(submitted=submitted)
        _references_assign(cases)
    for case, f, case_outputs in zip(cases, filings, outputs, strict=True):
        # Whoever shows a new case next (the API's 201 answer) need not read back what was just written.
        related_known(case, "outputs", case_outputs)
        related_known(case, "works", sorted(f.works, key=lambda work: work.pk))
    return cases


def _references_assign(cases: list[Case]) -> None:
    """Number the new cases, last in the transaction (see references_next), and write the numbers."""
    year = reference_year(timezone.now())
    by_kind: dict[str, list[Case]] = {}
    for case in cases:
        by_kind.setdefault(case.kind, []).append(case)
    for kind, kind_cases in sorted(by_kind.items()):
        for case, reference in zip(
            kind_cases, references_next(kind=kind, year=year, count=len(kind_cases)), strict=True
        ):
            case.reference = reference
    column_set_by_id(Case, "reference", {case.pk: case.reference for case in cases})


def related_known(instance, name: str, objs: list) -> None:
    """Fill ``instance.<name>.all()`` with ``objs`` as prefetch_related would, without a query.

    For related rows the caller has just written or read, so that what renders them reads nothing.
    """
    queryset = getattr(instance, name).get_queryset()
    queryset._result_cache = list(objs)
    queryset._prefetch_done = True
    if not hasattr(instance, "_prefetched_objects_cache"):
        instance._prefetched_objects_cache = {}
    instance._prefetched_objects_cache[name] = queryset


def _evidence_file_put(upload, inspected) -> str:
    """Store the checked file under its SHA-256 unless those bytes are already stored; return the name."""
    sha256, _content_type, size = inspected
    return content_file_put(upload, name=evidence_storage_name(sha256), size=size)


def _evidence_row_create(
    *, case, actor, upload, output, inspected, path, description="", record_event=True
) -> Evidence:
    """Record the stored file against the case (once per case and output) and write the event.

    Filing passes ``record_event=False`` and writes the event with the case's others
    (``evidence_event``); a file already attached returns None then, as it adds no event.
    """
    sha256, content_type, size = inspected
    existing = Evidence.objects.filter(case=case, output=output, sha256=sha256).first()
    if existing is not None:
        return existing if record_event else None
    evidence = Evidence(
        case=case,
        output=output,
        sha256=sha256,
        content_type=content_type,
        size=size,
        original_name=(PurePath(getattr(upload, "name", "") or "").name or "file")[-255:],
        description=_clean_text(description)[: Evidence._meta.get_field("description").max_length],
        uploaded_by=actor,
    )
    evidence.file.name = path
    evidence.save()
    evidence_fingerprint_queue(evidence=evidence)  # perceptual hash and case links, after commit
    if record_event:
        event_record(case=case, **evidence_event(evidence, actor=actor))
    return evidence


def evidence_event(evidence: Evidence, *, actor) -> dict:
    """Return the ``evidence_added`` event of a new piece of evidence, as event_record's arguments."""
    data = {
        "sha256": evidence.sha256,
        "name": evidence.original_name,
        "type": evidence.content_type,
        "size": evidence.size,
    }
    return {"actor": actor, "action": "evidence_added", "data": data}


def evidence_add(
    *, case: Case, actor, upload, output: Output | None = None, description: str = ""
) -> Evidence:
    """Attach one checked file to an open case, by either party.

    The same bytes attached again to the same case and output return the earlier record.
    """
    _check_party(case, actor)
    if output is not None and output.case_id != case.pk:
        raise ApplicationError(
            _("This output is not part of the case."),
            fields={"output": [_("Choose an output of this case.")]},
        )
    inspected = inspect_upload(upload)
    path = _evidence_file_put(upload, inspected)
    with transaction.atomic():
        locked = Case.objects.select_for_update().get(pk=case.pk)
        _check_party(locked, actor)
        return _evidence_row_create(
            case=locked,
            actor=actor,
            upload=upload,
            output=output,
            inspected=inspected,
            path=path,
            description=description,
        )


def message_post(*, case: Case, actor, body: str) -> Message:
    """Add a message to the thread of an open case."""
    body = _clean_text(body or "")
    if not body:
        raise ApplicationError(_("Write a message first."), fields={"body": [_("This field is required.")]})
    if len(body) > MESSAGE_MAX_LENGTH:
        raise ApplicationError(
            _("The message is too long."),
            fields={"body": [_("At most %(n)d characters.") % {"n": MESSAGE_MAX_LENGTH}]},
        )
    with transaction.atomic():
        locked = Case.objects.select_for_update().get(pk=case.pk)
        _check_party(locked, actor)
        message = Message.objects.create(case=locked, author=actor, body=body)
        event_record(case=locked, actor=actor, action="message_posted", data={"message": message.pk})
    return message
