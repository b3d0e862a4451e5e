"""The board's entry point: `streamlit run dashboards/app.py`.

Each run first settles who is signed in (locking an idle session), then hands st.navigation
only the pages that user may open; a session nobody is signed in to gets the login page alone.
"""

from __future__ import annotations

import streamlit as st

from dashboards import session
from dashboards.kill_switch import show_kill_switch
from dashboards.navigation import pages_for
from dashboards.session import BoardUser


def show_signed_in(user: BoardUser) -> None:
    """Who is signed in, in which roles, and a sign-out button (sidebar)."""
    with st.sidebar:
        st.markdown(f"**{user.full_name}** ({user.id})")
        st.caption(f"{user.role_names} · areas {', '.join(user.areas)}")
        st.button("Sign out", key="sign_out", on_click=session.sign_out, icon=":material/logout:")
        show_kill_switch(user)


st.set_page_config(page_title="factory-agents", page_icon=":material/factory:", layout="wide")
user = session.current_user()
if user is not None:
    session.touch()
    show_signed_in(user)
pages = [
    st.Page(page.show, title=page.title, icon=page.icon, url_path=page.url_path, default=i == 0)
    for i, page in enumerate(pages_for(user))
]
st.navigation(pages).run()
