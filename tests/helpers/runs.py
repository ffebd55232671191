"""Copies of trained runs, owned by the test, and crafted hostile ones."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pandas as pd

from genrec.runs.reader import Run
from tests.helpers.audio import tone, write_audio


def own_run(src: Path, dest: Path):
    """A private copy of a tiny run (catalogues are written into the run folder), opened as a Run."""

    dest.mkdir(parents=True)
    for f in src.iterdir():
        if f.is_file():
            (os.symlink if f.name == "model.keras" else shutil.copy2)(f, dest / f.name)
    return Run.open(dest)


def leftovers(folder: Path) -> list[str]:
    """Temporary extraction folders or .part files left in ``folder``."""
    return [p.name for p in folder.iterdir() if ".extracting-" in p.name or p.name.endswith(".part")]


# --------------------------------------------------------------------------- helpers
def copy_run(src: Path, dest: Path, name: str) -> Path:
    """A copy of a run (its two big model files linked, not copied) named ``name`` under ``dest``."""
    target = dest / name
    target.mkdir(parents=True)
    for f in src.iterdir():
        if f.name in ("model.keras", "predictor.tflite"):
            os.symlink(f, target / f.name)
        else:
            shutil.copy2(f, target / f.name)
    return target


def craft_hostile_tracks(run_dir: Path, tmp_path: Path) -> dict[str, str]:
    """Point four tracks of a run at a symlink to /etc/passwd and /proc/self/environ, a WAV outside the
    library and an SVG; return track id -> the path written into tracks.csv."""
    tracks = pd.read_csv(run_dir / "tracks.csv", dtype=str, keep_default_na=False)
    lib = Path(json.loads((run_dir / "run.json").read_text())["library"]["root"])
    evil = tmp_path / "evil"
    evil.mkdir(exist_ok=True)
    (evil / "passwd.wav").symlink_to("/etc/passwd")
    (evil / "environ.wav").symlink_to("/proc/self/environ")
    write_audio(evil / "secret.wav", tone(3.0, freq=1234.0))
    (evil / "picture.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg"><text>INLINE-SVG</text></svg>')
    targets = [evil / "passwd.wav", evil / "environ.wav", evil / "secret.wav", evil / "picture.svg"]
    # inside the recorded library folder too, through a symlink, so only resolving finds them out
    (lib / "blues" / "sneaky.wav").unlink(missing_ok=True)
    (lib / "blues" / "sneaky.wav").symlink_to("/etc/passwd")
    targets.append(lib / "blues" / "sneaky.wav")
    crafted = {}
    for i, target in enumerate(targets):
        tracks.loc[i * 7, "path"] = str(target)
        crafted[tracks.loc[i * 7, "track_id"]] = str(target)
    tracks.to_csv(run_dir / "tracks.csv", index=False)
    edit_json(run_dir / "run.json", lambda d: set_field(d, "created", "2099-01-01T00:00:00+00:00"))  # newest
    return crafted


def edit_json(path: Path, change) -> None:
    data = json.loads(path.read_text())
    data = change(data) if callable(change) else change
    path.write_text(json.dumps(data))


def set_field(data: dict, dotted: str, value) -> dict:
    node = data
    *parents, last = dotted.split(".")
    for key in parents:
        node = node[key]
    node[last] = value
    return data
