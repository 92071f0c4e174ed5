"""API tokens: issue, revoke and authenticate the credentials machine clients send.

A token reads ``rdk_<prefix>_<secret>``. The prefix is public (it names the token in lists and
finds its row); the secret is 256 random bits. Only SHA-256 of the whole token is stored, which is
enough for a secret with that much entropy: nobody can guess it, so a slow hash buys nothing and
would cost every API request.
"""

import hashlib
import hmac
import secrets
import string
from datetime import datetime, timedelta

from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from members.errors import ApplicationError
from members.models import ApiToken, Organisation, User

TOKEN_SCHEME = "rdk"
PREFIX_LENGTH = 8
PREFIX_ALPHABET = string.ascii_lowercase + string.digits
SECRET_BYTES = 32  # token_urlsafe(32) gives 43 characters
MIN_SECRET_LENGTH = 32
NAME_MAX_LENGTH = ApiToken._meta.get_field("name").max_length
# Writing last_used_at on every request would turn each read into a write; a minute is precise enough.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def token_hash(plaintext: str) -> str:
    return hashlib.sha256(plaintext.encode()).hexdigest()


def _new_prefix() -> str:
    return "".join(secrets.choice(PREFIX_ALPHABET) for _position in range(PREFIX_LENGTH))


def token_split(plaintext: str) -> tuple[str, str] | None:
    """Return (prefix, secret) of a well-formed token, or None for anything else."""
    scheme, sep, rest = plaintext.partition("_")
    if scheme != TOKEN_SCHEME or not sep:
        return None
    prefix, sep, secret = (
        rest[:PREFIX_LENGTH],
        rest[PREFIX_LENGTH : PREFIX_LENGTH + 1],
        rest[PREFIX_LENGTH + 1 :],
    )
    if sep != "_" or len(prefix) != PREFIX_LENGTH or any(c not in PREFIX_ALPHABET for c in prefix):
        return None
    if len(secret) < MIN_SECRET_LENGTH:
        return None
    return prefix, secret


def _check_org_admin(actor) -> None:
    if not actor.is_org_admin or actor.organisation_id is None:
        raise ApplicationError(
            _("Only an organisation administrator may manage API tokens."),
            code="not_permitted",
            status_code=403,
        )


def api_token_issue(
    *, actor: User | None, user: User, name: str, expires_at: datetime | None = None
) -> tuple[ApiToken, str]:
    """Issue a token acting as ``user`` and return it with its plaintext, which is never stored.

    ``actor`` is the organisation admin issuing it for themselves or a colleague; ``None`` means an
    operator on the server's command line (``manage.py issue_api_token``), who may issue for anyone.
    """
    if actor is not None:
        _check_org_admin(actor)
        if user.organisation_id != actor.organisation_id:
            raise ApplicationError(_("No such user in your organisation."), code="not_found", status_code=404)
    errors = {}
    name = (name or "").strip()
    if not name:
        errors["name"] = [_("Give the token a name, e.g. the system that will use it.")]
    elif len(name) > NAME_MAX_LENGTH:
        errors["name"] = [_("Use at most %(count)d characters.") % {"count": NAME_MAX_LENGTH}]
    if not user.is_active:
        errors["user"] = [_("This user is deactivated and cannot use a token.")]
    if expires_at is not None and expires_at <= timezone.now():
        errors["expires_at"] = [_("Choose an expiry in the future.")]
    if errors:
        raise ApplicationError(_("Please correct the errors below."), fields=errors)

    # A prefix collision is a one-in-trillions event; retrying is simpler than preventing it.
    for _attempt in range(5):
        prefix = _new_prefix()
        plaintext = f"{TOKEN_SCHEME}_{prefix}_{secrets.token_urlsafe(SECRET_BYTES)}"
        try:
            with transaction.atomic():
                token = ApiToken.objects.create(
                    user=user,
                    name=name,
                    prefix=prefix,
                    token_hash=token_hash(plaintext),
                    created_by=actor,
                    expires_at=expires_at,
                )
        except IntegrityError:
            continue
        return token, plaintext
    raise RuntimeError("Could not find a free API token prefix.")  # pragma: no cover


def api_token_revoke(*, actor: User, token: ApiToken) -> ApiToken:
    """Stop a token of the admin's organisation from working; revoking twice changes nothing."""
    _check_org_admin(actor)
    if token.user.organisation_id != actor.organisation_id:
        raise ApplicationError(
            _("No such API token in your organisation."), code="not_found", status_code=404
        )
    with transaction.atomic():
        locked = ApiToken.objects.select_for_update().get(pk=token.pk)
        if locked.revoked_at is None:
            locked.revoked_at = timezone.now()
            locked.revoked_by = actor
            locked.save(update_fields=["revoked_at", "revoked_by"])
    return locked


def _select_columns(model, alias):
    fields = model._meta.concrete_fields
    return [field.attname for field in fields], [f'{alias}."{field.column}"' for field in fields]


_TOKEN_FIELDS, _TOKEN_COLUMNS = _select_columns(ApiToken, "t")
_USER_FIELDS, _USER_COLUMNS = _select_columns(User, "u")
_ORGANISATION_FIELDS, _ORGANISATION_COLUMNS = _select_columns(Organisation, "o")
# Every API request runs this lookup: written out once instead of compiled by the ORM per request
# (the ORM's filter and select_related cost more than the query itself).
_TOKEN_WITH_USER_SQL = (
    f"SELECT {', '.join(_TOKEN_COLUMNS + _USER_COLUMNS + _ORGANISATION_COLUMNS)} "
    f'FROM "{ApiToken._meta.db_table}" t '
    f'JOIN "{User._meta.db_table}" u ON u."{User._meta.pk.column}" = t."{ApiToken.user.field.column}" '
    f'LEFT JOIN "{Organisation._meta.db_table}" o '
    f'ON o."{Organisation._meta.pk.column}" = u."{User.organisation.field.column}" '
    f'WHERE t."{ApiToken.prefix.field.column}" = %s'
)


def _token_with_user(prefix: str) -> ApiToken | None:
    """Return the token with this prefix, its user and the user's organisation loaded, or None."""
    with connection.cursor() as cursor:
        cursor.execute(_TOKEN_WITH_USER_SQL, [prefix])
        row = cursor.fetchone()
    if row is None:
        return None
    token_end = len(_TOKEN_FIELDS)
    user_end = token_end + len(_USER_FIELDS)
    token = ApiToken.from_db(connection.alias, _TOKEN_FIELDS, row[:token_end])
    user = User.from_db(connection.alias, _USER_FIELDS, row[token_end:user_end])
    organisation = None
    if user.organisation_id is not None:
        organisation = Organisation.from_db(connection.alias, _ORGANISATION_FIELDS, row[user_end:])
    User.organisation.field.set_cached_value(user, organisation)
    ApiToken.user.field.set_cached_value(token, user)
    return token


class TokenRejected(ApplicationError):
    """The presented token does not authenticate anybody (401)."""

    status_code = 401


def api_token_authenticate(*, plaintext: str, now: datetime | None = None) -> ApiToken:
    """Return the live token matching ``plaintext``, its user loaded; raise TokenRejected otherwise."""
    now = now or timezone.now()
    plaintext = plaintext.strip()
    parts = token_split(plaintext)
    token = _token_with_user(parts[0]) if parts is not None else None
    # Compare even when no row matched, so a wrong prefix costs the same as a wrong secret.
    stored_hash = token.token_hash if token is not None else "0" * 64
    matches = hmac.compare_digest(stored_hash, token_hash(plaintext))
    if token is None or not matches:
        raise TokenRejected(_("Invalid API token."), code="token_invalid")
    if token.revoked_at is not None:
        raise TokenRejected(_("This API token has been revoked."), code="token_revoked")
    if token.is_expired(now):
        raise TokenRejected(_("This API token has expired."), code="token_expired")
    user = token.user
    if not user.is_active or (user.organisation is not None and not user.organisation.is_active):
        raise TokenRejected(_("The user of this API token is deactivated."), code="user_inactive")
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
        # A conditional update: concurrent requests of one token write at most once a minute.
        ApiToken.objects.filter(pk=token.pk).exclude(last_used_at__gt=now - LAST_USED_RESOLUTION).update(
            last_used_at=now
        )
        token.last_used_at = now
    return token
