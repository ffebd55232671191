"""Older home of the demo builder; everything now lives in :mod:`genrec.build` (``genrec demo`` is
``genrec build --library demo --weights none``)."""
from genrec.build import DEMO_SETTINGS, RUN_LINE, build_demo, build_demo_in_subprocess

__all__ = ["DEMO_SETTINGS", "RUN_LINE", "build_demo", "build_demo_in_subprocess"]
