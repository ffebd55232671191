"""The app's build choices (first start and "Build runs"), driven with AppTest.

The build's child process is a stand-in that speaks `genrec build --progress-format lines` and waits
for a gate file, so a test sees the build running; the download sources are a local HTTP server on
127.0.0.1 (reachable) or a closed port (offline).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import pytest

import genrec.app.buildjob as buildjob
import genrec.data.reachability as reachability
from tests.helpers.app import copy_runs, markdown, no_traceback, open_page, start
from tests.helpers.builds import closed_port_url, fake_command
from tests.helpers.waiting import wait_for

slow = pytest.mark.slow


@pytest.fixture
def empty_runs(tmp_path, monkeypatch) -> Path:
    root = tmp_path / "models"
    monkeypatch.setenv("GENREC_RUNS", str(root))
    return root


@pytest.fixture
def gated_build(tmp_path, monkeypatch):
    """Builds started by the app run the stand-in; the test opens the returned gate to let it finish."""
    argv, gate = fake_command(tmp_path)
    started = []

    def command(library: str, weights: str, out: Path) -> list[str]:
        started.append((library, weights, Path(out)))
        return argv

    monkeypatch.setattr(buildjob, "build_command", command)
    yield gate, started
    gate.touch()  # never leave a child waiting
    wait_for(lambda: not buildjob.status().running, "the stand-in build to end")


def progress_bars(at) -> list[tuple[int, str]]:
    return [(p.proto.value, p.proto.text) for p in at.get("progress")]


def buttons_enabled(at) -> dict[str, bool]:
    return {key: not at.button(key=key).disabled for key in ("build_demo", "build_gtzan")}


def running_text(root: Path, text: str):
    return lambda: (s := buildjob.status(root)).running and s.text == text and s


def test_real_data_card_checks_the_sources_then_shows_progress(
    empty_runs,
    gated_build,
    local_server,
    monkeypatch,
):
    monkeypatch.setattr(
        reachability,
        "gtzan_source_urls",
        lambda: [f"{local_server}/missing/genres.tar.gz", f"{local_server}/genres.tar.gz"],
    )
    monkeypatch.setattr(reachability, "KERAS_WEIGHTS_URLS", (f"{local_server}/vgg16_notop.h5",))
    _, started = gated_build
    at = start()
    card = " ".join(markdown(at))
    assert "Real GTZAN with ImageNet weights" in " ".join(s.value for s in at.subheader)
    assert "about 1.2 GB of audio" in card and "about 150 MB" in card
    minutes = round(buildjob.real_build_estimate_seconds() / 60)
    assert any(f"Estimated build time: about {minutes} minute" in c.value for c in at.caption)
    assert buttons_enabled(at) == {"build_demo": True, "build_gtzan": True} and not progress_bars(at)

    at.button(key="build_gtzan").click().run()
    no_traceback(at)
    assert not at.error
    assert started == [("gtzan", "imagenet", empty_runs)]
    lock = json.loads((empty_runs / buildjob.LOCK_NAME).read_text())
    assert (lock["library"], lock["weights"]) == ("gtzan", "imagenet")

    status = wait_for(running_text(empty_runs, "VGG16 spectrograms: 50/200"), "the child's progress")
    at.run()
    no_traceback(at)
    assert progress_bars(at) == [
        (int(status.fraction * 100), "**Real GTZAN with ImageNet weights** · VGG16 spectrograms: 50/200")
    ]
    assert buttons_enabled(at) == {"build_demo": False, "build_gtzan": False}


def test_offline_machine_is_told_what_to_do_instead(empty_runs, gated_build, monkeypatch):
    closed = closed_port_url()
    monkeypatch.setattr(reachability, "gtzan_source_urls", lambda: [closed, closed.replace("genres", "mirror")])
    monkeypatch.setattr(reachability, "KERAS_WEIGHTS_URLS", (closed.replace("genres.tar.gz", "vgg16.h5"),))
    at = start()
    at.button(key="build_gtzan").click().run()
    no_traceback(at)
    assert [e.value for e in at.error] == [
        (
            "This machine is offline: none of the GTZAN download sources and not the Keras ImageNet weights "
            "host could be reached."
        )
    ]
    advice = " ".join(i.value for i in at.info)
    assert "`genrec build --library gtzan`" in advice and "synthetic demo" in advice and str(empty_runs) in advice
    assert any(closed in c.value and "could not connect" in c.value for c in at.caption)
    # nothing was started, and both choices stay open
    assert gated_build[1] == [] and not (empty_runs / buildjob.LOCK_NAME).exists()
    assert not progress_bars(at) and buttons_enabled(at) == {"build_demo": True, "build_gtzan": True}


def test_second_session_and_reload_see_the_running_build(empty_runs, gated_build):
    gate, started = gated_build
    idle_visitor = start()  # already on the page before the build starts
    first = start()
    first.button(key="build_demo").click().run()
    no_traceback(first)
    assert started == [("demo", "none", empty_runs)]
    wait_for(running_text(empty_runs, "VGG16 spectrograms: 50/200"), "the child's progress")

    second = start()  # a second visitor, or the first one after a browser reload
    no_traceback(second)
    assert buttons_enabled(second) == {"build_demo": False, "build_gtzan": False}
    ((value, text),) = progress_bars(second)
    assert value > 0 and text == "**Synthetic demo** · VGG16 spectrograms: 50/200"
    idle_visitor.run()  # its panel's next poll
    assert progress_bars(idle_visitor) == progress_bars(second)
    assert buttons_enabled(idle_visitor) == {"build_demo": False, "build_gtzan": False}
    with pytest.raises(buildjob.BuildBusy):  # even a click that slipped through cannot start a second one
        buildjob.start_build("gtzan", "imagenet")
    assert started == [("demo", "none", empty_runs)]

    gate.touch()
    done = wait_for(lambda: (s := buildjob.status(empty_runs)).state == "done" and s, "the end of the build")
    second.run()
    no_traceback(second)
    assert not progress_bars(second) and buttons_enabled(second) == {"build_demo": True, "build_gtzan": True}
    assert any(f"saved {len(done.runs)} run(s)" in s.value for s in second.success)


def test_stale_lock_is_reported_on_the_page(empty_runs):
    empty_runs.mkdir()
    (empty_runs / buildjob.LOCK_NAME).write_text(
        json.dumps(
            {
                "pid": 2**22 + 12345,
                "started": time.mktime((2026, 1, 1, 0, 0, 0, 0, 0, -1)),
                "library": "gtzan",
                "weights": "imagenet",
            }
        )
    )
    at = start()
    no_traceback(at)
    assert [e.value for e in at.error] == [
        (
            "The Real GTZAN with ImageNet weights build started at 00:00 failed: it stopped without finishing: its "
            f"process ({2**22 + 12345}) is gone, so its lock was removed. Start the build again."
        )
    ]
    assert buttons_enabled(at) == {"build_demo": True, "build_gtzan": True}


@slow
def test_first_start_builds_and_opens_the_dashboard(tiny_runs, tmp_path, empty_runs, monkeypatch):
    """From the click to the Compare page, with the stand-in copying the tiny runs into the runs folder."""
    gate = tmp_path / "gate"
    gate.touch()  # no waiting
    source = copy_runs(tiny_runs, tmp_path / "built")
    script = tmp_path / "fake_build.py"
    fake_command(tmp_path)  # writes the script
    monkeypatch.setattr(
        buildjob,
        "build_command",
        lambda library, weights, out: [sys.executable, str(script), str(gate), "ok", str(source), str(out)],
    )
    at = start()
    assert "Welcome to genrec" in at.title[0].value and str(empty_runs) in at.info[0].value
    assert [r.value for r in at.radio] == ["none"]
    at.button(key="build_demo").click().run()
    no_traceback(at)
    wait_for(lambda: buildjob.status(empty_runs).state == "done", "the build")
    at.run()
    no_traceback(at)
    assert "Compare VGG16 and ResNet50" in at.title[0].value
    assert [s.label for s in at.sidebar.selectbox] == ["VGG16 run", "ResNet50 run"]
    open_page(at, "build_runs")  # the same choices, now that runs exist
    no_traceback(at)
    assert "Build runs" in at.title[0].value and any("2 run(s) in" in c.value for c in at.caption)
    assert buttons_enabled(at) == {"build_demo": True, "build_gtzan": True}
    assert any("Synthetic demo build finished" in s.value and "saved 2 run(s)" in s.value for s in at.success)
