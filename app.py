"""genrec dashboard: `streamlit run app.py`.

Pages live in ``pages/``; they only draw what ``genrec`` computes. With no
saved runs the app opens on a panel that builds the demo or the real GTZAN runs;
the same choices stay on the "Build runs" page. The page list and sidebar are
:func:`pages._common.run_app`.
"""

from pages._common import run_app

run_app()
