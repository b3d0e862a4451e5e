"""The board's entry point: `streamlit run dashboards/app.py` shows Savings and Approvals."""

from __future__ import annotations

import streamlit as st

from dashboards.approvals_page import show_approvals_page
from dashboards.savings_page import show_savings_page

st.set_page_config(page_title="factory-agents", page_icon=":material/factory:", layout="wide")
st.navigation(
    [
        st.Page(
            show_savings_page,
            title="Savings",
            icon=":material/savings:",
            default=True,  # served at the root URL; Streamlit ignores url_path here
        ),
        st.Page(
            show_approvals_page,
            title="Approvals",
            icon=":material/approval:",
            url_path="approvals",
        ),
    ]
).run()
