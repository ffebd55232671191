"""The app's demo build, click to Compare page, against `genrec demo` in a terminal (issue 9, item 6).

Each round runs, in alternating order so that load from other jobs hits both alike:

* ``cli``: ``python -m genrec demo`` with fresh data and runs folders;
* ``app-<watcher>``: the real server (``streamlit run app.py --server.headless true``) with the
  project's ``.streamlit/config.toml``; headless Chromium (Playwright, /usr/bin/chromium) opens the
  first-start page, clicks "Build the demo library and models" and waits for the Compare page. The
  clock runs from the click to the Compare heading. ``--watchers config,auto`` adds a server with
  ``--server.fileWatcherType auto`` (the setting before issue 9) for comparison.

Both sides write their data and runs inside the project folder (``data/bench-app-build/``, ignored by
git), as the defaults ``data/`` and ``models/`` do, so a file watcher on the project sees the writes.
``--venv-in-project`` runs everything with ``.venv/bin/python``, a virtualenv inside the project whose
site-packages is a hard-linked copy of this interpreter's (no download, no extra disk), which is the
set-up of the issue's report: the watcher then follows the app's imported package files too.
Prints each measurement, the medians and the ratio app / CLI.
"""

from __future__ import annotations

import argparse
import os
import shutil
import site
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

from benchmarks import measure, report, workspace
from tools import app_server
from tools.app_server import CHROMIUM, CHROMIUM_ARGS

PROJECT = workspace.PROJECT
WORK = PROJECT / "data" / "bench-app-build"
OVERFLOW = "Inotify queue overflowed"
LIMIT_S = 1200


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument(
        "--watchers",
        default="config",
        help="comma-separated server variants: 'config' (the project's config.toml), or a "
        "--server.fileWatcherType value such as auto, poll, none",
    )
    p.add_argument(
        "--venv-in-project",
        action="store_true",
        help="run with PROJECT/.venv/bin/python (created as a hard-linked copy when missing)",
    )
    workspace.add_json_arg(p)
    return p.parse_args(argv)


def venv_python() -> Path:
    """PROJECT/.venv with this interpreter's site-packages hard-linked in (created once, ignored by git)."""
    venv = PROJECT / ".venv"
    python = venv / "bin" / "python"
    target = venv / Path(sysconfig.get_path("purelib", vars={"base": str(venv)})).relative_to(venv)
    if not (target / "streamlit").is_dir():
        subprocess.run([sys.executable, "-m", "venv", "--without-pip", "--clear", str(venv)], check=True)
        shutil.rmtree(target, ignore_errors=True)
        print(f"hard-linking {site.getsitepackages()[0]} into {target} …", flush=True)
        subprocess.run(["cp", "-al", site.getsitepackages()[0], str(target)], check=True)
    return python


def fresh_env(name: str) -> dict[str, str]:
    home = WORK / name
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir(parents=True)
    return {
        **os.environ,
        "GENREC_HOME": str(home / "data"),
        "GENREC_RUNS": str(home / "models"),
        "PYTHONPATH": str(PROJECT),
    }


def time_cli(python: Path, name: str) -> dict:
    env = fresh_env(name)
    log = WORK / f"{name}.log"
    start = time.perf_counter()
    with log.open("w") as out:
        code = subprocess.run(
            [str(python), "-m", "genrec", "demo"],
            cwd=PROJECT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            timeout=LIMIT_S,
            check=False,
        ).returncode
    seconds = time.perf_counter() - start
    if code != 0:
        raise SystemExit(f"genrec demo failed ({code}); see {log}")
    shutil.rmtree(WORK / name, ignore_errors=True)
    return {"side": "cli", "seconds": seconds, "overflows": None, "server_cpu_s": None}


def time_app(python: Path, watcher: str, name: str) -> dict:
    from playwright.sync_api import sync_playwright

    env = fresh_env(name)
    log = WORK / f"{name}.log"
    setting = None if watcher == "config" else watcher
    server_of_app = app_server.serve("app.py", env=env, log=log, cwd=PROJECT, python=python, watcher=setting)
    with server_of_app as (url, server):
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            try:
                page = browser.new_page(viewport={"width": 1400, "height": 1000})
                page.goto(url, wait_until="domcontentloaded")
                button = page.get_by_role("button", name="Build the demo library and models")
                button.wait_for(timeout=120_000)
                start = time.perf_counter()
                button.click()
                page.get_by_role("heading", name="Compare VGG16 and ResNet50").wait_for(timeout=LIMIT_S * 1000)
                seconds = time.perf_counter() - start
            finally:
                browser.close()
        cpu = _cpu_seconds(server.pid)
    overflows = log.read_text(errors="replace").count(OVERFLOW)
    shutil.rmtree(WORK / name, ignore_errors=True)
    return {"side": f"app-{watcher}", "seconds": seconds, "overflows": overflows, "server_cpu_s": cpu}


def _cpu_seconds(pid: int) -> float | None:
    """CPU time of the server process itself (not the build's child), from /proc."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None


def main() -> int:
    args = parse_args()
    workspace.quiet_tensorflow()  # the environment variables quieten the servers and CLI builds it starts
    report.header("App build (click to Compare page) vs `genrec demo` in a terminal")
    if not CHROMIUM.exists():
        raise SystemExit(f"{CHROMIUM} is needed (Debian package 'chromium')")
    python = venv_python() if args.venv_in_project else Path(sys.executable)
    print(f"python:   {python}" + ("  (virtualenv inside the project)" if args.venv_in_project else ""))
    watchers = [w.strip() for w in args.watchers.split(",") if w.strip()]
    sides = ["cli"] + [f"app-{w}" for w in watchers]
    rows = []
    for r in range(args.rounds):
        order = sides if r % 2 == 0 else sides[::-1]
        for side in order:
            name = f"r{r}-{side}"
            row = time_cli(python, name) if side == "cli" else time_app(python, side[4:], name)
            row.update(round=r, load1=round(os.getloadavg()[0], 2))
            rows.append(row)
            print(
                f"round {r}  {side:<12} {row['seconds']:7.1f} s   load {row['load1']:.2f}"
                + (
                    f"   '{OVERFLOW}' x{row['overflows']}   server CPU {row['server_cpu_s']:.1f} s"
                    if row["overflows"] is not None
                    else ""
                ),
                flush=True,
            )
    print()
    cli = measure.median([x["seconds"] for x in rows if x["side"] == "cli"])
    summary = []
    for side in sides:
        mine = [x for x in rows if x["side"] == side]
        med = measure.median([x["seconds"] for x in mine])
        summary.append(
            {
                "side": side,
                "median s": med,
                "ratio to cli": f"{med / cli:.2f}x",
                "overflow lines": "" if side == "cli" else str(sum(x["overflows"] for x in mine)),
                "runs": str(len(mine)),
            }
        )
    print(report.table(summary))
    report.dump_json(args.json, {"rows": rows, "summary": summary})
    shutil.rmtree(WORK, ignore_errors=True)
    return 0


if __name__ == "__main__":
    report.run_script(main)
