"""Monthly reports per provider and the public transparency summary.

The figures themselves come from ``claims.dashboards.figures``: this package only chooses whose
figures a reader may see, lays them out (HTML, PDF, JSON) and suppresses small cells for the public.
"""
