"""Stage 4, the UI's side of the app that is not Streamlit: labels and tables (``dashboard``), Plotly
figures (``plots``, ``analysis_plots``), the library map (``projection``) and the app's build jobs
(``buildjob``). Nothing is re-exported here, so that a page imports only what it draws."""
