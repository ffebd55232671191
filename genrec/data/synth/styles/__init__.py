"""The ten synthetic styles, one module each, named after the GTZAN genres.

Each module's ``arrange_<style>(song)`` sets the tempo, swing and chord progression
of a ``Song`` and lays its parts (drums, bass, chords, lead) onto buses with their
effects; ``genrec.data.synth.mix`` then renders the buses.  The artist's flavour
(``song.flavour``, 0-3) picks one of the four sub-styles listed in
``genrec.data.synth.artists.FLAVOURS``.
"""

from __future__ import annotations

from collections.abc import Callable

from genrec.data.synth.song import Song
from genrec.data.synth.styles.blues import arrange_blues
from genrec.data.synth.styles.classical import arrange_classical
from genrec.data.synth.styles.country import arrange_country
from genrec.data.synth.styles.disco import arrange_disco
from genrec.data.synth.styles.hiphop import arrange_hiphop
from genrec.data.synth.styles.jazz import arrange_jazz
from genrec.data.synth.styles.metal import arrange_metal
from genrec.data.synth.styles.pop import arrange_pop
from genrec.data.synth.styles.reggae import arrange_reggae
from genrec.data.synth.styles.rock import arrange_rock

#: How each synthetic style is made (one line each, for the README and the app).
STYLE_NOTES: dict[str, str] = {
    "blues": "synthetic: 12-bar I7-IV7-V7 shuffle (swung 8ths), boogie/walking bass, "
    "overdriven or acoustic slide guitar and harmonica-like reed with bends, 58-135 bpm, often lo-fi",
    "classical": "synthetic: no drums; detuned-saw string sections with slow attack and vibrato, "
    "piano arpeggios, flute/reed/brass swells, timpani, rubato tempo, long hall reverb",
    "country": "synthetic: major keys, twangy plucked guitars and fiddle/steel leads with slides, "
    "brushed train beat or shuffle, boom-chick root-fifth bass, 80-140 bpm",
    "disco": "synthetic: 110-130 bpm four-on-the-floor kick with offbeat open hats and claps, "
    "octave-jumping bass, string/brass stabs, electric piano, sidechain pumping",
    "hiphop": "synthetic: 80-100 bpm swung boom-bap or half-time beats, heavy kick and 808 bass, "
    "sparse minor chords (piano/e-piano/pad), vinyl crackle, lo-fi filtering",
    "jazz": "synthetic: swing ride with hat on 2 and 4, walking upright bass, rootless 7th/9th/13th "
    "piano or organ comping on ii-V-I changes, sax/trumpet-like lines; ballads with brushes",
    "metal": "synthetic: 140-200 bpm double kick, heavily clipped power chords and 16th palm mutes "
    "in low minor/phrygian keys, gallops, crash-heavy, harmonised distorted leads",
    "pop": "synthetic: 100-130 bpm, I-V-vi-IV progressions, bright saw/square synths and plucks, "
    "clap backbeat or four-on-the-floor, vocal-like lead with vibrato, piano ballads",
    "reggae": "synthetic: 70-90 bpm one-drop or steppers drums, offbeat skank chords and organ bubble, "
    "loud dark melodic bass, dub echo and reverb",
    "rock": "synthetic: 100-150 bpm backbeat, moderately overdriven power/open chords, 8th-note bass, "
    "guitar solos with bends; punk, indie, classic and blues-rock flavours",
}

#: The arrangement function of each style, in ``GENRES`` order.
STYLES: dict[str, Callable[[Song], None]] = {
    "blues": arrange_blues,
    "classical": arrange_classical,
    "country": arrange_country,
    "disco": arrange_disco,
    "hiphop": arrange_hiphop,
    "jazz": arrange_jazz,
    "metal": arrange_metal,
    "pop": arrange_pop,
    "reggae": arrange_reggae,
    "rock": arrange_rock,
}
