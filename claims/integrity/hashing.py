"""Perceptual hashes of images and video frames, and the bit arithmetic that finds near copies.

Pure functions: no database. A hash is the 64-bit DCT hash (pHash) of ImageHash, held as an
unsigned ``int`` here and as a signed ``bigint`` in the database.

Near copies are found with a multi-index hash: the 64 bits are cut into four 16-bit bands, each
indexed. Two hashes within ``threshold`` bits of each other differ in at most
``threshold // 4`` bits in at least one band (pigeonhole), so the candidates are the rows whose
band equals a value within that radius of the query's band, in any of the four bands; the exact
distance is then checked on those few rows only.
"""

import math
from dataclasses import dataclass
from fractions import Fraction
from itertools import combinations

import imagehash
from PIL import Image, ImageOps, ImageStat

HASH_BITS = 64
BAND_COUNT = 4
BAND_BITS = HASH_BITS // BAND_COUNT
BAND_MASK = (1 << BAND_BITS) - 1
# A frame this flat (standard deviation of its grey levels, 0-255) carries no picture to compare:
# every black or white frame would "match" every other.
FLAT_FRAME_STDDEV = 6.0
# Video: one frame a second from 0.5 s for a clip up to VIDEO_MAX_FRAMES seconds, else
# VIDEO_MAX_FRAMES frames evenly spread. Positions depend only on the duration, which re-encoding
# keeps, so a re-encoded copy is sampled at the same moments.
VIDEO_MAX_FRAMES = 16
# Frames are scaled down before hashing (pHash itself works on 32 x 32 pixels).
DECODE_WIDTH = 256

IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/webp", "image/gif"})
VIDEO_TYPES = frozenset({"video/mp4", "video/webm", "video/quicktime"})


class UnreadableMedia(Exception):
    """The file's bytes could not be decoded as the picture or video its type says."""


@dataclass(frozen=True)
class FrameHash:
    """The hash of one picture: the image itself (frame 0), or one video frame at ``at_ms``."""

    frame: int
    at_ms: int | None
    value: int  # unsigned 64-bit


def to_signed(value: int) -> int:
    """Return the unsigned 64-bit value as PostgreSQL's signed bigint holds it."""
    return value - (1 << 64) if value >= 1 << 63 else value


def to_unsigned(value: int) -> int:
    return value + (1 << 64) if value < 0 else value


def hamming(a: int, b: int) -> int:
    """Return how many of the 64 bits differ (signed or unsigned values alike)."""
    return ((a ^ b) & ((1 << 64) - 1)).bit_count()


def bands(value: int) -> tuple[int, ...]:
    """Return the four 16-bit bands of an (unsigned or signed) hash, most significant first."""
    value = to_unsigned(value)
    return tuple((value >> (BAND_BITS * (BAND_COUNT - 1 - i))) & BAND_MASK for i in range(BAND_COUNT))


def band_radius(threshold: int) -> int:
    """Return how far a band must be searched so that no hash within ``threshold`` bits is missed."""
    return threshold // BAND_COUNT


def band_neighbours(band: int, radius: int) -> list[int]:
    """Return every 16-bit value within ``radius`` bits of ``band`` (itself included)."""
    values = [band]
    for flips in range(1, radius + 1):
        for positions in combinations(range(BAND_BITS), flips):
            mask = 0
            for position in positions:
                mask |= 1 << position
            values.append(band ^ mask)
    return values


def _is_flat(picture: Image.Image) -> bool:
    return ImageStat.Stat(picture.convert("L")).stddev[0] < FLAT_FRAME_STDDEV


def picture_hash(picture: Image.Image) -> int | None:
    """Return the unsigned pHash of a picture, or None when it is too flat to compare."""
    if _is_flat(picture):
        return None
    return int(str(imagehash.phash(picture)), 16)


def image_hashes(stream) -> list[FrameHash]:
    """Hash an image file (its first frame for an animation); [] for a flat picture."""
    try:
        with Image.open(stream) as picture:
            picture.draft("RGB", (DECODE_WIDTH, DECODE_WIDTH))  # JPEG: decode at a reduced size
            # A photo taken sideways is hashed as it is shown, so a straightened copy matches it.
            picture = ImageOps.exif_transpose(picture).convert("RGB")
            # Hash at the size video frames are hashed at: as exact, and far faster than full size.
            picture.thumbnail((DECODE_WIDTH, DECODE_WIDTH), Image.Resampling.BILINEAR, reducing_gap=2.0)
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        raise UnreadableMedia(str(exc)) from exc
    value = picture_hash(picture)
    return [] if value is None else [FrameHash(frame=0, at_ms=None, value=value)]


def video_sample_times(duration: float) -> list[float]:
    """Return the moments (seconds) at which a video of this duration is sampled."""
    if duration <= 0:
        return [0.0]
    if duration <= VIDEO_MAX_FRAMES:
        return [i + 0.5 for i in range(max(1, math.ceil(duration - 0.5)))] or [0.0]
    step = duration / VIDEO_MAX_FRAMES
    return [(i + 0.5) * step for i in range(VIDEO_MAX_FRAMES)]


def _frame_picture(frame) -> Image.Image:
    width = min(DECODE_WIDTH, frame.width)
    height = max(1, round(frame.height * width / frame.width))
    return frame.to_image(width=width, height=height)


def video_hashes(path_or_file) -> list[FrameHash]:
    """Hash video frames at the moments of ``video_sample_times``; flat frames are left out."""
    import av  # PyAV bundles its own FFmpeg; imported here as only the worker needs it

    try:
        with av.open(path_or_file, mode="r") as container:
            if not container.streams.video:
                raise UnreadableMedia("no video stream")
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            if stream.duration is not None and stream.time_base is not None:
                duration = float(stream.duration * stream.time_base)
            elif container.duration is not None:
                duration = container.duration / av.time_base
            else:
                duration = 0.0
            return _sample_frames(container, stream, video_sample_times(duration))
    except av.FFmpegError as exc:
        raise UnreadableMedia(str(exc)) from exc


def _sample_frames(container, stream, times: list[float]) -> list[FrameHash]:
    """Decode the first frame at or after each moment: seek to the key frame before it, decode on."""
    start = float(stream.start_time * stream.time_base) if stream.start_time is not None else 0.0
    time_base = stream.time_base or Fraction(1, 1000)
    hashes = []
    for index, moment in enumerate(times):
        target = start + moment
        container.seek(int(target / time_base), stream=stream, backward=True, any_frame=False)
        chosen = None
        last = None
        for frame in container.decode(stream):
            last = frame
            if frame.pts is None or float(frame.pts * time_base) >= target - 1e-3:
                chosen = frame
                break
        chosen = chosen or last  # past the end: the last frame there is
        if chosen is None:
            continue
        value = picture_hash(_frame_picture(chosen))
        if value is not None:
            hashes.append(FrameHash(frame=index, at_ms=round(moment * 1000), value=value))
    return hashes


def media_hashes(content_type: str, stream) -> list[FrameHash]:
    """Hash an evidence file by its (checked) type; [] for a type that has no picture."""
    if content_type in IMAGE_TYPES:
        return image_hashes(stream)
    if content_type in VIDEO_TYPES:
        return video_hashes(stream)
    return []


def frames_needed(new_frames: int, other_frames: int) -> int:
    """Return how many frames must match for two fingerprinted files to count as the same output.

    One for a still picture (an image against an image or against a video frame); for two videos
    at least two and at least half of the frames of the one with fewer.
    """
    fewer = min(new_frames, other_frames)
    if fewer <= 1:
        return 1
    return max(2, math.ceil(fewer / 2))
