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


class RefreshToken(models.Model):
    """One issued refresh token, stored as a SHA-256 digest. Rotation keeps the family; reuse revokes it."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="refresh_tokens")
    family = models.UUIDField(db_index=True)
    token_hash = models.CharField(max_length=64, unique=True)
    mfa = models.BooleanField(default=False, help_text="The login that started this family checked a TOTP code")
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    rotated_at = models.DateTimeField(null=True, blank=True, help_text="Exchanged for a new token; reuse is theft")
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "revoked_at"])]

    def __str__(self) -> str:
        return f"refresh token {self.pk} of user {self.user_id}"


class OneTimeTokenPurpose(models.TextChoices):
    EMAIL_VERIFY = "email_verify", "E-mail verification"
    PASSWORD_RESET = "password_reset", "Password reset"


class OneTimeToken(models.Model):
    """A single-use, expiring secret sent by e-mail (verification link, password reset), stored hashed."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="one_time_tokens")
    purpose = models.CharField(max_length=20, choices=OneTimeTokenPurpose.choices)
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "purpose", "used_at"])]

    def __str__(self) -> str:
        return f"{self.purpose} token {self.pk}"
