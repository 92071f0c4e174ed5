"""Writes of the registry: works (with identifiers and reference images), CSV imports, grants.

Every service checks who acts, validates everything before writing, and writes in one
transaction. Grants are append-only: ``grant_issue`` and ``grant_revoke`` only ever insert.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import IntegrityError, connection, transaction
from django.db.models.expressions import RawSQL
from django.utils import timezone
from django.utils.translation import gettext as _

from claims.bulk import insert_rows
from members.errors import ApplicationError
from members.models import Organisation, OrganisationKind, Role, Work, WorkKind
from members.registry.identifiers import IdentifierInvalid, identifier_normalise
from members.registry.models import (
    Grant,
    GrantUse,
    IdentifierScheme,
    WorkIdentifier,
    WorkImage,
    work_image_storage_name,
)

MEMBER_ROLES = (Role.MEMBER_ADMIN, Role.MEMBER_LEGAL)
IMAGE_TYPES = ("image/png", "image/jpeg", "image/webp", "image/gif")
TEXT_LIMITS = {"title_ja": 300, "title_en": 300, "location": 500}
TERMS_MAX_LENGTH = 10_000
# The enums' ``values`` build a new list on every access; a CSV import asks per row.
WORK_KINDS = frozenset(WorkKind.values)
SCHEMES = tuple(IdentifierScheme.values)


def _clean_text(value) -> str:
    # PostgreSQL text cannot hold NUL, and it never belongs in what a person typed.
    return str(value or "").replace("\x00", "").strip()


def check_member_staff(actor) -> None:
    """Let only a member company's staff manage its works and grants."""
    organisation = getattr(actor, "organisation", None)
    if actor.role not in MEMBER_ROLES or organisation is None or not organisation.is_member:
        raise ApplicationError(
            _("Only a member company's staff may manage its works and grants."),
            code="not_permitted",
            status_code=403,
        )


def _check_owner(actor, work: Work) -> None:
    check_member_staff(actor)
    # Another member's work is not shown to the actor at all, so it is "not found".
    if work.owner_id != actor.organisation_id:
        raise ApplicationError(_("No such work in your registry."), code="not_found", status_code=404)


# --- Works ------------------------------------------------------------------------------------


@dataclass
class WorkData:
    """A work's fields, checked and normalised; ``errors`` maps field names to messages."""

    kind: str = WorkKind.OTHER
    title_ja: str = ""
    title_en: str = ""
    description: str = ""
    location: str = ""
    identifiers: list[tuple[str, str]] = field(default_factory=list)
    errors: dict[str, list[str]] = field(default_factory=dict)

    def add_error(self, name: str, message: str) -> None:
        self.errors.setdefault(name, []).append(str(message))


def work_clean(
    *,
    kind: str = WorkKind.OTHER,
    title_ja: str = "",
    title_en: str = "",
    description: str = "",
    location: str = "",
    identifiers=(),
) -> WorkData:
    """Check and normalise a work's fields without touching the database.

    ``identifiers`` is a sequence of (scheme, value); the errors of the n-th are filed under
    ``identifiers.n``. Duplicates within the work are dropped.
    """
    data = WorkData(
        kind=kind or WorkKind.OTHER,
        title_ja=_clean_text(title_ja),
        title_en=_clean_text(title_en),
        description=_clean_text(description),
        location=_clean_text(location),
    )
    if data.kind not in WORK_KINDS:
        data.add_error("kind", _("Choose one of: %(kinds)s.") % {"kinds": ", ".join(WorkKind.values)})
    if not data.title_ja:
        data.add_error("title_ja", _("Give the Japanese title."))
    for name, limit in TEXT_LIMITS.items():
        if len(getattr(data, name)) > limit:
            data.add_error(name, _("At most %(n)d characters.") % {"n": limit})
    if data.location and (not data.location.startswith("/") or any(c.isspace() for c in data.location)):
        data.add_error(
            "location", _("Give a path on your website starting with “/”, e.g. /characters/neko/*.")
        )
    seen = set()
    for index, (scheme, raw) in enumerate(identifiers):
        if scheme not in SCHEMES:
            data.add_error(
                f"identifiers.{index}", _("Unknown identifier scheme “%(scheme)s”.") % {"scheme": scheme}
            )
            continue
        try:
            value = identifier_normalise(scheme, raw)
        except IdentifierInvalid as exc:
            data.add_error(f"identifiers.{index}", f"{IdentifierScheme(scheme).label}: {exc}")
            continue
        if (scheme, value) not in seen:
            seen.add((scheme, value))
            data.identifiers.append((scheme, value))
    return data


def _identifiers_taken(
    *, owner_id: int, identifiers, exclude_work_id: int | None = None
) -> set[tuple[str, str]]:
    """Return which of the (scheme, value) pairs another work of the owner already carries."""
    if not identifiers:
        return set()
    wanted = list({value for _scheme, value in identifiers})
    if connection.vendor == "postgresql" and len(wanted) > 100:
        # One array parameter instead of one parameter per value (a large CSV has 100,000s).
        wanted = RawSQL("SELECT unnest(%s::text[])", [wanted])
    rows = WorkIdentifier.objects.filter(owner_id=owner_id, value__in=wanted)
    if exclude_work_id is not None:
        rows = rows.exclude(work_id=exclude_work_id)
    existing = set(rows.values_list("scheme", "value"))
    return {pair for pair in identifiers if pair in existing}


def _raise_if_invalid(data: WorkData, *, owner_id: int, exclude_work_id: int | None = None) -> None:
    taken = _identifiers_taken(
        owner_id=owner_id, identifiers=data.identifiers, exclude_work_id=exclude_work_id
    )
    for scheme, value in data.identifiers:
        if (scheme, value) in taken:
            data.add_error(
                "identifiers",
                _("Another of your works already has %(scheme)s %(value)s.")
                % {"scheme": IdentifierScheme(scheme).label, "value": value},
            )
    if data.errors:
        raise ApplicationError(_("Please correct the errors below."), fields=data.errors)


def _identifier_conflict() -> ApplicationError:
    return ApplicationError(
        _("Please correct the errors below."),
        fields={"identifiers": [_("Another of your works has just been given one of these identifiers.")]},
    )


def work_create(*, actor, identifiers=(), **fields) -> Work:
    """Register a work of the actor's member company, with its identifiers."""
    check_member_staff(actor)
    data = work_clean(identifiers=identifiers, **fields)
    _raise_if_invalid(data, owner_id=actor.organisation_id)
    try:
        with transaction.atomic():
            work = Work.objects.create(
                owner_id=actor.organisation_id,
                kind=data.kind,
                title_ja=data.title_ja,
                title_en=data.title_en,
                description=data.description,
                location=data.location,
            )
            WorkIdentifier.objects.bulk_create(
                WorkIdentifier(work=work, owner_id=work.owner_id, scheme=scheme, value=value)
                for scheme, value in data.identifiers
            )
    except IntegrityError:
        raise _identifier_conflict() from None
    return work


def work_update(*, actor, work: Work, identifiers=(), **fields) -> Work:
    """Change a work's fields and replace its identifiers with ``identifiers``."""
    _check_owner(actor, work)
    data = work_clean(identifiers=identifiers, **fields)
    _raise_if_invalid(data, owner_id=work.owner_id, exclude_work_id=work.pk)
    try:
        with transaction.atomic():
            locked = Work.objects.select_for_update().get(pk=work.pk)
            for name in ("kind", "title_ja", "title_en", "description", "location"):
                setattr(locked, name, getattr(data, name))
            locked.save()  # updated_at moves: the providers' feed changes its ETag
            wanted = set(data.identifiers)
            current = {(row.scheme, row.value): row.pk for row in locked.identifiers.all()}
            WorkIdentifier.objects.filter(
                pk__in=[pk for pair, pk in current.items() if pair not in wanted]
            ).delete()
            WorkIdentifier.objects.bulk_create(
                WorkIdentifier(work=locked, owner_id=locked.owner_id, scheme=scheme, value=value)
                for scheme, value in data.identifiers
                if (scheme, value) not in current
            )
    except IntegrityError:
        raise _identifier_conflict() from None
    return locked


def work_image_add(*, actor, work: Work, upload) -> WorkImage:
    """Attach a reference image (PNG, JPEG, WebP, GIF, checked from its bytes) to the actor's work.

    The same bytes attached again return the earlier record.
    """
    from claims.evidence import content_file_put, inspect_upload

    _check_owner(actor, work)
    try:
        sha256, content_type, size = inspect_upload(upload)
    except ApplicationError as exc:
        raise ApplicationError(exc.message, code=exc.code, fields={"image": [exc.message]}) from None
    if content_type not in IMAGE_TYPES:
        message = _("Only images (PNG, JPEG, WebP, GIF) can be reference images; its contents were checked.")
        raise ApplicationError(message, code="image_type_not_allowed", fields={"image": [message]})
    path = content_file_put(upload, name=work_image_storage_name(sha256), size=size)
    with transaction.atomic():
        locked = Work.objects.select_for_update().get(pk=work.pk)
        existing = WorkImage.objects.filter(work=locked, sha256=sha256).first()
        if existing is not None:
            return existing
        image = WorkImage(
            work=locked,
            sha256=sha256,
            content_type=content_type,
            size=size,
            original_name=(getattr(upload, "name", "") or "image")[:255],
            uploaded_by=actor,
        )
        image.file.name = path
        image.save()
        locked.save(update_fields=["updated_at"])
    return image


# --- CSV import -------------------------------------------------------------------------------

CSV_COLUMNS = ["kind", "title_ja", "title_en", "description", "location", *IdentifierScheme.values]
IDENTIFIER_SEPARATOR = ";"


@dataclass
class ParsedWorks:
    rows: list[WorkData] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)
    errors: list[tuple[int, dict[str, list[str]]]] = field(default_factory=list)


def _csv_error(message) -> ApplicationError:
    return ApplicationError(message, code="csv_invalid", fields={"csv_file": [message]})


def works_csv_parse(
    data: bytes | str, *, owner_id: int, max_rows: int | None = None, progress=None
) -> ParsedWorks:
    """Read works from a CSV (UTF-8, with or without BOM; the template's header row).

    Every row is checked, against the file's other rows and the owner's registered works;
    a bad row is reported with its line (the header is line 1). ``progress(n)`` is called per row.
    """
    import csv
    import io

    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ApplicationError(
                _("The CSV file is not UTF-8 text."),
                code="csv_not_utf8",
                fields={"csv_file": [_("Save the file as “CSV UTF-8”.")]},
            ) from None
    data = data.removeprefix("\ufeff").replace("\x00", "")
    reader = csv.reader(io.StringIO(data, newline=""))
    result = ParsedWorks()
    seen: dict[tuple[str, str], int] = {}
    try:
        header = [cell.strip().lower() for cell in next(reader, [])]
        if "title_ja" not in header:
            raise ApplicationError(
                _("The CSV file does not have the template's header row."),
                code="csv_header_missing",
                fields={
                    "csv_file": [
                        _("The first row must name the columns: %(cols)s.") % {"cols": ", ".join(CSV_COLUMNS)}
                    ]
                },
            )
        row_start = reader.line_num + 1
        for values in reader:
            line, row_start = row_start, reader.line_num + 1
            if not any(value.strip() for value in values):
                continue
            if max_rows is not None and len(result.rows) + len(result.errors) >= max_rows:
                raise _csv_error(
                    _("The CSV file has more than %(n)d rows; split it, or ask for a command-line import.")
                    % {"n": max_rows}
                )
            row = dict(zip(header, values, strict=False))
            identifiers = [
                (scheme, value.strip())
                for scheme in SCHEMES
                for value in (row.get(scheme) or "").split(IDENTIFIER_SEPARATOR)
                if value.strip()
            ]
            work = work_clean(
                kind=(row.get("kind") or "").strip().lower() or WorkKind.OTHER,
                title_ja=row.get("title_ja", ""),
                title_en=row.get("title_en", ""),
                description=row.get("description", ""),
                location=row.get("location", ""),
                identifiers=identifiers,
            )
            # Name the CSV column, not the position in the combined identifier list.
            for key in [key for key in work.errors if key.startswith("identifiers.")]:
                scheme = identifiers[int(key.split(".")[1])][0]
                work.errors.setdefault(scheme, []).extend(work.errors.pop(key))
            for pair in work.identifiers:
                if pair in seen:
                    work.add_error(pair[0], _("Also on line %(line)d of this file.") % {"line": seen[pair]})
                else:
                    seen[pair] = line
            if work.errors:
                result.errors.append((line, work.errors))
            else:
                result.rows.append(work)
                result.lines.append(line)
            if progress is not None:
                progress(1)
    except csv.Error as exc:
        raise _csv_error(
            _("The CSV file cannot be read near line %(line)d: %(error)s")
            % {"line": reader.line_num, "error": exc}
        ) from None
    taken = _identifiers_taken(owner_id=owner_id, identifiers=list(seen))
    if taken:
        for work, line in zip(result.rows, result.lines, strict=True):
            clashes = [pair for pair in work.identifiers if pair in taken]
            if clashes:
                for scheme, value in clashes:
                    work.add_error(
                        scheme, _("Another of your works already has %(value)s.") % {"value": value}
                    )
                result.errors.append((line, work.errors))
        result.errors.sort(key=lambda item: item[0])
    return result


def works_import_csv(
    *, owner: Organisation, data: bytes | str, actor=None, max_rows=None, progress=None
) -> int:
    """Register every row of a CSV as a work of ``owner``: all rows in one transaction, or none.

    Returns the number of works created. Any bad row raises ApplicationError whose fields are
    keyed ``row <line>.<column>``; nothing is written then.
    """
    if actor is not None:
        check_member_staff(actor)
        if actor.organisation_id != owner.pk:
            raise ApplicationError(_("You can import works only into your own registry."), status_code=403)
    if not owner.is_member:
        raise ApplicationError(_("Only a member company has a registry of works."), code="not_member")
    parsed = works_csv_parse(data, owner_id=owner.pk, max_rows=max_rows, progress=progress)
    if parsed.errors:
        raise ApplicationError(
            _("%(n)d rows of the CSV file have errors; nothing was imported.") % {"n": len(parsed.errors)},
            code="csv_rows_invalid",
            fields={
                f"row {line}.{name}": msgs for line, errs in parsed.errors for name, msgs in errs.items()
            },
        )
    if not parsed.rows:
        raise _csv_error(_("The CSV file has no works below its header row."))
    now = timezone.now()
    try:
        with transaction.atomic():
            # COPY on PostgreSQL (claims.bulk): a 100,000-row file is inserted in seconds.
            work_ids = insert_rows(
                Work,
                [
                    "owner_id",
                    "kind",
                    "title_ja",
                    "title_en",
                    "description",
                    "location",
                    "created_at",
                    "updated_at",
                ],
                [
                    (owner.pk, row.kind, row.title_ja, row.title_en, row.description, row.location, now, now)
                    for row in parsed.rows
                ],
                with_ids=True,
            )
            insert_rows(
                WorkIdentifier,
                ["work_id", "owner_id", "scheme", "value"],
                [
                    (work_id, owner.pk, scheme, value)
                    for work_id, row in zip(work_ids, parsed.rows, strict=True)
                    for scheme, value in row.identifiers
                ],
            )
    except IntegrityError:
        raise _csv_error(
            _("Another import gave some of these identifiers to other works just now; try again.")
        ) from None
    return len(work_ids)


# --- Grants -----------------------------------------------------------------------------------


def _aware(value: datetime | None, name: str) -> datetime | None:
    if value is not None and timezone.is_naive(value):
        raise ApplicationError(_("Give a time with its time zone."), fields={name: [_("Give a time zone.")]})
    return value


def grant_issue(
    *,
    actor,
    provider: Organisation,
    use: str,
    work: Work | None = None,
    terms: str = "",
    valid_from: datetime | None = None,
    valid_until: datetime | None = None,
) -> Grant:
    """Record the actor's member company's consent to ``provider`` for ``use`` of one or all works.

    ``valid_from`` defaults to now and may lie in the past (a licence agreed for past use);
    ``valid_until`` is exclusive, and null means until revoked.
    """
    check_member_staff(actor)
    errors: dict[str, list[str]] = {}
    if provider is None or provider.kind != OrganisationKind.PROVIDER or not provider.is_active:
        errors["provider"] = [_("Choose an active provider.")]
    if use not in GrantUse.values:
        errors["use"] = [_("Choose training or generation.")]
    if work is not None and work.owner_id != actor.organisation_id:
        errors["work"] = [_("Choose one of your works, or none for all of them.")]
    terms = _clean_text(terms)
    if len(terms) > TERMS_MAX_LENGTH:
        errors["terms"] = [_("At most %(n)d characters.") % {"n": TERMS_MAX_LENGTH}]
    valid_from = _aware(valid_from, "valid_from") or timezone.now()
    valid_until = _aware(valid_until, "valid_until")
    if valid_until is not None and valid_until <= valid_from:
        errors["valid_until"] = [_("The end must come after the start.")]
    if errors:
        raise ApplicationError(_("Please correct the errors below."), fields=errors)
    return Grant.objects.create(
        grantor_id=actor.organisation_id,
        grantee=provider,
        use=use,
        work=work,
        terms=terms,
        valid_from=valid_from,
        valid_until=valid_until,
        created_by=actor,
    )


def grant_revoke(*, actor, grant: Grant, reason: str, effective_at: datetime | None = None) -> Grant:
    """End a grant from ``effective_at`` (default now) by appending a revocation row.

    Consent given for the past cannot be taken back: the revocation takes effect now or later.
    A grant is revoked once; a revocation cannot itself be revoked (issue a new grant instead).
    """
    check_member_staff(actor)
    if grant.grantor_id != actor.organisation_id:
        raise ApplicationError(_("No such grant in your ledger."), code="not_found", status_code=404)
    if grant.revokes_id is not None:
        raise ApplicationError(
            _("This row is a revocation; to permit again, issue a new grant."),
            code="grant_is_revocation",
            status_code=409,
        )
    reason = _clean_text(reason)
    if not reason:
        raise ApplicationError(
            _("Give the reason for the revocation."), fields={"reason": [_("This field is required.")]}
        )
    if len(reason) > TERMS_MAX_LENGTH:
        raise ApplicationError(
            _("Please correct the errors below."),
            fields={"reason": [_("At most %(n)d characters.") % {"n": TERMS_MAX_LENGTH}]},
        )
    now = timezone.now()
    effective_at = _aware(effective_at, "effective_at") or now
    if effective_at < now - timedelta(minutes=1):
        raise ApplicationError(
            _("A revocation takes effect now or later, never in the past."),
            fields={"effective_at": [_("Give a time that has not passed.")]},
        )
    try:
        with transaction.atomic():
            # Lock the revoked grant so that two revocations of it queue; the second finds the first.
            locked = Grant.objects.select_for_update().get(pk=grant.pk)
            if Grant.objects.filter(revokes=locked).exists():
                raise ApplicationError(
                    _("This grant has already been revoked."), code="grant_revoked", status_code=409
                )
            return Grant.objects.create(
                grantor_id=locked.grantor_id,
                grantee_id=locked.grantee_id,
                use=locked.use,
                work_id=locked.work_id,
                valid_from=max(effective_at, locked.valid_from),
                revokes=locked,
                reason=reason,
                created_by=actor,
            )
    except IntegrityError:
        raise ApplicationError(
            _("This grant has already been revoked."), code="grant_revoked", status_code=409
        ) from None
