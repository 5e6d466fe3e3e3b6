# SPDX-License-Identifier: MIT
"""JWTs (SPEC §3) and the identity behind one: the token decides who, the database what they may do now."""

import time

import attrs
import jwt

import messages as msg
from security.durations import parse_duration
from store.errors import Forbidden, Unauthorized


@attrs.frozen
class Identity:
    """Who is calling, as the database says now (not as the token said when issued)."""

    user: object
    grants: object
    expires_at: int
    auth_time: int  # when the session began: the login (or password change) the token descends from

    def can(self, permission):
        return permission.lower() in self.grants.permissions

    def ensure_password_changed(self):
        """SPEC §10: a temporary password opens nothing but the way to replace it."""
        if self.user.mustChangePassword:
            raise Forbidden(msg.MUST_CHANGE_PASSWORD)


@attrs.frozen
class Issued:
    token: str
    expires_in: str  # the configured `jwt_expires`, or the seconds left when session_max_age cuts it short


class Tokens:
    DECODED_MAX = 1024  # tokens whose verified claims are remembered; the map is dropped when full

    def __init__(self, secret, expires, session_max_age):
        self.secret = secret
        self.expires_text = expires
        self.lifetime = parse_duration(expires)
        self.session_max_age = parse_duration(session_max_age)
        self.decoded = {}

    def issue(self, user, role_name, auth_time=None):
        """A token for a new session (auth_time None) or a refresh of one: never valid past the session's
        `session_max_age` (SPEC §10), however often it is refreshed."""
        now = int(time.time())
        auth_time = now if auth_time is None else auth_time
        exp = min(now + self.lifetime, auth_time + self.session_max_age)
        if exp <= now:  # a session older than a session_max_age lowered since it began
            raise Unauthorized(msg.TOKEN_INVALID)
        claims = {
            "idUser": user.idUser,
            "email": user.email,
            "roleId": user.roleId,
            "roleName": role_name,
            "ver": user.tokenVersion,
            "auth_time": auth_time,
            "iat": now,
            "exp": exp,
        }
        expires_in = self.expires_text if exp == now + self.lifetime else str(exp - now)
        return Issued(jwt.encode(claims, self.secret, algorithm="HS256"), expires_in)

    def decode(self, token):
        """Verified claims; a token seen before skips the HMAC and parsing but not the expiry check."""
        claims = self.decoded.get(token)
        if claims is not None:
            if claims["exp"] <= time.time():
                del self.decoded[token]
                raise Unauthorized(msg.TOKEN_INVALID)
            return claims
        claims = self._verify(token)
        if len(self.decoded) >= self.DECODED_MAX:
            self.decoded.clear()
        self.decoded[token] = claims
        return claims

    def _verify(self, token):
        try:
            claims = jwt.decode(token, self.secret, algorithms=["HS256"], options={"require": ["exp", "iat"]})
        except jwt.PyJWTError:
            raise Unauthorized(msg.TOKEN_INVALID) from None
        if not isinstance(claims.get("idUser"), int) or not isinstance(claims.get("ver"), int):
            raise Unauthorized(msg.TOKEN_INVALID)
        claims.setdefault("auth_time", claims["iat"])  # issued before sessions had a start: counts from its own
        if not isinstance(claims["auth_time"], int) or not isinstance(claims["iat"], int):
            raise Unauthorized(msg.TOKEN_INVALID)
        return claims


class Authenticator:
    """Token → Identity, with the (fix) checks of SPEC §3 served from the auth cache."""

    def __init__(self, tokens, cache):
        self.tokens = tokens
        self.cache = cache

    async def identify(self, token):
        claims = self.tokens.decode(token)
        user = await self.cache.user(claims["idUser"])
        if user is None or not user.isActive or user.tokenVersion != claims["ver"]:
            raise Unauthorized(msg.TOKEN_INVALID)
        grants = await self.cache.grants(user.roleId)
        if grants is None:
            raise Unauthorized(msg.TOKEN_INVALID)
        return Identity(user, grants, claims["exp"], claims["auth_time"])
