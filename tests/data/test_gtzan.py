"""GTZAN sources tried in order, against a local HTTP server on 127.0.0.1 (no internet)."""

from __future__ import annotations

import hashlib
import socket
from pathlib import Path

import pytest

import genrec.data.gtzan as gtzan
from genrec.cli import main
from genrec.data.gtzan import (
    GTZAN_MD5,
    GTZAN_MIRROR_SHA256,
    GTZAN_MIRROR_URL,
    GTZAN_URL,
    MIRROR_ENV,
    Source,
    custom_source,
    download_gtzan,
    gtzan_sources,
    parse_checksum,
)
from genrec.errors import DownloadError
from tests.helpers.http import Server, make_targz, sha256
from tests.helpers.runs import leftovers
from tests.helpers.shared import GTZAN_LIKE


def closed_port_url(name: str) -> str:
    """A URL on 127.0.0.1 whose port nobody listens on: connecting is refused."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/{name}"


def test_failing_sources_are_reported_and_the_next_one_is_used(server: Server, tmp_path: Path) -> None:
    data = make_targz(GTZAN_LIKE)
    good_url = server.publish("good/genres.tar.gz", data)
    refused_url = closed_port_url("genres.tar.gz")
    sources = [
        Source("first", server.url("gone/genres.tar.gz"), "sha256", sha256(data)),
        Source("second", refused_url, "sha256", sha256(data)),
        Source("third", good_url, "md5", hashlib.md5(data).hexdigest()),
    ]
    said: list[str] = []
    to = tmp_path / "gtzan"

    root = download_gtzan(to, sources=sources, progress=False, report=said.append)

    assert (
        root == to / "genres"
        and (root / "rock" / "rock.00001.au").read_bytes() == GTZAN_LIKE["genres/rock/rock.00001.au"]
    )
    failed = [line for line in said if line.startswith("source ")]
    assert len(failed) == 2
    assert failed[0].startswith("source first failed:") and "404" in failed[0] and "/gone/genres.tar.gz" in failed[0]
    assert failed[1].startswith("source second failed:") and refused_url in failed[1]
    assert "refused" in failed[1].lower()
    assert said[-1] == f"using third: {good_url} (md5 checksum verified)"
    assert (to / "third-genres.tar.gz").read_bytes() == data
    assert not (to / "first-genres.tar.gz").exists() and leftovers(to) == []

    # GTZAN is there now: a second call fetches nothing
    requests_before = server.count()
    assert download_gtzan(to, sources=sources, progress=False, report=said.append) == root
    assert server.count() == requests_before and said[-1].startswith("GTZAN is already in")


def test_checksum_mismatch_moves_on_and_all_failing_says_what_to_do(server: Server, tmp_path: Path) -> None:
    data = make_targz(GTZAN_LIKE)
    url = server.publish("genres.tar.gz", data)
    wrong = sha256(b"another archive")
    said: list[str] = []
    with pytest.raises(DownloadError) as err:
        download_gtzan(
            tmp_path / "g", sources=[Source("bad", url, "sha256", wrong)], progress=False, report=said.append
        )
    assert said[1].startswith("source bad failed:") and wrong in said[1] and sha256(data) in said[1]
    msg = str(err.value)
    assert "any of 1 source" in msg and "Kaggle" in msg and "genrec build --library PATH" in msg
    assert not (tmp_path / "g" / "bad-genres.tar.gz").exists()


def test_partial_download_resumes_from_its_own_source_only(server: Server, tmp_path: Path) -> None:
    data = make_targz(GTZAN_LIKE)
    a = Source("a", server.publish("a/genres.tar.gz", data), "sha256", sha256(data))
    b = Source("b", server.publish("b/genres.tar.gz", data), "sha256", sha256(data))
    assert a.archive_name != b.archive_name
    to = tmp_path / "g"
    to.mkdir()
    (to / f"{b.archive_name}.part").write_bytes(data[:100])
    download_gtzan(to, sources=[b, a], progress=False)
    assert server.state.requests == [("/b/genres.tar.gz", "bytes=100-")]


def test_known_sources_in_try_order(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(MIRROR_ENV, raising=False)
    assert [(s.url, s.known_hash) for s in gtzan_sources()] == [
        (GTZAN_MIRROR_URL, f"sha256:{GTZAN_MIRROR_SHA256}"),
        (GTZAN_URL, f"md5:{GTZAN_MD5}"),
    ]
    mine = custom_source("https://example.org/genres.tar.gz", "SHA256:" + "AB" * 32)
    assert mine.algorithm == "sha256" and mine.checksum == "ab" * 32
    monkeypatch.setenv(MIRROR_ENV, f"https://site.example/g.tgz md5:{'0' * 32}")
    assert [s.name for s in gtzan_sources(mine)] == ["custom", "mirror", "huggingface", "uvic"]


@pytest.mark.parametrize("text", ["abc", "sha256:", ":abcd", "sha256:xyz", "sha256:abcd", "nope:abcd"])
def test_bad_checksums_are_refused_with_the_expected_form(text: str) -> None:
    with pytest.raises(DownloadError, match=r"ALGO:HEX|characters|Unknown checksum algorithm"):
        parse_checksum(text)


def test_cli_lists_sources_and_downloads_from_a_custom_mirror(
    server: Server, tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(MIRROR_ENV, raising=False)
    data = make_targz(GTZAN_LIKE)
    url = server.publish("m/genres.tar.gz", data)
    assert main(["download", "gtzan", "--list-sources", "--url", url, "--checksum", f"sha256:{sha256(data)}"]) == 0
    assert capsys.readouterr().out.splitlines() == [url, GTZAN_MIRROR_URL, GTZAN_URL]
    assert main(["download", "gtzan", "--url", url]) == 2
    assert "--url and --checksum go together" in capsys.readouterr().err
    assert main(["download", "gtzan", "--url", url, "--checksum", sha256(data)]) == 2
    assert "ALGO:HEX" in capsys.readouterr().err

    assert (
        main(["download", "gtzan", "--to", str(tmp_path / "g"), "--url", url, "--checksum", f"sha256:{sha256(data)}"])
        == 0
    )
    out = capsys.readouterr().out
    assert f"using custom: {url} (sha256 checksum verified)" in out
    assert f"genrec build --library {tmp_path / 'g' / 'genres'}" in out
    assert server.count() == 1  # the custom mirror came first and worked: no other source was tried


def test_default_folder_is_in_the_data_home(genrec_home: Path) -> None:
    assert gtzan.default_gtzan_home() == genrec_home / "data" / "gtzan"
