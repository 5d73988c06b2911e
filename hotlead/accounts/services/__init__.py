"""Account services: login and tokens, MFA, passwords, e-mailed one-time tokens."""
from hotlead.accounts.services.login import (  # noqa: F401
    TokenPair,
    auth_login,
    auth_logout,
    auth_refresh,
    email_normalize,
    login_allowed_check,
    login_failure_record,
    login_role_check_register,
    login_success_record,
    login_throttle,
    password_check,
    token_pair_issue,
)
from hotlead.accounts.services.mfa import (  # noqa: F401
    mfa_device_revoke,
    totp_confirmed_device_exists,
    totp_provisioning_uri,
    totp_secret_base32,
    totp_setup_confirm,
    totp_setup_start,
    totp_verify,
)
from hotlead.accounts.services.one_time import (  # noqa: F401
    InvalidToken,
    one_time_token_consume,
    one_time_token_create,
    one_time_token_peek,
)
from hotlead.accounts.services.passwords import (  # noqa: F401
    password_reset_complete,
    password_reset_request,
    password_reset_send,
    password_validate,
    user_password_change,
    user_password_set_by_staff,
)
from hotlead.accounts.services.revocation import (  # noqa: F401
    refresh_family_revoke,
    refresh_tokens_revoke_all,
    user_token_version_bump,
)
