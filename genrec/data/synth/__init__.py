"""A deterministic, seeded *synthetic* music library: the built-in demo library.

Nothing here is real music.  Every clip is rendered from scratch with numpy so
that a fresh machine can train and demo the classifier without downloading
GTZAN.  The ten "styles" borrow the GTZAN genre names and imitate the obvious
surface features of each genre (tempo range, drum pattern, swing, harmony,
timbre, distortion, reverb), with deliberate per-artist and per-clip
variation so that neighbouring styles overlap the way real genres do
(rock/metal, disco/pop, blues/jazz/country, ...).

Where things are (a clip flows top to bottom):

=====================  ==============================================================
``seeds``              version, seeded random streams, track and artist ids
``theory``             scales, chord qualities, voicings, MIDI pitch
``voices``             pitched instruments: wavetables, the timbre table, one note
``drums``              drum sounds: kick, snare, hats, cymbals, clap, rim, brush, shaker
``artists``            four flavours per style and each pseudo-artist's palette
``song``               ``Song``: tempo map, swing, chord progression, buses, note placement
``parts``              musical lines: drum patterns, melody, bass lines, chords, riffs
``styles/<genre>``     one arrangement per style (``STYLES``), plus ``STYLE_NOTES``
``mix``                bus effects, reverb/echo sends, hiss, limiter to -1 dBFS
``clip``               ``synthesize_clip``: song -> style -> mix
``writer``             ``write_library``: the FLAC files on disk, atomically, cached
=====================  ==============================================================

Determinism: every random choice comes from ``np.random.default_rng`` seeded
with a SHA-256 of ``(version, seed, genre, index)``; the same arguments give
bit-identical audio on the same platform and numpy build
(``tests/data/test_synth_golden.py`` checks it).
"""

from __future__ import annotations

from genrec.data.synth.artists import FLAVOURS, artist_palette
from genrec.data.synth.clip import synthesize_clip
from genrec.data.synth.seeds import ARTISTS_PER_GENRE, SYNTH_VERSION, artist_of, track_id
from genrec.data.synth.song import Song
from genrec.data.synth.styles import STYLE_NOTES, STYLES
from genrec.data.synth.writer import write_library

__all__ = [
    "ARTISTS_PER_GENRE",
    "FLAVOURS",
    "STYLES",
    "STYLE_NOTES",
    "SYNTH_VERSION",
    "Song",
    "artist_of",
    "artist_palette",
    "synthesize_clip",
    "track_id",
    "write_library",
]
