"""Intake (SPEC §3): submission, e-mail verification, confirmation, expiry of unverified leads."""
from __future__ import annotations

import ipaddress
import uuid
from datetime import timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from hotlead.core.exceptions import Conflict, InvalidToken, ValidationFailed
from hotlead.core.ratelimit import rate_limit_count, rate_limit_hit
from hotlead.core.rows import Row, id_taken, ids_draw, rows_insert, rows_scope
from hotlead.core.services import audit_record
from hotlead.leads import codes, metrics
from hotlead.leads.enums import LeadStatus
from hotlead.leads.exceptions import CodeExpired, InvalidCode, VerificationLocked
from hotlead.leads.lock_objects import leads_unverified_lock, verification_current_lock
from hotlead.leads.models import Category, Lead, LeadEvent, LeadVerification
from hotlead.leads.references import reference_generate
from hotlead.leads.selectors import (
    DUPLICATE_EVENT_DATA,
    DUPLICATE_FLAG,
    DUPLICATE_OF_ID,
    category_active_by_slug,
    duplicate_read,
    reference_unused,
)
from hotlead.leads.services.lifecycle import after_commit, lead_locked, transition_locked
from hotlead.leads.validation import LeadSubmission, submission_clean
from hotlead.notifications.models import EmailEvent
from hotlead.notifications.services import email_delivery_row, email_event_row, email_queue, emails_deliver

if TYPE_CHECKING:
    from django.db.models import Model

_REFERENCE_TRIES = 3  # a clash is about 1 in 24 at a million leads (references.py); three in a row, next to never


def _policy(name: str):
    return settings.HOTLEAD[name]



# --- intake ----------------------------------------------------------------------------------------

def _ip_or_none(ip: str | None) -> str | None:
    try:
        return str(ipaddress.ip_address(ip or ""))
    except ValueError:
        return None


def _verification_rows(lead: Lead, *, verification_id: int, email_id: int) -> tuple[list[Row], bool]:
    """A fresh code and link token for the lead and the e-mail that sends them (both sealed in its context), as rows
    to write (`rows_insert`, with their ids drawn): the code, the e-mail and, where jobs are queued in this
    database, the e-mail's delivery job. Returns (rows, whether the job is among them: if not, `emails_deliver`)."""
    code, link_token = codes.code_generate(), codes.token_generate()
    key = str(lead.public_id)
    ttl = _policy("VERIFICATION_CODE_TTL_MINUTES")
    verification = Row(LeadVerification, {
        "id": verification_id,
        "lead_id": lead.pk,
        "code_hash": codes.secret_digest(purpose="code", lead_key=key, value=code),
        "link_token_hash": codes.secret_digest(purpose="link", lead_key=key, value=link_token),
        "expires_at": timezone.now() + timedelta(minutes=ttl),
    })
    template = "lead_verification"
    email = email_event_row(
        pk=email_id,
        template=template,
        to=lead.email,
        context={
            "name": lead.name,
            "category": lead.category.name,
            "lead_id": key,
            "reference": lead.reference,
            "secrets_sealed": codes.seal_many(code=code, link_token=link_token),
            "ttl_minutes": ttl,
        },
        related=lead,
        dedupe_key=f"lead_verification:{verification_id}",
    )
    job = email_delivery_row(email_id, template=template)
    return [verification, email, *([job] if job is not None else [])], job is not None


def lead_submit(*, submission: LeadSubmission, ip: str, user_agent: str = "", api_client: str = "",
                lead_source=None) -> Lead:
    """Validate and store a new lead, flag a possible duplicate, e-mail the verification code.

    Rate limited per IP; every attempt counts, valid or not, so the limit also slows down probing. A lead
    posted by a lead source (its API key, SPEC §8.2) counts against the source's own limit instead, is
    audited, and when the source verifies e-mail upstream it skips our verification and goes to review.
    """
    limit = ({"scope": "lead_submit_ip", "key": ip} if lead_source is None else
             {"scope": "lead_submit_source", "key": f"source:{lead_source.pk}", "rule": lead_source.rate_limit or None})
    slug = submission.category.strip().lower()
    category = category_active_by_slug(slug) if slug else None
    try:
        fields = submission_clean(submission, category_known=category is not None)
    except ValidationFailed:
        rate_limit_hit(**limit)  # counted (and committed) on its own; over the limit, the 429 wins
        raise
    for attempt in range(_REFERENCE_TRIES):
        reference = reference_generate() if attempt == 0 else reference_unused()
        try:
            # The lead and its rows are one statement, atomic by itself (_lead_store; `rows_scope`: a savepoint inside
            # a caller's transaction, so a reference clash rolls back only this try). A keyed lead is audited (and,
            # verified upstream, moved on) with it, so that path takes a transaction around them.
            with transaction.atomic() if lead_source is not None else rows_scope():
                return _lead_store(fields, category=category, ip=ip, user_agent=user_agent, api_client=api_client,
                                   lead_source=lead_source, reference=reference, limit=limit)
        except IntegrityError as exc:
            # A new reference drawn on the unique index, rather than a look-up for every lead; then checked ones. A
            # drawn id in use (the database restored under this process: rows_insert dropped its id blocks) is
            # drawn again too.
            if not ("reference" in str(exc) or id_taken(exc)) or attempt == _REFERENCE_TRIES - 1:
                raise
    raise AssertionError("unreachable")


def _lead_store(fields: dict, *, category: Category, ip: str, user_agent: str, api_client: str, lead_source,
                reference: str, limit: dict) -> Lead:
    """The lead, its first history event and (unless its source verified the e-mail) its code, e-mail and delivery
    job, written in one statement with the attempt's count and the duplicate check (hotlead.core.rows): nothing but
    the count is written over the limit. A submission's cost was mostly the round trips of five INSERTs and their
    transaction, then of the ids' draw and the duplicate check before them."""
    count = rate_limit_count(**limit)
    if count is None:  # the counters live in Redis: counted first, and nothing is written over the limit
        rate_limit_hit(**limit)
    now = timezone.now()
    verify = lead_source is None or not lead_source.verified_upstream
    lead_id, *verification_ids = ids_draw(Lead, *((LeadVerification, EmailEvent) if verify else ()))
    lead = Lead(
        pk=lead_id,
        **fields,
        reference=reference,
        category=category,
        consent_text_version=_policy("CONSENT_TEXT_VERSION"),
        consent_at=now,
        consent_ip=_ip_or_none(ip),
        consent_user_agent=user_agent[:400],
        api_client=api_client[:100],
        lead_source=lead_source,
        status=LeadStatus.PENDING_VERIFICATION,
        status_changed_at=now,
        possible_duplicate=DUPLICATE_FLAG,  # from the duplicate check, by the statement that writes the lead
        duplicate_of_id=DUPLICATE_OF_ID,
    )
    rows: list[Model | Row] = [lead, Row(LeadEvent, {
        "lead_id": lead_id, "to_status": LeadStatus.PENDING_VERIFICATION, "action": "submitted",
        "data": DUPLICATE_EVENT_DATA,
    })]
    email_id, job_written = None, False
    if verify:
        verification_id, email_id = verification_ids
        more, job_written = _verification_rows(lead, verification_id=verification_id, email_id=email_id)
        rows += more
    counted, _ = rows_insert(
        rows, gate=count.gate if count is not None else None,
        read=duplicate_read(email=fields["email"], phone=fields["phone"], category_id=category.pk, now=now))
    if count is not None:
        count.check(counted)
    if email_id is not None and not job_written:
        emails_deliver([email_id])
    if lead_source is not None:
        _lead_source_intake(lead, lead_source)
    after_commit(metrics.LEADS_SUBMITTED.labels(source=metrics.source_label(lead.source)).inc)
    return lead


def _lead_source_intake(lead: Lead, lead_source) -> None:
    """A keyed lead: audited; a verified-upstream source's lead goes straight to review (no code e-mailed)."""
    audit_record(action="lead.submitted_by_source", obj=lead, changes={
        "lead_source": lead_source.pk, "name": lead_source.name, "verified_upstream": lead_source.verified_upstream})
    if not lead_source.verified_upstream:
        return
    now = timezone.now()
    note = f"E-mail verified upstream by the lead source {lead_source.name}."
    transition_locked(lead, to_status=LeadStatus.VERIFIED, action="verified_upstream", note=note,
                data={"lead_source": lead_source.pk}, changes={"verified_at": now})
    transition_locked(lead, to_status=LeadStatus.PENDING_REVIEW, action="confirmed_upstream", note=note,
                data={"lead_source": lead_source.pk}, changes={"confirmed_at": now})


def lead_verify(*, public_id: uuid.UUID, ip: str, code: str | None = None, token: str | None = None
                ) -> tuple[Lead, str]:
    """Check a code (or the e-mailed link's token); on success the lead is verified and a confirm token issued.

    Returns (lead, confirm_token). A wrong try is counted and committed before the error is raised;
    after VERIFICATION_MAX_ATTEMPTS wrong tries the code is locked until a new one is sent.
    """
    if bool(code) == bool(token):
        raise ValidationFailed.for_field("code", "Enter the 6-digit code from the e-mail.")
    rate_limit_hit(scope="lead_verify_ip", key=ip)
    rate_limit_hit(scope="lead_verify_lead", key=str(public_id))
    max_attempts = _policy("VERIFICATION_MAX_ATTEMPTS")
    # The wrong-try counter must survive the error, so the atomic block ends before anything is raised.
    with transaction.atomic():
        lead = lead_locked(public_id=public_id)
        if lead.status != LeadStatus.PENDING_VERIFICATION:
            raise Conflict("This request is not waiting for verification.", details={"status": lead.status})
        verification = verification_current_lock(lead=lead)
        if verification is None:
            raise Conflict("There is no code to check; ask for a new one.", details={"status": lead.status})
        if verification.attempts >= max_attempts:
            failure = "locked"
        elif verification.expires_at <= timezone.now():
            failure = "expired"
        else:
            purpose, value, digest = (
                ("code", code.strip(), verification.code_hash) if code
                else ("link", token.strip(), verification.link_token_hash)
            )
            if codes.secret_matches(digest=digest, purpose=purpose, lead_key=str(lead.public_id), value=value):
                confirm_token = codes.token_generate()
                LeadVerification.objects.filter(pk=verification.pk).update(
                    used_at=timezone.now(),
                    confirm_token_hash=codes.secret_digest(
                        purpose="confirm", lead_key=str(lead.public_id), value=confirm_token),
                )
                transition_locked(lead, to_status=LeadStatus.VERIFIED, action="verified", data={"method": purpose},
                            changes={"verified_at": timezone.now()})
                after_commit(metrics.LEADS_VERIFIED.inc)
                return lead, confirm_token
            LeadVerification.objects.filter(pk=verification.pk).update(attempts=F("attempts") + 1)
            failure = "wrong"
            attempts_left = max(0, max_attempts - verification.attempts - 1)
    if failure == "locked":
        raise VerificationLocked(details={"fields": [{"field": "code", "message": VerificationLocked.default_message}]})
    if failure == "expired":
        raise CodeExpired(details={"fields": [{"field": "code", "message": CodeExpired.default_message}]})
    message = "The code is not correct." + (" Ask for a new code." if attempts_left == 0 else "")
    raise InvalidCode(
        message,
        details={"fields": [{"field": "code", "message": message}], "attempts_left": attempts_left},
    )


def lead_code_resend(*, public_id: uuid.UUID, ip: str) -> Lead:
    """Replace the current code with a new one (this also lifts a lockout); rate limited per lead and IP."""
    rate_limit_hit(scope="lead_resend_ip", key=ip)
    rate_limit_hit(scope="lead_resend_lead", key=str(public_id))
    with transaction.atomic():
        lead = lead_locked(public_id=public_id)
        if lead.status != LeadStatus.PENDING_VERIFICATION:
            raise Conflict("This request is not waiting for verification.", details={"status": lead.status})
        LeadVerification.objects.filter(lead=lead, superseded_at__isnull=True, used_at__isnull=True).update(
            superseded_at=timezone.now()
        )
        verification_id, email_id = ids_draw(LeadVerification, EmailEvent)
        rows, job_written = _verification_rows(lead, verification_id=verification_id, email_id=email_id)
        rows_insert([*rows, Row(LeadEvent, {"lead_id": lead.pk, "action": "code_resent"})])
        if not job_written:
            emails_deliver([email_id])
    return lead


@transaction.atomic
def lead_confirm(*, public_id: uuid.UUID, confirm_token: str) -> Lead:
    """The submitter confirms a verified lead (with the token from verify); it goes to review."""
    lead = lead_locked(public_id=public_id)
    if lead.status != LeadStatus.VERIFIED:
        raise Conflict("This request cannot be confirmed now.", details={"status": lead.status})
    verification = lead.verifications.filter(used_at__isnull=False).order_by("-used_at", "-id").first()
    if verification is None or not codes.secret_matches(
        digest=verification.confirm_token_hash, purpose="confirm", lead_key=str(lead.public_id),
        value=(confirm_token or "").strip(),
    ):
        raise InvalidToken(
            "The confirmation token is not valid.",
            details={"fields": [{"field": "confirm_token", "message": "The confirmation token is not valid."}]},
        )
    transition_locked(lead, to_status=LeadStatus.PENDING_REVIEW, action="confirmed",
                changes={"confirmed_at": timezone.now()})
    email_queue(
        template="lead_received", to=lead.email,
        context={"name": lead.name, "category": lead.category.name, "lead_id": str(lead.public_id),
                 "reference": lead.reference},
        related=lead, dedupe_key=f"lead_received:{lead.pk}",
    )
    after_commit(metrics.LEADS_CONFIRMED.inc)
    return lead


@transaction.atomic
def lead_expire_unverified(*, batch_size: int = 500) -> int:
    """Expire leads still unverified after UNVERIFIED_LEAD_TTL_HOURS. Idempotent; skips rows being verified now."""
    cutoff = timezone.now() - timedelta(hours=_policy("UNVERIFIED_LEAD_TTL_HOURS"))
    leads = leads_unverified_lock(created_before=cutoff, limit=batch_size)
    for lead in leads:
        transition_locked(lead, to_status=LeadStatus.EXPIRED, action="expired",
                    data={"ttl_hours": _policy("UNVERIFIED_LEAD_TTL_HOURS")})
    if leads:
        after_commit(metrics.LEADS_EXPIRED.inc, len(leads))
    return len(leads)


