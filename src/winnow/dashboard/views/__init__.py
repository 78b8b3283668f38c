"""Page scripts of the dashboard; Streamlit runs each one as its own script."""
