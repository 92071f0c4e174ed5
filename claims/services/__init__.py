"""Writes to cases. Views, forms, API and tasks call these; nothing else changes a case."""

from .cases import (
    case_create,
    evidence_add,
    message_post,
    outputs_import_csv,
    parse_outputs_csv,
)
from .timeline import event_record, timeline_verify
from .transitions import ACTIONS, case_transition

__all__ = [
    "ACTIONS",
    "case_create",
    "case_transition",
    "event_record",
    "evidence_add",
    "message_post",
    "outputs_import_csv",
    "parse_outputs_csv",
    "timeline_verify",
]
