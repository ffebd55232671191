"""The one checksum parser and the one version gatherer that download, gtzan, bundles and records share."""

from __future__ import annotations

import platform

from genrec.utils.fileio import split_checksum
from genrec.utils.versions import package_versions


def test_split_checksum_reads_algo_colon_hex_in_lower_case() -> None:
    assert split_checksum(" SHA256:AB12 ") == ("sha256", "ab12")
    assert split_checksum("md5: ff ") == ("md5", "ff")


def test_split_checksum_refuses_what_is_not_algo_colon_hex() -> None:
    for text in ("ab12", ":ab12", "sha256:", "sha256:xyz", "sha256:ab 12"):
        assert split_checksum(text) is None, text


def test_split_checksum_takes_bare_hex_only_with_a_default_algorithm() -> None:
    assert split_checksum("AB12", "sha256") == ("sha256", "ab12")
    assert split_checksum("md5:ab12", "sha256") == ("md5", "ab12")
    assert split_checksum("zz", "sha256") is None


def test_package_versions_lists_installed_packages_and_leaves_out_the_rest() -> None:
    versions = package_versions(["numpy", "no-such-package-genrec"], python=True)
    assert versions["python"] == platform.python_version()
    assert "numpy" in versions and "no-such-package-genrec" not in versions
    assert "python" not in package_versions(["numpy"])
