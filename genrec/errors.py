"""The one family of errors genrec raises for problems a user can fix.

Every message names the thing at fault (a file, a folder, a run) and says what
to do about it; the CLI prints it without a traceback and the app shows it as
``st.error``.
"""

from __future__ import annotations


class GenrecError(Exception):
    """Base class: a problem with the user's input, data or environment."""


class AudioError(GenrecError):
    """A file could not be used as audio (unsupported, corrupt, too short, silent)."""


class LibraryError(GenrecError):
    """A music library folder or split file is missing or malformed."""


class DownloadError(GenrecError):
    """A download failed, was incomplete, or did not match its checksum."""


class WeightsError(GenrecError):
    """Backbone weights could not be obtained or do not fit the architecture."""


class RunError(GenrecError):
    """A saved run is missing files, truncated or otherwise unreadable."""


class CatalogueError(GenrecError):
    """A catalogue could not be built or opened (bad folder or name, missing or damaged files)."""
