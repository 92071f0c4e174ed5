"""Perceptual hashing: pictures and video made here, and the bit arithmetic of the band index.

The generators are used by the other test_integrity* modules.
"""

import io
import math
import random

import av
import pytest
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image, ImageDraw

from claims.integrity import hashing

WIDTH, HEIGHT = 640, 360


def scene(seed: int, size=(WIDTH, HEIGHT)) -> Image.Image:
    """Return a picture with structure (overlapping shapes on a coloured ground), not a flat colour."""
    rng = random.Random(seed)
    picture = Image.new("RGB", (WIDTH, HEIGHT), tuple(rng.randrange(256) for _ in range(3)))
    draw = ImageDraw.Draw(picture)
    for _ in range(25):
        x0, y0 = rng.randrange(WIDTH), rng.randrange(HEIGHT)
        box = [x0, y0, x0 + rng.randrange(20, WIDTH // 2), y0 + rng.randrange(20, HEIGHT // 2)]
        colour = tuple(rng.randrange(256) for _ in range(3))
        (draw.rectangle if rng.random() < 0.5 else draw.ellipse)(box, fill=colour)
    return picture if size == (WIDTH, HEIGHT) else picture.resize(size, Image.LANCZOS)


def encoded(picture: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    picture.save(buffer, fmt, **options)
    return buffer.getvalue()


def png_scene(seed: int) -> bytes:
    return encoded(scene(seed), "PNG")


def jpeg_resized(seed: int, scale: float = 0.5, quality: int = 70) -> bytes:
    size = (round(WIDTH * scale), round(HEIGHT * scale))
    return encoded(scene(seed, size), "JPEG", quality=quality)


def video(seed: int, *, size=(320, 180), seconds=3, fps=12, codec="libx264", container="mp4", bit_rate=None):
    """Return a short video of shapes moving over a scene, encoded with the bundled FFmpeg."""
    background = scene(seed)
    buffer = io.BytesIO()
    with av.open(buffer, "w", format=container) as output:
        stream = output.add_stream(codec, rate=fps)
        stream.width, stream.height = size
        stream.pix_fmt = "yuv420p"
        if bit_rate:
            stream.bit_rate = bit_rate
        for index in range(seconds * fps):
            t = index / fps
            frame = background.copy()
            draw = ImageDraw.Draw(frame)
            x = int((WIDTH - 120) * (0.5 + 0.5 * math.sin(t * 1.3)))
            y = int((HEIGHT - 80) * (0.5 + 0.5 * math.cos(t * 0.9)))
            draw.ellipse([x, y, x + WIDTH // 6, y + HEIGHT // 6], fill=(255, 255, 0))
            left = int(WIDTH * t / seconds)
            draw.rectangle(
                [left, HEIGHT // 3, left + WIDTH // 5, HEIGHT // 3 + HEIGHT // 4], fill=(0, 0, 200)
            )
            picture = frame.resize(size, Image.LANCZOS)
            for packet in stream.encode(av.VideoFrame.from_image(picture)):
                output.mux(packet)
        for packet in stream.encode():
            output.mux(packet)
    return buffer.getvalue()


def test_a_resized_jpeg_copy_is_within_two_bits_and_an_unrelated_picture_far_away():
    original = hashing.image_hashes(io.BytesIO(png_scene(1)))[0].value
    copies = [
        hashing.image_hashes(io.BytesIO(jpeg_resized(1, scale, q)))[0].value
        for scale, q in [(0.5, 70), (0.25, 40)]
    ]
    unrelated = hashing.image_hashes(io.BytesIO(png_scene(2)))[0].value

    assert all(hashing.hamming(original, copy) <= 2 for copy in copies)
    assert hashing.hamming(original, unrelated) > 16


def test_a_flat_picture_has_no_fingerprint():
    flat = encoded(Image.new("RGB", (200, 100), (30, 30, 30)), "PNG")

    assert hashing.image_hashes(io.BytesIO(flat)) == []


def test_a_re_encoded_video_is_hashed_at_the_same_moments_with_the_same_frames():
    first = hashing.video_hashes(io.BytesIO(video(3)))
    second = hashing.video_hashes(io.BytesIO(video(3, size=(160, 90), codec="mpeg4", bit_rate=100_000)))

    assert [f.at_ms for f in first] == [f.at_ms for f in second] == [500, 1500, 2500]
    assert all(hashing.hamming(a.value, b.value) <= 4 for a, b in zip(first, second, strict=True))


def test_bytes_that_are_not_a_video_are_unreadable():
    with pytest.raises(hashing.UnreadableMedia):
        hashing.video_hashes(io.BytesIO(b"\x00\x00\x00\x18ftypisom" + b"\x00" * 100))


@pytest.mark.parametrize(
    ("duration", "moments"),
    [(0.3, [0.5]), (2.9, [0.5, 1.5, 2.5]), (3.0, [0.5, 1.5, 2.5]), (16.0, [i + 0.5 for i in range(16)])],
)
def test_sample_moments_depend_only_on_the_duration(duration, moments):
    assert hashing.video_sample_times(duration) == moments


def test_a_long_video_gives_sixteen_evenly_spread_moments():
    moments = hashing.video_sample_times(320.0)

    assert len(moments) == 16
    assert moments[0] == 10.0 and moments[-1] == 310.0


hashes = st.integers(min_value=0, max_value=(1 << 64) - 1)


@given(value=hashes, flips=st.sets(st.integers(min_value=0, max_value=63), max_size=16))
def test_any_hash_within_the_threshold_shares_a_band_neighbourhood(value, flips):
    """The pigeonhole guarantee: the band lookup never misses a hash within the threshold."""
    other = value
    for bit in flips:
        other ^= 1 << bit
    threshold = len(flips)
    radius = hashing.band_radius(threshold)

    assert hashing.hamming(value, other) == threshold
    assert any(
        theirs in hashing.band_neighbours(ours, radius)
        for ours, theirs in zip(hashing.bands(value), hashing.bands(other), strict=True)
    )


@given(value=hashes)
def test_signed_storage_round_trips(value):
    signed = hashing.to_signed(value)

    assert -(1 << 63) <= signed < 1 << 63
    assert hashing.to_unsigned(signed) == value
    assert hashing.bands(signed) == hashing.bands(value)


def test_band_neighbourhoods_have_the_expected_size():
    assert len(hashing.band_neighbours(0x1234, 0)) == 1
    assert len(set(hashing.band_neighbours(0x1234, 1))) == 17
    assert len(set(hashing.band_neighbours(0x1234, 2))) == 137


@pytest.mark.parametrize(
    ("new", "other", "needed"), [(1, 1, 1), (1, 16, 1), (16, 1, 1), (3, 3, 2), (16, 12, 6)]
)
def test_frames_needed(new, other, needed):
    assert hashing.frames_needed(new, other) == needed
