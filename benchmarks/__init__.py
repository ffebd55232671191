"""genrec's benchmarks: each module is a script, run from the project root as ``python -m benchmarks.NAME``.

The helpers they share, one module a concern:

- ``benchmarks.workspace``: a quiet TensorFlow, a throwaway GENREC_HOME, the library and runs to measure;
- ``benchmarks.measure``: wall and CPU timers, medians, peak memory;
- ``benchmarks.report``: the machine-and-versions header, plain text tables, JSON figures, the run footer.

The Streamlit server the app benchmarks start is ``tools.app_server`` (shared with the browser test).
"""
