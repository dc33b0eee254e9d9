"""Reading reward-model datasets (`rapt record`) into NumPy arrays.

A dataset is a directory with `dataset.json` (the manifest: env, params, views, frame
size, stages) and `episodes/ep-NNNNNN.rep`, one file per episode, each checked against its
CRC-32. The byte layout is documented in `crates/rapt-reward-model/src/dataset.rs`:

    magic b"RAPTEP01" | header length H (u32 LE) | header JSON (H bytes)
    | frames T×V×S×S×3 u8 | Φ T×f32 LE | stage T×u8 | progress in stage T×f32 LE
    | success T×u8 | CRC-32 of all bytes before it (u32 LE)

    import rapt
    data = rapt.read_dataset("data/push-heldout")
    data.manifest["views"]            # ['front', 'side', 'wrist']
    ep = data.episodes[0]
    ep.frames.shape                   # (T, 3, 32, 32, 3), uint8
    ep.phi, ep.stage, ep.stage_progress, ep.success   # (T,) each
"""

from __future__ import annotations

import json
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = ["Dataset", "DatasetError", "Episode", "read_dataset", "read_episode"]

MAGIC = b"RAPTEP01"
FORMAT = 1


class DatasetError(ValueError):
    """A dataset or episode file that cannot be read; the message names the file."""


@dataclass(frozen=True)
class Episode:
    """One recorded episode: T steps, the reset state first."""

    path: Path
    seed: int
    kind: str  # "Expert", "PerturbedExpert", "Random" or "Policy"
    success_at_end: bool
    frames: np.ndarray  # (T, views, size, size, 3) uint8 RGB, rows from the top
    phi: np.ndarray  # (T,) float32: the oracle's progress in [0, 1]
    stage: np.ndarray  # (T,) uint8: the stage index (the number of stages once solved)
    stage_progress: np.ndarray  # (T,) float32: progress within the stage, [0, 1]
    success: np.ndarray  # (T,) bool

    @property
    def steps(self) -> int:
        return len(self.phi)


@dataclass(frozen=True)
class Dataset:
    """A dataset: its manifest (`dataset.json` as a dict) and its episodes in file order."""

    path: Path
    manifest: dict
    episodes: list[Episode]


def _manifest(path: Path) -> dict:
    file = path / "dataset.json"
    try:
        manifest = json.loads(file.read_text())
    except (OSError, ValueError) as e:
        raise DatasetError(f"{file}: {e}") from e
    if manifest.get("format") != FORMAT:
        raise DatasetError(f"{file}: format {manifest.get('format')} is not {FORMAT}")
    return manifest


def read_episode(path: str | Path, manifest: dict) -> Episode:
    """Read one episode file recorded under `manifest`, checking its CRC-32."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as e:
        raise DatasetError(f"{path}: {e}") from e
    if len(data) < 16 or data[:8] != MAGIC:
        raise DatasetError(f"{path}: not a rapt episode file (magic {data[:8]!r})")
    body, crc = data[:-4], int.from_bytes(data[-4:], "little")
    if zlib.crc32(body) != crc:
        raise DatasetError(f"{path}: checksum mismatch (a damaged or truncated file)")
    h = int.from_bytes(data[8:12], "little")
    try:
        header = json.loads(data[12 : 12 + h])
    except ValueError as e:
        raise DatasetError(f"{path}: header: {e}") from e
    t = int(header["steps"])
    views, size = len(manifest["views"]), int(manifest["size"])
    frame_bytes = t * views * size * size * 3
    expected = 12 + h + frame_bytes + 10 * t
    if len(body) != expected:
        raise DatasetError(f"{path}: {len(body)} bytes where {t} steps need {expected}")
    at = 12 + h

    def take(n: int, dtype: str) -> np.ndarray:
        nonlocal at
        size_of = np.dtype(dtype).itemsize
        out = np.frombuffer(body, dtype=dtype, count=n, offset=at).copy()
        at += n * size_of
        return out

    frames = take(frame_bytes, "u1").reshape(t, views, size, size, 3)
    phi = take(t, "<f4")
    stage = take(t, "u1")
    progress = take(t, "<f4")
    success = take(t, "u1").astype(bool)
    return Episode(path, int(header["seed"]), str(header["kind"]), bool(header["success"]),
                   frames, phi, stage, progress, success)


def read_dataset(path: str | Path) -> Dataset:
    """Read the dataset in directory `path`: its manifest and every episode, in order
    (`ep-000000.rep`, `ep-000001.rep`, …; leftover `*.tmp` files are ignored)."""
    path = Path(path)
    manifest = _manifest(path)
    files = sorted((path / "episodes").glob("ep-*.rep"))
    return Dataset(path, manifest, [read_episode(f, manifest) for f in files])
