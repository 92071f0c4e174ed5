"""Checking and storing evidence files: type from the bytes, SHA-256, content-addressed."""

import codecs
import hashlib
import re
from pathlib import PurePath

import filetype
from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

from members.errors import ApplicationError

ALLOWED_TYPES = {
    "image/png",
    "image/jpeg",
    "image/webp",
    "image/gif",
    "video/mp4",
    "video/webm",
    "video/quicktime",
    "application/pdf",
    "text/plain",
}
ALLOWED_DESCRIPTION = "PNG, JPEG, WebP, GIF, MP4, WebM, MOV, PDF, plain text"
_CHUNK = 1024 * 1024


def _chunks(upload):
    upload.seek(0)
    yield from upload.chunks(_CHUNK) if hasattr(upload, "chunks") else iter(lambda: upload.read(_CHUNK), b"")


# Control characters other than tab, line feed, form feed and carriage return mark a binary file.
_BINARY_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")


def _is_plain_text(upload) -> bool:
    """Return whether the whole file is UTF-8 text without control bytes other than whitespace."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        for chunk in _chunks(upload):
            text = decoder.decode(chunk)
            if _BINARY_CONTROL.search(text):
                return False
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def sniff_content_type(upload) -> str | None:
    """Return the allowed MIME type the file's bytes show, or None."""
    upload.seek(0)
    head = upload.read(8192)
    upload.seek(0)
    kind = filetype.guess(head)
    if kind is not None:
        mime = kind.mime
        if mime == "video/x-m4v":
            mime = "video/mp4"
        return mime if mime in ALLOWED_TYPES else None
    return "text/plain" if _is_plain_text(upload) else None


def inspect_upload(upload) -> tuple[str, str, int]:
    """Check one uploaded file and return (sha256, content type, size).

    Raises ApplicationError for an empty, oversize or disallowed file.
    """
    name = PurePath(getattr(upload, "name", "") or "").name or _("The file")
    limit = settings.EVIDENCE_MAX_BYTES

    def check_size(size):
        if not size:
            raise ApplicationError(_("%(name)s is empty.") % {"name": name}, code="evidence_empty")
        if size > limit:
            raise ApplicationError(
                _("%(name)s is %(size)s; the limit is %(limit)s.")
                % {"name": name, "size": filesizeformat(size), "limit": filesizeformat(limit)},
                code="evidence_too_large",
            )

    # The declared size refuses a huge file before reading it; the counted size is what is stored.
    declared = getattr(upload, "size", None)
    if declared:
        check_size(declared)
    digest = hashlib.sha256()
    size = 0
    for chunk in _chunks(upload):
        digest.update(chunk)
        size += len(chunk)
    check_size(size)
    content_type = sniff_content_type(upload)
    if content_type is None:
        raise ApplicationError(
            _("%(name)s is not an allowed type of file (%(allowed)s); its contents were checked.")
            % {"name": name, "allowed": ALLOWED_DESCRIPTION},
            code="evidence_type_not_allowed",
        )
    upload.seek(0)
    return digest.hexdigest(), content_type, size


def content_file_put(upload, *, name: str, size: int) -> str:
    """Store checked bytes under their content address ``name`` unless already stored; return it.

    Files are never changed once stored, so identical bytes share one copy.
    """
    from django.core.files.storage import default_storage

    if default_storage.exists(name):
        if default_storage.size(name) == size:
            return name
        # A write that was cut short (a crash mid-upload) must not stand in for the real bytes.
        default_storage.delete(name)
    upload.seek(0)
    saved = default_storage.save(name, upload)
    if saved != name:
        # A concurrent upload of the same bytes got there first; its copy is identical.
        default_storage.delete(saved)
    return name


def stored_file_response(stored, *, as_attachment: bool = True):
    """Return a stored file (evidence, a work's reference image) that no browser will sniff into another type.

    ``stored`` has ``file``, ``original_name`` and ``content_type``; callers fetch it through a
    selector scoped to the user. A stored file that has gone missing is a 404, not a 500.
    """
    from django.http import FileResponse, Http404

    try:
        handle = stored.file.open("rb")
    except FileNotFoundError:
        raise Http404("The stored file is missing.") from None
    response = FileResponse(
        handle, as_attachment=as_attachment, filename=stored.original_name, content_type=stored.content_type
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response
