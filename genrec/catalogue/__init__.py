"""Catalogues: any music folder embedded with a run's model, to recommend from.

``build_catalogue`` (:mod:`.build`) scans a folder (:mod:`.scan`), embeds new
files with the local engine (:mod:`.local`, processes on this machine) or Ray
Data (:mod:`.ray_engine`), both through :mod:`.embed`, and writes the result
beside the run (:mod:`.store`), where :class:`Catalogue` reads it back.
"""

from genrec.catalogue.build import ENGINES, BuildReport, build_catalogue
from genrec.catalogue.store import Catalogue, is_servable, list_catalogues, open_catalogue

__all__ = ["ENGINES", "BuildReport", "Catalogue", "build_catalogue", "is_servable", "list_catalogues", "open_catalogue"]
