from django.db import models


class ExportStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class ExportFormat(models.TextChoices):
    XLSX = "xlsx", "Excel (.xlsx)"
    CSV = "csv", "CSV (.csv)"


class ExportReport(models.TextChoices):
    KPIS = "kpis", "KPIs"
    FUNNEL = "funnel", "Funnel"
    REVENUE = "revenue", "Revenue"
    STARVATION = "starvation", "Starving subscriptions"
    FLAGS = "flags", "Flagged providers"
    LEADS = "leads", "Leads"
    ASSIGNMENTS = "assignments", "Assignments"
    LEDGER = "ledger", "Ledger"


ADMIN_REPORTS = tuple(ExportReport.values)
PROVIDER_REPORTS = ("kpis", "leads", "ledger")
