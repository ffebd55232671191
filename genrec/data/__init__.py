"""Where the music comes from: libraries (the synthetic demo, GTZAN, any GTZAN-shaped folder), the GTZAN
mirrors with their checksums, safe downloads, and the artist-filtered split."""

from genrec.data.download import download_file, extract_archive
from genrec.data.gtzan import download_gtzan, gtzan_sources
from genrec.data.library import Library, load_demo, load_gtzan, load_library
from genrec.data.reachability import check_sources

__all__ = [
    "Library",
    "check_sources",
    "download_file",
    "download_gtzan",
    "extract_archive",
    "gtzan_sources",
    "load_demo",
    "load_gtzan",
    "load_library",
]
