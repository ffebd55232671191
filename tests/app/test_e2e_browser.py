"""End to end: the real Streamlit server with the tiny runs, driven in headless Chromium via Playwright.

Needs Debian's ``chromium`` at /usr/bin/chromium (``.ci/install-browser.sh``) and the
``playwright`` package (its own browser downloads are not used). Without them the
test fails in CI (``CI`` set) and is skipped elsewhere, saying why.
"""

from __future__ import annotations

import json
import os
import re
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from genrec.app.plots import arch_label
from tests.helpers.audio import tone, write_audio
from tests.helpers.runs import own_run
from tools.app_server import CHROMIUM, CHROMIUM_ARGS, serve

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
TRACK = "jazz.00003"
SIMILARITY = re.compile(r"similarity \d\.\d{3}")  # a recommendation's line

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.timeout(400)]


def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (required in CI: run .ci/install-browser.sh and pip install playwright)")
    pytest.skip(f"{reason}; install it with .ci/install-browser.sh to run the browser test")


@pytest.fixture
def playwright_api():
    if not CHROMIUM.exists():
        _unavailable(f"{CHROMIUM} not found (Debian package 'chromium')")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the 'playwright' Python package is not installed")
    return sync_playwright


def _serve(runs: Path, tmp_path: Path, **env_extra: str):
    """`streamlit run app.py` on a free port with the runs in ``runs``; stopped afterwards."""
    env = {**os.environ, "GENREC_RUNS": str(runs), "GENREC_HOME": str(tmp_path / "home"), **env_extra}
    with serve("app.py", env=env, log=tmp_path / "streamlit.log", cwd=ROOT, timeout=90) as (url, _server):
        yield url


@pytest.fixture
def server(tiny_runs, tmp_path):
    """The app serving the tiny runs."""
    from tests.helpers.app import copy_runs

    yield from _serve(copy_runs(tiny_runs, tmp_path / "models"), tmp_path)


def _screenshot_whole_page(page, path: Path) -> None:
    """Streamlit scrolls inside its main block, so grow the viewport to the content before the screenshot."""
    for _ in range(3):
        height = page.evaluate("document.querySelector('[data-testid=stMainBlockContainer]').scrollHeight")
        page.set_viewport_size({"width": 1400, "height": min(int(height) + 120, 8000)})
        page.wait_for_timeout(800)
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path), full_page=True)


def test_pick_a_library_clip_in_the_browser(server, playwright_api, tiny_runs):
    from playwright.sync_api import expect

    from genrec.runs.reader import Run
    from genrec.serve.recommend import Recommender, compare

    (vgg, res), shared = compare(
        [Recommender(Run.open(tiny_runs[a])) for a in ("vgg16", "resnet50")], track_id=TRACK, k=5
    )
    with playwright_api() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(server, wait_until="domcontentloaded")
            page.get_by_role("heading", name="Compare VGG16 and ResNet50").wait_for(timeout=90_000)
            # the sidebar names each architecture's run and the weights it started from
            sidebar = page.locator("[data-testid=stSidebar]")
            sidebar.get_by_text(tiny_runs["vgg16"].name).wait_for(timeout=30_000)
            assert sidebar.inner_text().count("Started from random init") == 2

            # pick a library clip by typing into the searchable clip list
            page.locator("input[aria-label^='Library clip']").click()
            page.keyboard.type(TRACK)
            page.keyboard.press("Enter")
            main = page.locator("[data-testid=stMain]")
            main.get_by_text(f"Query: {TRACK}").wait_for(timeout=120_000)
            # the rerun redraws the page element by element: poll until it has settled on this clip's answers
            expect(page.locator("[data-testid=stMetricValue]")).to_have_text(
                [f"{shared} of 5", vgg.genre, f"{vgg.confidence:.0%}", res.genre, f"{res.confidence:.0%}"],
                timeout=120_000,
            )
            expect(main.locator("p", has_text=SIMILARITY)).to_have_count(10, timeout=60_000)  # five per model
            page.wait_for_function("document.querySelectorAll('.js-plotly-plot').length >= 4", timeout=60_000)
            page.locator("[data-testid=stStatusWidget]").wait_for(state="hidden", timeout=60_000)

            text = main.inner_text()
            assert arch_label("vgg16") in text and arch_label("resnet50") in text
            for track_id in list(vgg.neighbours["track_id"]) + list(res.neighbours["track_id"]):
                assert track_id in text
            assert "true genre" in text
            assert main.locator("[data-testid=stException]").count() == 0
            assert main.locator("[data-testid=stAlertContentError]").count() == 0
            assert main.locator("audio").count() >= 11
            # Grad-CAM for a library clip is one toggle away: both models' heatmaps, then the screenshot
            main.get_by_text("Show where each model looks (Grad-CAM)").click()
            for arch in ("vgg16", "resnet50"):
                main.get_by_text(f"Grad-CAM: where {arch_label(arch)} finds").first.wait_for(timeout=120_000)
            assert main.locator("[data-testid=stException]").count() == 0
            _screenshot_whole_page(page, ARTIFACTS / "e2e-compare.png")
        finally:
            browser.close()
    assert (ARTIFACTS / "e2e-compare.png").stat().st_size > 10_000


SECRET = "genrec-e2e-secret-9f3b"  # in the server's environment: /proc/self/environ would carry it


@pytest.fixture
def crafted_server(tiny_runs, tmp_path):
    """The app with a run whose tracks.csv points at files outside its library (the newest VGG16 run)."""
    from tests.helpers.app import copy_runs
    from tests.helpers.runs import copy_run, craft_hostile_tracks

    runs = copy_runs(tiny_runs, tmp_path / "models")
    crafted = craft_hostile_tracks(copy_run(tiny_runs["vgg16"], runs, "vgg16-crafted"), tmp_path)
    for url in _serve(runs, tmp_path, GENREC_E2E_SECRET=SECRET):
        yield url, crafted


def _media_urls(page) -> set[str]:
    return set(
        page.eval_on_selector_all(
            "audio, video, img, source", "els => els.map(e => e.currentSrc || e.src).filter(s => s)"
        )
    )


def test_media_urls_serve_no_file_outside_the_library(crafted_server, playwright_api, tmp_path):
    """Every /media URL the page uses, for each crafted track as the query: none holds a forbidden file."""
    url, crafted = crafted_server
    secret_wav = (tmp_path / "evil" / "secret.wav").read_bytes()
    forbidden = [b"root:x:0:0", SECRET.encode(), b"INLINE-SVG", secret_wav[44:2000]]
    bodies: dict[str, bytes] = {}
    with playwright_api() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(url, wait_until="domcontentloaded")
            page.get_by_role("heading", name="Compare VGG16 and ResNet50").wait_for(timeout=90_000)
            page.locator("[data-testid=stSidebar]").get_by_text("vgg16-crafted").wait_for(timeout=30_000)
            for track_id in crafted:
                page.locator("input[aria-label^='Library clip']").click()
                page.keyboard.type(track_id)
                page.keyboard.press("Enter")
                page.get_by_text(f"Query: {track_id}").wait_for(timeout=120_000)
                page.locator("p", has_text=SIMILARITY).nth(9).wait_for(timeout=60_000)
                page.wait_for_timeout(1500)
                html = page.content()
                assert "INLINE-SVG" not in html and "root:x:0:0" not in html and SECRET not in html
                assert "not available" in page.locator("[data-testid=stMain]").inner_text()
                # fetched at once: Streamlit drops a page's media files when the next run replaces them
                for address in _media_urls(page):
                    if "/media/" in address and address not in bodies:
                        try:
                            with urllib.request.urlopen(address, timeout=10) as r:
                                bodies[address] = r.read()
                        except urllib.error.HTTPError as exc:
                            assert exc.code == 404, address  # already replaced: nothing served
        finally:
            browser.close()
    assert bodies, "the page used no /media URL that could be fetched"
    for address, body in bodies.items():
        for marker in forbidden:
            assert marker not in body, (address, marker[:20])
    assert any(body.startswith(b"RIFF") for body in bodies.values())  # the good library clips are still served


@pytest.fixture
def evil_catalogue_server(tiny_runs, tmp_path):
    """The app with both runs given a catalogue 'evil' whose manifest says its root is "/" and whose first
    track id is the absolute path, without its leading slash, of a WAV outside every library (issue 23, case 1)."""
    import numpy as np
    import pandas as pd

    from genrec.catalogue import build_catalogue

    music = tmp_path / "music"
    for i in range(3):
        write_audio(music / "jazz" / f"t{i}.wav", tone(4.0, freq=300.0 + 150 * i, seed=i), subtype="PCM_16")
    private = write_audio(tmp_path / "private" / "private.wav", tone(4.0, freq=1717.0, seed=7), subtype="PCM_16")
    runs = tmp_path / "models"
    for src in tiny_runs.values():
        cat = build_catalogue(own_run(src, runs / src.name), music, "evil").catalogue.path
        manifest = json.loads((cat / "manifest.json").read_text())
        (cat / "manifest.json").write_text(json.dumps({**manifest, "root": "/"}))
        tracks = pd.read_csv(cat / "tracks.csv", dtype=str, keep_default_na=False)
        tracks.loc[0, "track_id"] = str(private)[1:]
        tracks.to_csv(cat / "tracks.csv", index=False)
        with np.load(cat / "embeddings.npz") as z:
            arrays = {k: z[k] for k in z.files}
        np.savez(cat / "embeddings.npz", **{**arrays, "track_id": tracks["track_id"].to_numpy(dtype=str)})
    for url in _serve(runs, tmp_path):
        yield url, runs, private


def _is_media(address: str) -> bool:
    """Whether a URL is one of Streamlit's media files (what st.audio and st.image serve; not its own fonts)."""
    return urllib.parse.urlparse(address).path.startswith("/media/")


def _library_files(runs: Path) -> dict[bytes, Path]:
    """Content -> file of the runs' library files that the app may serve. A catalogue rooted at "/" adds none."""
    from genrec.runs.reader import list_runs

    files = []
    for run in list_runs(runs)[0]:
        files += [p for p in run.media_paths(run.tracks["path"]) if p is not None]
    return {p.read_bytes(): p for p in files}


def test_a_catalogue_claiming_the_whole_disk_serves_nothing_outside(evil_catalogue_server, playwright_api):
    """Every /media URL the page requests, with recommendations from the crafted catalogue: each is the
    content of a file the app may serve, and the private file is none of them."""
    from playwright.sync_api import expect

    url, runs, private = evil_catalogue_server
    crafted_id = str(private)[1:]
    allowed = _library_files(runs)
    assert allowed and private.read_bytes() not in allowed
    requested: set[str] = set()
    bodies: dict[str, bytes] = {}
    with playwright_api() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.on("request", lambda r: requested.add(r.url) if _is_media(r.url) else None)
            page.goto(url, wait_until="domcontentloaded")
            page.get_by_role("heading", name="Compare VGG16 and ResNet50").wait_for(timeout=90_000)
            source = page.locator("[data-testid=stSelectbox]").filter(has_text="Recommend from").locator("input")
            source.click()
            page.keyboard.type("catalogue evil")
            page.keyboard.press("Enter")
            page.locator("input[aria-label^='Library clip']").click()
            page.keyboard.type(TRACK)
            page.keyboard.press("Enter")
            main = page.locator("[data-testid=stMain]")
            main.get_by_text(f"Query: {TRACK}").wait_for(timeout=120_000)
            expect(main.locator("p", has_text=SIMILARITY)).to_have_count(6, timeout=120_000)  # 3 tracks per model
            page.locator("[data-testid=stStatusWidget]").wait_for(state="hidden", timeout=60_000)
            page.wait_for_timeout(1500)
            text = main.inner_text()
            exceptions = main.locator("[data-testid=stException]").count()
            # fetched at once: Streamlit drops a page's media files when the next run replaces them
            for address in requested | _media_urls(page):
                if _is_media(address):
                    try:
                        with urllib.request.urlopen(address, timeout=10) as r:
                            bodies[address] = r.read()
                    except urllib.error.HTTPError as exc:
                        assert exc.code == 404, address  # already replaced: nothing served
        finally:
            browser.close()
    assert bodies, "the page used no /media URL that could be fetched"
    for address, body in bodies.items():
        assert body in allowed, (address, body[:16])  # the query clip's library file, nothing else
    assert text.count(crafted_id) == 2 and text.count("catalogue split") == 6  # recommended by both models
    assert text.count("audio not available") == 6 and exceptions == 0  # a catalogue rooted at "/" plays nothing


@pytest.fixture
def pulled_server(tiny_runs, tmp_path, http_server):
    """The app with an empty runs folder and GENREC_RUNS_URL naming the tiny runs' bundle on a local server."""
    from genrec.runs.bundle import pack

    archive = pack(list(tiny_runs.values()), tmp_path / "runs.tar.gz").path
    url = http_server.publish("runs.tar.gz", archive.read_bytes())
    for app_url in _serve(tmp_path / "models", tmp_path, GENREC_RUNS_URL=url, GENREC_PREDICTOR="auto"):
        yield app_url, tmp_path / "models"


def test_runs_pulled_at_start_up_answer_an_upload(
    pulled_server, playwright_api, tiny_runs, tiny_library_dir, monkeypatch
):
    from playwright.sync_api import expect

    from genrec.runs.reader import Run
    from genrec.serve.recommend import Recommender, compare

    url, runs = pulled_server
    clip = tiny_library_dir / "jazz" / "jazz.00003.wav"
    monkeypatch.setenv("GENREC_PREDICTOR", "auto")  # as the server answers: with the predictor the bundle carries
    with playwright_api() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(url, wait_until="domcontentloaded")
            page.get_by_role("heading", name="Compare VGG16 and ResNet50").wait_for(timeout=120_000)
            pulled = {a: Run.open(runs / tiny_runs[a].name) for a in ("vgg16", "resnet50")}
            assert all(not (r.path / "model.keras").exists() for r in pulled.values())  # answered without Keras
            (vgg, res), shared = compare(
                [Recommender(pulled[a]) for a in ("vgg16", "resnet50")], source=clip.read_bytes(), name=clip.name, k=5
            )
            main = page.locator("[data-testid=stMain]")
            main.get_by_role("radio", name="Upload").click()
            page.locator("input[type=file]").set_input_files(str(clip))
            main.get_by_text(f"Query: {clip.name}").wait_for(timeout=120_000)
            expect(page.locator("[data-testid=stMetricValue]")).to_have_text(
                [f"{shared} of 5", vgg.genre, f"{vgg.confidence:.0%}", res.genre, f"{res.confidence:.0%}"],
                timeout=120_000,
            )
            expect(main.locator("p", has_text=SIMILARITY)).to_have_count(10, timeout=60_000)
            text = main.inner_text()
            for track_id in list(vgg.neighbours["track_id"]) + list(res.neighbours["track_id"]):
                assert track_id in text
            assert main.locator("[data-testid=stException]").count() == 0
        finally:
            browser.close()
