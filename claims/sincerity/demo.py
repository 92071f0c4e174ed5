"""Demo data for sincerity: a few verdicts on the demo's challenged responses (called by seed_demo).

The demo's providers answer from small pools of phrases, so the history already holds
templated responses, flagged by the respond transition itself; this adds the association's
verdicts, through the same service the pages use.
"""

from claims.models import Response, Sincerity
from claims.sincerity.services import response_adjudicate

# (verdict, note) for the longest-waiting challenged responses, in turn.
DEMO_VERDICTS = [
    (
        Sincerity.INSINCERE,
        "定型文のみで、指摘した各出力への個別の回答と措置の説明がありません。"
        " (Boilerplate only: no answer or measure for the outputs cited.)",
    ),
    (
        Sincerity.SINCERE,
        "各出力について措置と理由が示されています。 (Each output has a measure and a rationale.)",
    ),
    (
        Sincerity.INSINCERE,
        "他の案件への回答と同一の文面で、本件の出力に触れていません。"
        " (The same text as answers to other cases; it ignores these outputs.)",
    ),
]


def adjudications_seed(*, cast) -> int:
    """Judge the longest-waiting challenged responses (one per verdict above); return how many."""
    judges = [cast.analyst, cast.association_admin]
    challenged = Response.objects.filter(sincerity=Sincerity.CHALLENGED).order_by("disputed_at", "id")
    count = 0
    for index, (response, (verdict, note)) in enumerate(
        zip(challenged[: len(DEMO_VERDICTS)], DEMO_VERDICTS, strict=False)
    ):
        response_adjudicate(response=response, actor=judges[index % len(judges)], verdict=verdict, note=note)
        count += 1
    return count
