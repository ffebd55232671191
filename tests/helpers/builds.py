"""A stand-in for `genrec build` that the app's build jobs can follow."""

from __future__ import annotations

import socket
import sys
import textwrap
from pathlib import Path

#: A stand-in for `genrec build --progress-format lines`: progress lines, then it waits for a gate file
#: (so a test decides when it ends), then its run lines (runs copied from a folder into the output folder
#: when both are given); or it fails with genrec's error line.
FAKE_BUILD = textwrap.dedent("""
    import json, shutil, sys, time
    from pathlib import Path
    gate, outcome = Path(sys.argv[1]), sys.argv[2]
    copy_from, out = (Path(sys.argv[3]), Path(sys.argv[4])) if len(sys.argv) > 4 else (None, None)
    def say(stage, done, total):
        print(json.dumps({"stage": stage, "done": done, "total": total}), flush=True)
    say("demo library", 100, 200)
    say("demo library", 200, 200)
    say("vgg16 spectrograms", 50, 200)
    while not gate.exists():
        time.sleep(0.05)
    if outcome == "fail":
        print("error: the GTZAN download failed: every source refused", file=sys.stderr, flush=True)
        sys.exit(2)
    say("resnet50 epochs", 30, 30)
    if copy_from is None:
        print("run: " + str(gate.parent / "vgg16-run"), flush=True)
        print("run: " + str(gate.parent / "resnet50-run"), flush=True)
    for run in sorted(copy_from.iterdir()) if copy_from else ():
        shutil.copytree(run, out / run.name, symlinks=True)
        print("run: " + str(out / run.name), flush=True)
""")


def fake_command(tmp_path: Path, outcome: str = "ok", gate: str = "gate") -> tuple[list[str], Path]:
    script = tmp_path / "fake_build.py"
    script.write_text(FAKE_BUILD)
    gate = tmp_path / gate
    return [sys.executable, str(script), str(gate), outcome], gate


def closed_port_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/genres.tar.gz"
