"""Response-time dashboards: roll-ups of cases and SLA clocks, and the figures read from them.

``figures.dashboard_figures(user=..., filters=...)`` is the one entry point for pages, exports
and reports; ``rollup.rollups_refresh()`` keeps the monthly roll-up current (a beat task).
"""
