"""The provider portal at /portal/. Later issues add their pages here, one line each, e.g.

    path("inbox/", inbox.inbox, name="inbox"),            # shows up in the nav as "Inbox"
    path("subscriptions/", subscriptions.index, name="subscriptions"),
    path("billing/", billing.index, name="billing"),

Views use `hotlead.portal.decorators.portal_login_required` and templates extend "portal/base.html".
"""
from django.urls import path

from hotlead.portal import views_leads, views_money, views_refunds, views_reports, views_webhook
from hotlead.portal.views import account, auth

app_name = "portal"

urlpatterns = [
    path("", views_leads.home, name="home"),
    # signing in and out, registration, e-mail verification, password reset
    path("login/", auth.PortalLoginView.as_view(), name="login"),
    path("logout/", auth.logout_view, name="logout"),
    path("register/", auth.register, name="register"),
    path("register/check-email/", auth.check_email, name="check_email"),
    path("verify-email/resend/", auth.resend_verification, name="resend_verification"),
    path("verify-email/<str:token>/", auth.verify_email, name="verify_email"),
    path("forgot-password/", auth.forgot_password, name="forgot_password"),
    path("reset-password/<str:token>/", auth.reset_password, name="reset_password"),
    # the provider's account
    path("profile/", account.profile, name="profile"),
    path("service-areas/", account.service_areas, name="service_areas"),
    path("preferences/", account.preferences, name="preferences"),
    path("security/", account.security, name="security"),
    path("security/mfa/setup/", account.mfa_setup, name="mfa_setup"),
    path("security/mfa/confirm/", account.mfa_confirm, name="mfa_confirm"),
    path("security/password/", account.password_change, name="password_change"),
    # leads, billing and subscriptions (issue 7)
    path("inbox/", views_leads.inbox, name="inbox"),
    path("leads/<int:assignment_id>/", views_leads.lead, name="lead"),
    path("leads/<int:assignment_id>/accept/", views_leads.lead_accept, name="lead_accept"),
    path("leads/<int:assignment_id>/reject/", views_leads.lead_reject, name="lead_reject"),
    path("billing/", views_money.billing, name="billing"),
    path("subscriptions/", views_money.subscriptions, name="subscriptions"),
    path("subscriptions/new/", views_money.subscription_new, name="subscription_new"),
    path("subscriptions/<int:subscription_id>/", views_money.subscription_edit, name="subscription_edit"),
    path("subscriptions/<int:subscription_id>/pause/", views_money.subscription_pause_view, name="subscription_pause"),
    path("subscriptions/<int:subscription_id>/resume/", views_money.subscription_resume_view,
         name="subscription_resume"),
    path("subscriptions/<int:subscription_id>/cancel/", views_money.subscription_cancel_view,
         name="subscription_cancel"),
    # bad-lead reports
    path("leads/<int:assignment_id>/report/", views_refunds.lead_report, name="lead_report"),
    path("reports/<int:report_id>/", views_refunds.report_sent, name="report_sent"),
    # webhook to the provider's own systems (issue 16)
    path("webhook/", views_webhook.webhook, name="webhook"),
    path("webhook/rotate/", views_webhook.webhook_rotate, name="webhook_rotate"),
    path("webhook/test/", views_webhook.webhook_test, name="webhook_test"),
    path("webhook/enable/", views_webhook.webhook_enable, name="webhook_enable"),
    path("webhook/deliveries/<int:delivery_id>/replay/", views_webhook.webhook_replay, name="webhook_replay"),
    # reports and exports (issue 12)
    path("my-reports/", views_reports.reports_page, name="reports"),
    path("my-reports/exports/<int:export_id>/download/", views_reports.export_download, name="report_export_download"),
]
