"""The Streamlit dashboard: browse and label data, run jobs, compare evals."""
