"""Where the material beside the project lives (../shared), and small fixed contents."""

from __future__ import annotations

from pathlib import Path

SHARED = Path(__file__).resolve().parents[3] / "shared"
GTZAN_SAMPLE = SHARED / "data" / "gtzan-sample"
SPLITS = SHARED / "data" / "splits"

#: A GTZAN-shaped archive's members (not audio): for download and extraction tests.
GTZAN_LIKE = {
    f"genres/{g}/{g}.{i:05d}.au": f"{g}-{i}-".encode() * 10 for g in ("blues", "classical", "rock") for i in range(2)
}
