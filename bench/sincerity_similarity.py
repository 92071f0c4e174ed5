"""How long the templated-response check takes when a provider has tens of thousands of responses.

Fills the bench database with one provider's RESPONSES responses (spread over CASES cases, texts
built from a few templates and a pool of sentences, so many are alike), indexes them as the
respond transition does, then times ``similarity_find`` (one indexed query on the band keys,
then exact 3-gram Jaccard on the best candidates) for near copies and for fresh texts, and
shows the query plan of the candidate lookup.

    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/rd_sincerity_bench \
        .venv/bin/python bench/sincerity_similarity.py --responses 20000
"""

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _setup import django_on_bench_database, fresh_bench_parties, percentile  # noqa: E402

NAMES = [
    "Tanaka",
    "Suzuki",
    "Sato",
    "Watanabe",
    "Ito",
    "Yamamoto",
    "Nakamura",
    "Kobayashi",
    "Kato",
    "Yoshida",
]
OPENINGS = [
    "Dear {name}, thank you for your report about our video model.",
    "Hello {name}. We have received your claim and reviewed it with our trust and safety team.",
    "{name}様 ご連絡ありがとうございます。ご指摘の出力を確認いたしました。",
]


def sentence_pool(rng):
    verbs = ["removed", "blocked", "reviewed", "escalated", "disabled", "flagged", "retrained", "filtered"]
    objects = [
        "the output",
        "the prompt",
        "the share link",
        "the account",
        "the model version",
        "the style preset",
    ]
    reasons = [
        "it resembles your character",
        "it reproduces the scene",
        "the user broke our policy",
        "the prompt names your work",
        "we found no match",
        "the output is original",
    ]
    return [
        f"We {rng.choice(verbs)} {rng.choice(objects)} because {rng.choice(reasons)}"
        f" (ticket {rng.randint(1000, 9999)})."
        for _ in range(400)
    ]


def response_parts(rng, pool):
    summary = rng.choice(OPENINGS).format(name=rng.choice(NAMES)) + " " + " ".join(rng.sample(pool, 3))
    items = [(" ".join(rng.sample(pool, 2)), rng.choice(pool)) for _ in range(rng.randint(1, 3))]
    return summary, items


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--responses", type=int, default=20000)
    parser.add_argument("--cases", type=int, default=500)
    parser.add_argument("--probes", type=int, default=200)
    args = parser.parse_args()

    django_on_bench_database()
    from django.db import connection, transaction
    from django.utils import timezone

    from claims.models import Case, Output, Response, ResponseItem
    from claims.sincerity.models import ResponseBand
    from claims.sincerity.services import similarity_find
    from claims.sincerity.similarity import band_keys, minhash, response_text, shingles

    member, provider, user = fresh_bench_parties()
    rng = random.Random(2026)
    pool = sentence_pool(rng)
    now = timezone.now()
    cases = Case.objects.bulk_create(
        Case(
            reference=f"CL-2026-{i + 1:06d}",
            claimant=member,
            respondent=provider,
            filed_by=user,
            title=f"Bench {i}",
            description="Bench case.",
            state="responded",
            submitted_at=now,
        )
        for i in range(args.cases)
    )
    outputs = Output.objects.bulk_create(
        Output(case=case, product="VidGen", url=f"https://v.example/{case.pk}", seen_at=now) for case in cases
    )
    output_of = {output.case_id: output for output in outputs}

    started = time.perf_counter()
    texts = []
    batch = 2000
    for start in range(0, args.responses, batch):
        parts = [response_parts(rng, pool) for _ in range(min(batch, args.responses - start))]
        with transaction.atomic():
            rows = Response.objects.bulk_create(
                Response(
                    case=cases[(start + i) % len(cases)],
                    author=user,
                    summary=summary,
                    contact_name="Bench",
                    contact_email="bench@provider.bench",
                )
                for i, (summary, _items) in enumerate(parts)
            )
            ResponseItem.objects.bulk_create(
                ResponseItem(
                    response=row,
                    output=output_of[row.case_id],
                    outcome="removed",
                    rationale=items[0][0],
                    measures=items[0][1],
                )
                for row, (_summary, items) in zip(rows, parts, strict=True)
            )
            bands = []
            for row, (summary, items) in zip(rows, parts, strict=True):
                text = response_text(summary, items[:1])
                texts.append((row.case_id, text))
                for key in set(band_keys(minhash(shingles(text)))):
                    bands.append(ResponseBand(provider=provider, case_id=row.case_id, response=row, key=key))
            ResponseBand.objects.bulk_create(bands, batch_size=5000)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE claims_responseband")
    print(
        f"indexed {args.responses} responses of one provider in {time.perf_counter() - started:.1f} s "
        f"({ResponseBand.objects.count()} band rows)"
    )

    other_case = Case.objects.create(
        reference="CL-2026-999999",
        claimant=member,
        respondent=provider,
        filed_by=user,
        title="Probe",
        description="Probe.",
        state="acknowledged",
        submitted_at=now,
    )
    for label, make in (
        (
            "near copy (a name changed)",
            lambda: rng.choice(texts)[1].replace("tanaka", "kimura").replace("suzuki", "mori"),
        ),
        ("fresh text", lambda: response_text(*response_parts(rng, pool))),
    ):
        timings, scores = [], []
        for _ in range(args.probes):
            text = make()
            t0 = time.perf_counter()
            match = similarity_find(provider_id=provider.pk, case_id=other_case.pk, text=text)
            timings.append((time.perf_counter() - t0) * 1000)
            scores.append(match.similarity or 0.0)
        print(
            f"{label:28s} p50 {statistics.median(timings):6.1f} ms  p95 {percentile(timings, 0.95):6.1f} ms  "
            f"max {max(timings):6.1f} ms  median similarity {statistics.median(scores):.2f}  "
            f"templated (>=0.85) {sum(s >= 0.85 for s in scores)}/{len(scores)}"
        )

    keys = band_keys(minhash(shingles(texts[0][1])))
    query = (
        ResponseBand.objects.filter(provider_id=provider.pk, key__in=keys)
        .exclude(case_id=other_case.pk)
        .values("response_id")
        .order_by()
    )
    sql, params = query.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, COSTS OFF) {sql}", params)
        print("\n".join(row[0] for row in cursor.fetchall()))


if __name__ == "__main__":
    main()
