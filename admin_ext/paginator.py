"""A paginator that never counts a big table in full on every page load.

Django's changelist asks the paginator for `count` (a `SELECT COUNT(*)` over the filtered rows) on every
load. Here the count stops at `EXACT_UP_TO` rows (`SELECT count(*) FROM (… LIMIT n)`): small lists and
narrow filters get their exact count; beyond that the planner's estimate of the filtered query stands in
(EXPLAIN, no scan), shown as "about N" by the list template.
"""
from __future__ import annotations

import json

from django.core.paginator import Paginator
from django.db import connections
from django.utils.functional import cached_property

EXACT_UP_TO = 10_000


class EstimatedCountPaginator(Paginator):
    exact_up_to = EXACT_UP_TO

    @cached_property
    def count(self) -> int:
        qs = self.object_list
        if not hasattr(qs, "query"):
            return super().count
        capped = qs.order_by().values("pk")[: self.exact_up_to + 1].count()
        if capped <= self.exact_up_to:
            self.estimated = False
            return capped
        self.estimated = True
        return max(self._planner_estimate(qs), capped)

    @staticmethod
    def _planner_estimate(qs) -> int:
        connection = connections[qs.db]
        if connection.vendor != "postgresql":
            return qs.count()
        sql, params = qs.order_by().values("pk").query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
            plan = cursor.fetchone()[0]
        if isinstance(plan, str):
            plan = json.loads(plan)
        return int(plan[0]["Plan"]["Plan Rows"])
