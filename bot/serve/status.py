"""The status page (`GET /`): the store's queue, recent jobs and PRs through `templates/status.html.j2`.

The page is a template of the render environment it is given (the App's, so a user's
`EVALBOT_TEMPLATES_DIR` may override it); `*.html.j2` templates are autoescaped, so repo ids,
errors and PR fields from the store are always HTML-escaped.
"""

from __future__ import annotations

import jinja2

from bot.core.render import render_template
from bot.edges.store import Store

STATUS_TEMPLATE = "status.html.j2"
RECENT = 50  # jobs and PRs shown


def render_status(templates: jinja2.Environment, store: Store) -> str:
    """The status page's HTML.

    Raises:
        TemplateError: The (user's) template failed to render.
    """
    return render_template(
        templates,
        STATUS_TEMPLATE,
        counts=store.job_counts(),
        jobs=store.list_jobs(limit=RECENT),
        prs=store.list_prs(limit=RECENT),
    )
