"""The Streamlit app `winnow dashboard` starts: one page per stage, each its own module."""

import streamlit as st

from winnow.dashboard.common import PAGES

st.set_page_config(page_title="Winnow", layout="wide")
st.navigation(
    [
        st.Page(script, title=path.title(), url_path=path, default=path == "home")
        for path, script in PAGES.items()
    ]
).run()
