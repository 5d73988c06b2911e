from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "hotlead.notifications"
    label = "notifications"
    verbose_name = "Notifications"
