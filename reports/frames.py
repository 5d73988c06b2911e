"""Shaping of report rows with pandas: zero-filled days, pivots for charts, totals that are the rows' sums.

The selectors aggregate in SQL and hand back small, sparse row lists; nothing here touches the database.
"""
from __future__ import annotations

from datetime import date

import pandas as pd

from reports.ranges import DateRange

MONEY_FIELDS = ("assignments", "charges_cents", "refunds_cents")


def _int_records(frame: pd.DataFrame) -> list[dict]:
    return [{k: (int(v) if k != "key" else v) for k, v in row.items()} for row in frame.to_dict("records")]


def revenue_frame_shape(*, rows: list[dict], group_by: str, rng: DateRange) -> tuple[list[dict], dict]:
    """Rows with net_cents, every day of the range present when grouped by day, and their sum as the total."""
    frame = pd.DataFrame(rows, columns=["key", *MONEY_FIELDS])
    if group_by == "day":
        days = [d.isoformat() for d in rng.days]
        frame = frame.set_index("key").reindex(days, fill_value=0).rename_axis("key").reset_index()
    frame[list(MONEY_FIELDS)] = frame[list(MONEY_FIELDS)].fillna(0).astype("int64")
    frame["net_cents"] = frame["charges_cents"] - frame["refunds_cents"]
    total = {k: int(frame[k].sum()) for k in (*MONEY_FIELDS, "net_cents")}
    return _int_records(frame), total


def days_by_series(*, rows: list[dict], days: list[date], series_field: str, value_field: str,
                   series: list[str] | None = None) -> tuple[list[str], dict[str, list[int]]]:
    """A sparse [{day, <series>, <value>}] list as {series: [value per day]} with every day filled (zeros)."""
    frame = pd.DataFrame(rows, columns=["day", series_field, value_field])
    table = frame.pivot_table(index="day", columns=series_field, values=value_field, aggfunc="sum", fill_value=0)
    table = table.reindex(index=days, fill_value=0)
    names = series if series is not None else [str(c) for c in table.columns]
    table = table.reindex(columns=names, fill_value=0).fillna(0)
    return [d.isoformat() for d in days], {name: [int(v) for v in table[name].tolist()] for name in names}
