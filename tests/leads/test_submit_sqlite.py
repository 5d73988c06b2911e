"""The demo runs on SQLite (scripts/run): a lead is submitted, gets its code and a new one there too — the ids are
read off the tables inside an IMMEDIATE transaction there, not drawn from sequences (hotlead/core/rows.py)."""
from __future__ import annotations

from tests.test_setup_contract import run_django

SCRIPT = r"""
import django; django.setup()
from django.core.management import call_command
from django.db import connection
from django.test import Client
call_command("migrate", verbosity=0)
assert connection.vendor == "sqlite"
from django_q.models import OrmQ
from hotlead.leads.models import Category, Lead, LeadEvent, LeadVerification
from hotlead.leads.services.intake import lead_code_resend
from hotlead.notifications.models import EmailEvent
Category.objects.create(slug="roofing", name="Roofing")
client = Client(HTTP_HOST="127.0.0.1")
body = {"name": "Pat Demo", "email": "pat@example.org", "phone": "(415) 867-5309", "postal_code": "94110",
        "category": "roofing", "description": "The roof leaks over the kitchen.", "consent": True}
ids = []
for n in range(3):
    response = client.post("/api/v1/leads", {**body, "email": f"pat{n}@example.org"}, content_type="application/json")
    assert response.status_code == 202, response.content
    ids.append(response.json()["id"])
lead = Lead.objects.get(public_id=ids[-1])
assert lead.possible_duplicate and lead.duplicate_of.public_id.hex == ids[-2].replace("-", "")
first = Lead.objects.get(public_id=ids[0])
assert not first.possible_duplicate and first.duplicate_of_id is None
assert LeadEvent.objects.get(lead=first, action="submitted").data == {}
assert LeadEvent.objects.get(lead=lead, action="submitted").data == {"duplicate_of": ids[-2]}
verification = LeadVerification.objects.get(lead=lead)
email = EmailEvent.objects.get(related_id=str(lead.pk))
assert email.dedupe_key == f"lead_verification:{verification.pk}"
assert LeadEvent.objects.filter(lead=lead, action="submitted").count() == 1
lead_code_resend(public_id=lead.public_id, ip="203.0.113.5")
assert LeadVerification.objects.filter(lead=lead).count() == 2
assert EmailEvent.objects.filter(related_id=str(lead.pk)).count() == 2
assert OrmQ.objects.count() == 4, OrmQ.objects.count()
print("sqlite intake ok")
"""


def test_submission_and_a_new_code_work_on_the_sqlite_demo(tmp_path):
    result = run_django(["-c", SCRIPT], env={"DEBUG": "1"}, tmp_path=tmp_path, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "sqlite intake ok" in result.stdout
