"""The evidence bundle of a case: a ZIP anyone can check without RightsDesk's database.

Contents:

- ``timeline.json``: the case (id, reference, state) and every event with exactly the fields its
  hash covers (``claims.models.event_canonical_payload``), plus the actor's name for a reader;
- ``evidence/<sha256>.<ext>``: every file an ``evidence_added`` event names, byte for byte;
- ``manifest.json``: the case reference, when the bundle was made, and for every other entry its
  path, size and SHA-256 (``timeline.json``'s SHA-256 also on its own).

``bundle_verify`` checks a bundle: every manifest entry's size and SHA-256, no entry missing or
extra, each evidence file's bytes against the SHA-256 in its name, the timeline's hash chain
recomputed event by event (with the same checks as ``verify_timelines``), and that the timeline's
``evidence_added`` events and the files are the same set.

The chain proves that nothing inside it was changed after the fact, not that the whole bundle was
not forged from scratch: compare the last event's hash (printed by ``verify_bundle``) with the
case's timeline on the server when that matters.
"""

import hashlib
import json
import re
import zipfile
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from tempfile import SpooledTemporaryFile

from django.core.files.storage import default_storage
from django.utils import timezone
from django.utils.translation import gettext as _

from claims.models import Case, CaseEvent, Evidence
from claims.services.timeline import chain_problems
from members.errors import ApplicationError

BUNDLE_FORMAT = "rightsdesk-evidence-bundle"
BUNDLE_VERSION = 1
MANIFEST = "manifest.json"
TIMELINE = "timeline.json"
EXTENSIONS = {
    "image/png": ".png",
    "image/jpeg": ".jpg",
    "image/webp": ".webp",
    "image/gif": ".gif",
    "video/mp4": ".mp4",
    "video/webm": ".webm",
    "video/quicktime": ".mov",
    "application/pdf": ".pdf",
    "text/plain": ".txt",
}
# Already compressed: stored as they are. Everything else is deflated.
STORED_TYPES = frozenset(EXTENSIONS) - {"application/pdf", "text/plain"}
EVIDENCE_PATH = re.compile(r"^evidence/(?P<sha256>[0-9a-f]{64})(\.[a-z0-9]{1,5})?$")
_CHUNK = 1024 * 1024
_SPOOL_BYTES = 16 * 1024 * 1024


def _json_bytes(document) -> bytes:
    return (json.dumps(document, ensure_ascii=False, indent=2, sort_keys=True) + "\n").encode()


def _zip_info(path: str, when: datetime, *, compress: bool) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(path, date_time=when.astimezone(UTC).timetuple()[:6])
    info.compress_type = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
    info.external_attr = 0o644 << 16
    return info


def _timeline_document(case: Case) -> tuple[dict, list[CaseEvent]]:
    # One statement reads the events with the case's state, so a transition committed meanwhile
    # cannot leave a timeline that ends in another state than the one recorded beside it.
    events = list(
        CaseEvent.objects.filter(case_id=case.pk)
        .select_related("case", "actor", "actor__organisation")
        .order_by("seq")
    )
    state = events[0].case.state if events else Case.objects.values_list("state", flat=True).get(pk=case.pk)
    document = {
        "format": "rightsdesk-timeline",
        "version": BUNDLE_VERSION,
        "case": {"id": case.pk, "reference": case.reference, "state": state},
        "events": [
            {
                "seq": event.seq,
                "action": event.action,
                "actor": None
                if event.actor is None
                else {
                    "id": event.actor_id,
                    "name": str(event.actor),
                    "organisation": event.actor.organisation.slug if event.actor.organisation else None,
                },
                "from_state": event.from_state,
                "to_state": event.to_state,
                "data": event.data,
                "created_at": event.created_at.isoformat(),
                "prev_hash": event.prev_hash,
                "hash": event.hash,
            }
            for event in events
        ],
    }
    return document, events


def _evidence_files(case: Case, events: list[CaseEvent]) -> list[dict]:
    """Return one entry per distinct file the timeline names, in the order first named."""
    shas = list(
        dict.fromkeys(
            event.data.get("sha256")
            for event in events
            if event.action == "evidence_added" and isinstance(event.data, dict) and event.data.get("sha256")
        )
    )
    rows = Evidence.objects.filter(case_id=case.pk, sha256__in=shas).order_by("id")
    files: dict[str, dict] = {}
    for evidence in rows:
        entry = files.setdefault(
            evidence.sha256,
            {"storage": evidence.file.name, "content_type": evidence.content_type, "names": []},
        )
        if evidence.original_name not in entry["names"]:
            entry["names"].append(evidence.original_name)
    return [{"sha256": sha, **files[sha]} for sha in shas if sha in files]


def bundle_write(*, case: Case, target) -> dict:
    """Write the case's evidence bundle as a ZIP into the binary file ``target``; return the manifest.

    Files are copied from storage in chunks, never held in memory whole. Raises ApplicationError
    when a stored file has gone missing (the bundle would be incomplete).
    """
    generated_at = timezone.now()
    timeline, events = _timeline_document(case)
    timeline_bytes = _json_bytes(timeline)
    timeline_entry = {
        "path": TIMELINE,
        "size": len(timeline_bytes),
        "sha256": hashlib.sha256(timeline_bytes).hexdigest(),
    }
    entries = [timeline_entry]
    with zipfile.ZipFile(target, "w", allowZip64=True) as archive:
        archive.writestr(_zip_info(TIMELINE, generated_at, compress=True), timeline_bytes)
        for item in _evidence_files(case, events):
            path = f"evidence/{item['sha256']}{EXTENSIONS.get(item['content_type'], '')}"
            digest, size = hashlib.sha256(), 0
            info = _zip_info(path, generated_at, compress=item["content_type"] not in STORED_TYPES)
            try:
                source = default_storage.open(item["storage"], "rb")
            except FileNotFoundError:
                raise ApplicationError(
                    _("A stored evidence file (SHA-256 %(sha256)s) is missing; the bundle cannot be made.")
                    % {"sha256": item["sha256"]},
                    code="evidence_missing",
                    status_code=409,
                ) from None
            with source, archive.open(info, "w", force_zip64=True) as sink:
                for chunk in iter(partial(source.read, _CHUNK), b""):
                    digest.update(chunk)
                    size += len(chunk)
                    sink.write(chunk)
            # The SHA-256 of the bytes copied, not the one on record: a file damaged in storage
            # then shows up as a mismatch with its name and its timeline event.
            entries.append(
                {
                    "path": path,
                    "size": size,
                    "sha256": digest.hexdigest(),
                    "content_type": item["content_type"],
                    "names": item["names"],
                }
            )
        manifest = {
            "format": BUNDLE_FORMAT,
            "version": BUNDLE_VERSION,
            "case": case.reference,
            "generated_at": generated_at.isoformat(),
            "timeline_sha256": timeline_entry["sha256"],
            "last_event_hash": events[-1].hash if events else None,
            "files": entries,
        }
        archive.writestr(_zip_info(MANIFEST, generated_at, compress=True), _json_bytes(manifest))
    return manifest


def bundle_build(*, case: Case) -> SpooledTemporaryFile:
    """Return the bundle in a temporary file (in memory up to 16 MB, on disk beyond), rewound."""
    spool = SpooledTemporaryFile(max_size=_SPOOL_BYTES, mode="w+b")  # noqa: SIM115  (the caller closes it)
    try:
        bundle_write(case=case, target=spool)
    except BaseException:
        spool.close()
        raise
    spool.seek(0)
    return spool


def bundle_filename(case: Case) -> str:
    return f"{case.reference}-evidence-bundle.zip"


# --- Verification (no database) --------------------------------------------------------------


@dataclass
class BundleReport:
    problems: list[str] = field(default_factory=list)
    reference: str = ""
    events: int = 0
    files: int = 0
    last_hash: str = ""

    @property
    def ok(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        return (
            f"{self.reference}: {self.events} events, hash chain intact (last {self.last_hash[:16]}…); "
            f"{self.files} evidence files, every size and SHA-256 as the manifest says"
        )


def _read_entry(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> tuple[str | None, int, bytes | None, str]:
    """Return (sha256, size, bytes if small JSON else None, error) of one entry, reading in chunks."""
    digest, size, keep = hashlib.sha256(), 0, info.filename in (MANIFEST, TIMELINE)
    kept = bytearray()
    try:
        with archive.open(info) as stream:
            for chunk in iter(lambda: stream.read(_CHUNK), b""):
                digest.update(chunk)
                size += len(chunk)
                if keep:
                    kept.extend(chunk)
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError) as exc:
        return None, size, None, str(exc)
    return digest.hexdigest(), size, bytes(kept) if keep else None, ""


def _timeline_events(document: dict) -> list[CaseEvent]:
    case_id = document["case"]["id"]
    events = []
    for item in document["events"]:
        actor = item.get("actor")
        events.append(
            CaseEvent(
                case_id=case_id,
                seq=item["seq"],
                actor_id=actor["id"] if actor else None,
                action=item["action"],
                from_state=item["from_state"],
                to_state=item["to_state"],
                data=item["data"],
                created_at=datetime.fromisoformat(item["created_at"]),
                prev_hash=item["prev_hash"],
                hash=item["hash"],
            )
        )
    return events


def bundle_verify(source) -> BundleReport:
    """Check a bundle (a path or a binary file); the report lists every problem found."""
    report = BundleReport()
    problems = report.problems
    try:
        archive = zipfile.ZipFile(source)
    except (zipfile.BadZipFile, OSError) as exc:
        problems.append(f"not a readable ZIP file: {exc}")
        return report
    with archive:
        infos = archive.infolist()
        names = [info.filename for info in infos]
        for name in sorted({name for name in names if names.count(name) > 1}):
            problems.append(f"{name}: appears more than once in the ZIP")
        if MANIFEST not in names:
            problems.append(f"{MANIFEST}: missing")
            return report
        read = {}
        for info in infos:
            sha256, size, content, error = _read_entry(archive, info)
            if error:
                problems.append(f"{info.filename}: altered or damaged (the ZIP cannot read it back: {error})")
            read[info.filename] = (sha256, size, content)
        manifest_bytes = read[MANIFEST][2]
        if manifest_bytes is None:
            return report
        try:
            manifest = json.loads(manifest_bytes)
            entries = {entry["path"]: entry for entry in manifest["files"]}
            report.reference = str(manifest["case"])
            if manifest.get("format") != BUNDLE_FORMAT:
                problems.append(f"{MANIFEST}: not a RightsDesk evidence bundle")
        except (ValueError, KeyError, TypeError) as exc:
            problems.append(f"{MANIFEST}: unreadable ({exc})")
            return report

        for path, entry in entries.items():
            if path not in read:
                problems.append(f"{path}: missing from the bundle")
                continue
            sha256, size, _content = read[path]
            if sha256 is None:
                continue  # already reported as unreadable
            if size != entry.get("size"):
                problems.append(f"{path}: altered: {size} bytes, the manifest says {entry.get('size')}")
            if sha256 != entry.get("sha256"):
                problems.append(
                    f"{path}: altered: its SHA-256 is {sha256}, the manifest says {entry.get('sha256')}"
                )
        for path in names:
            if path != MANIFEST and path not in entries:
                problems.append(f"{path}: not listed in the manifest")
        if manifest.get("timeline_sha256") != entries.get(TIMELINE, {}).get("sha256"):
            problems.append(f"{MANIFEST}: the timeline's SHA-256 differs from its file entry")

        files = {}
        for path in entries:
            if path == TIMELINE:
                continue
            match = EVIDENCE_PATH.match(path)
            if match is None:
                problems.append(f"{path}: not an evidence file name (evidence/<sha256>.<ext>)")
                continue
            files[match["sha256"]] = path
            sha256 = read.get(path, (None,))[0]
            if sha256 is not None and sha256 != match["sha256"]:
                problems.append(f"{path}: altered: its bytes do not have the SHA-256 in its name")
        report.files = len(files)

        timeline_bytes = read.get(TIMELINE, (None, 0, None))[2]
        if timeline_bytes is None:
            if TIMELINE in read and read[TIMELINE][0] is not None:
                problems.append(f"{TIMELINE}: empty")
            return report
        _verify_timeline(timeline_bytes, report, files)
    return report


def _verify_timeline(timeline_bytes: bytes, report: BundleReport, files: dict[str, str]) -> None:
    problems = report.problems
    try:
        document = json.loads(timeline_bytes)
        events = _timeline_events(document)
        case = document["case"]
    except (ValueError, KeyError, TypeError) as exc:
        problems.append(f"{TIMELINE}: unreadable ({exc})")
        return
    if case.get("reference") != report.reference:
        problems.append(f"{TIMELINE}: is the timeline of {case.get('reference')}, not of {report.reference}")
    report.events = len(events)
    report.last_hash = events[-1].hash if events else ""
    for problem in chain_problems(
        reference=str(case.get("reference")), state=case.get("state"), events=events
    ):
        problems.append(f"{TIMELINE}: {problem}")
    named = {}
    for event in events:
        if event.action == "evidence_added" and isinstance(event.data, dict) and event.data.get("sha256"):
            named.setdefault(event.data["sha256"], event.seq)
    for sha256, seq in named.items():
        if sha256 not in files:
            problems.append(
                f"{TIMELINE}: event #{seq} adds evidence {sha256} but the bundle has no such file"
            )
    for sha256, path in files.items():
        if sha256 not in named:
            problems.append(f"{path}: no evidence_added event of the timeline names it")
