"""Run by tests/ops/test_qcluster_crash.py in a subprocess with the real cluster's settings (its broker):
`python -m tests.ops.crash_drive <staff_id> <lead_id>...` approves the leads one by one, as reviewers do."""
import os
import sys


def main(argv: list[str]) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hotlead.settings.test")
    import django

    django.setup()
    from hotlead.accounts.models import User
    from hotlead.leads.services.lifecycle import lead_approve

    staff = User.objects.get(pk=int(argv[0]))
    for lead_id in argv[1:]:
        lead_approve(lead_id=int(lead_id), actor=staff)


if __name__ == "__main__":
    main(sys.argv[1:])
