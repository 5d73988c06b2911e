"""The custom user: e-mail login and a role separating staff from providers."""
from __future__ import annotations

from django.contrib.auth.base_user import BaseUserManager
from django.contrib.auth.models import AbstractBaseUser, PermissionsMixin
from django.db import models
from django.utils import timezone


class Role(models.TextChoices):
    STAFF = "staff", "Staff"
    PROVIDER = "provider", "Provider"


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create(self, email: str, password: str | None, **extra):
        if not email:
            raise ValueError("An e-mail address is required")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra):
        extra.setdefault("role", Role.PROVIDER)
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create(email, password, **extra)

    def create_staff(self, email: str, password: str | None = None, **extra):
        extra.setdefault("role", Role.STAFF)
        extra.setdefault("is_staff", True)
        return self._create(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra):
        extra.setdefault("role", Role.STAFF)
        extra["is_staff"] = True
        extra["is_superuser"] = True
        return self._create(email, password, **extra)

    def get_by_natural_key(self, username):
        return self.get(**{f"{self.model.USERNAME_FIELD}__iexact": username})


class User(AbstractBaseUser, PermissionsMixin):
    email = models.EmailField(unique=True)
    full_name = models.CharField(max_length=200, blank=True)
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.PROVIDER, db_index=True)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False, help_text="Can log into the admin console (with MFA).")
    date_joined = models.DateTimeField(default=timezone.now)
    # Bumped on password change/reset: every JWT issued before is refused.
    token_version = models.PositiveIntegerField(default=0)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        ordering = ["email"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(role="provider", is_staff=True),
                name="user_provider_is_not_staff",
            )
        ]

    def __str__(self) -> str:
        return self.email

    @property
    def is_provider(self) -> bool:
        return self.role == Role.PROVIDER

    @property
    def is_ops_staff(self) -> bool:
        return self.role == Role.STAFF and self.is_staff and self.is_active
