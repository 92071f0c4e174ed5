"""Time the near-duplicate lookup among N stored fingerprints, and the hashing of one picture and one video.

    python bench/near_duplicates.py [--fingerprints 1000000] [--queries 200] [--bits 8]

Uses BENCH_DATABASE_URL (default: the rightsdesk_bench database on local PostgreSQL). The stored
hashes are uniformly random 64-bit values written with INSERT ... SELECT generate_series; each
query is a stored hash with up to --bits bits flipped, so every lookup must find its original.
"""

import argparse
import io
import random
import sys
import time
from pathlib import Path

from _setup import django_on_bench_database, fresh_bench_parties, percentile

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--fingerprints", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--bits", type=int, default=8)
    args = parser.parse_args()
    django_on_bench_database()

    from django.db import connection
    from django.utils import timezone

    from claims.integrity import hashing
    from claims.integrity.models import EvidenceFingerprint
    from claims.integrity.services import near_fingerprints
    from claims.models import Case

    per_file = 1000
    files = max(1, args.fingerprints // per_file)
    print(f"preparing {files * per_file:,} fingerprints ({files:,} files) …", flush=True)
    started = time.perf_counter()
    member, provider, user = fresh_bench_parties()
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO claims_case (reference, kind, state, claimant_id, respondent_id, filed_by_id, title,
                description, legal_basis, remedies, priority, resume_state, dispute_count, close_outcome,
                close_note, created_at, submitted_at, updated_at)
            SELECT 'CL-2026-' || lpad(g::text, 7, '0'), 'claim', 'submitted', %s, %s, %s, 'Bench case ' || g,
                'A generated picture resembling our work.', 'reproduction', '[]', 'normal', '', 0, '', '',
                %s, %s, %s
            FROM generate_series(1, 2) AS g
            """,
            [member.pk, provider.pk, user.pk, now, now, now],
        )
        haystack, query_case = Case.objects.order_by("pk").values_list("pk", flat=True)[:2]
        cursor.execute(
            """
            INSERT INTO claims_evidence (case_id, file, sha256, content_type, size, original_name,
                description, uploaded_by_id, uploaded_at)
            SELECT %s, 'evidence/bench/' || g, lpad(to_hex(g), 64, '0'), 'video/mp4', 1, 'bench.mp4', '',
                %s, %s
            FROM generate_series(1, %s) AS g
            """,
            [haystack, user.pk, now, files],
        )
        cursor.execute(
            """
            INSERT INTO claims_evidencefingerprint
                (evidence_id, case_id, frame, at_ms, hash, band0, band1, band2, band3)
            SELECT e.id, e.case_id, f.frame, NULL, h.value,
                ((h.value >> 48) & 65535)::int, ((h.value >> 32) & 65535)::int,
                ((h.value >> 16) & 65535)::int, (h.value & 65535)::int
            FROM claims_evidence e
            CROSS JOIN generate_series(0, %s - 1) AS f(frame)
            CROSS JOIN LATERAL (
                SELECT ((floor(random() * 4294967296)::bigint << 32)
                        | floor(random() * 4294967296)::bigint + (e.id * 0)) AS value
            ) h
            WHERE e.case_id = %s
            """,
            [per_file, haystack],
        )
        cursor.execute("ANALYZE claims_evidencefingerprint")
    total = EvidenceFingerprint.objects.count()
    print(f"prepared in {time.perf_counter() - started:.1f} s: {total:,} fingerprints", flush=True)

    rng = random.Random(6)
    stored = [
        hashing.to_unsigned(value)
        for value in EvidenceFingerprint.objects.order_by("?").values_list("hash", flat=True)[: args.queries]
    ]
    timings, candidates, found = [], [], 0
    radius = hashing.band_radius(args.bits)
    for value in stored:
        query = value
        for bit in rng.sample(range(64), rng.randint(0, args.bits)):
            query ^= 1 << bit
        begun = time.perf_counter()
        rows = near_fingerprints(value=query, threshold=args.bits, exclude_case_id=query_case)
        timings.append(time.perf_counter() - begun)
        found += any(distance == hashing.hamming(query, value) for _e, _c, distance in rows)
        lookup = " OR ".join(f"band{i} = ANY(%s)" for i in range(hashing.BAND_COUNT))
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT count(*) FROM claims_evidencefingerprint WHERE {lookup}",
                [hashing.band_neighbours(band, radius) for band in hashing.bands(query)],
            )
            candidates.append(cursor.fetchone()[0])
    print(
        f"lookup within {args.bits} bits among {total:,}: median {percentile(timings, 0.5) * 1000:.1f} ms, "
        f"p95 {percentile(timings, 0.95) * 1000:.1f} ms, max {max(timings) * 1000:.1f} ms; "
        f"{found}/{len(stored)} originals found; candidates checked median {percentile(candidates, 0.5):,.0f}"
    )
    exact_bands = args.bits + 1
    print(
        f"({exact_bands} exact-match bands would check "
        f"~{total * exact_bands / 2 ** (64 // exact_bands):,.0f})"
    )

    from PIL import Image, ImageDraw

    picture = Image.new("RGB", (1920, 1080), (20, 60, 90))
    draw = ImageDraw.Draw(picture)
    for i in range(40):
        draw.ellipse(
            [i * 45, (i * 97) % 900, i * 45 + 300, (i * 97) % 900 + 200], fill=(i * 6, 255 - i * 6, 128)
        )
    for fmt in ("PNG", "JPEG"):
        buffer = io.BytesIO()
        picture.save(buffer, fmt)
        begun = time.perf_counter()
        hashing.image_hashes(io.BytesIO(buffer.getvalue()))
        print(f"hash one 1920x1080 {fmt}: {(time.perf_counter() - begun) * 1000:.0f} ms")

    import av

    buffer = io.BytesIO()
    with av.open(buffer, "w", format="mp4") as output:
        stream = output.add_stream("libx264", rate=25)
        stream.width, stream.height, stream.pix_fmt = 1280, 720, "yuv420p"
        small = picture.resize((1280, 720))
        for index in range(25 * 60):
            frame = small.copy()
            ImageDraw.Draw(frame).rectangle([index % 1200, 300, index % 1200 + 80, 380], fill=(255, 255, 0))
            for packet in stream.encode(av.VideoFrame.from_image(frame)):
                output.mux(packet)
        for packet in stream.encode():
            output.mux(packet)
    begun = time.perf_counter()
    frames = hashing.video_hashes(io.BytesIO(buffer.getvalue()))
    print(
        f"hash one 60 s 1280x720 H.264 video ({len(buffer.getvalue()) / 1e6:.1f} MB, {len(frames)} frames): "
        f"{(time.perf_counter() - begun) * 1000:.0f} ms"
    )


if __name__ == "__main__":
    main()
